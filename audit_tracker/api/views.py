"""API v1 routes. Each one declares its permission like any page, and its inputs and answers."""

from __future__ import annotations

from flask import abort, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.permissions import Permission, public, requires
from ..campaigns import service as campaigns
from ..clock import local_today
from ..extensions import db
from ..models import Criterion, Framework
from ..referentiel import service as framework_service
from ..web.lookups import get_campaign_or_404
from . import bp, schemas, serializers
from .declare import Reply, endpoint
from .openapi import openapi_document


@bp.get("/openapi.json")
@public
@endpoint("Ce document", replies={200: Reply(description="Document OpenAPI")})
def openapi():
    """Public, so that a client can be generated before anyone holds a token."""
    return jsonify(openapi_document(request.path.removesuffix("/openapi.json")))


@bp.get("/frameworks")
@requires(Permission.READ)
@endpoint("Référentiels et leurs versions", replies={200: list[schemas.Framework]})
def frameworks():
    """Every version, flagged ``latest`` so that a client can follow the current one."""
    summaries = framework_service.list_frameworks(db.session)
    seen: set[str] = set()
    items = []
    for summary in summaries:  # newest version of each code comes first
        items.append(serializers.framework_summary(summary, summary.framework.code not in seen))
        seen.add(summary.framework.code)
    return items


@bp.get("/frameworks/<code>/criteria")
@requires(Permission.READ)
@endpoint(
    "Critères d’un référentiel (dernière version, ou ?version=)",
    query=schemas.CriteriaQuery,
    replies={200: list[schemas.Criterion]},
)
def framework_criteria(code: str, query: schemas.CriteriaQuery):
    """By code, as a client knows it; the id changes with each imported version."""
    select_framework = select(Framework).where(Framework.code == code)
    if query.version:
        select_framework = select_framework.where(Framework.version == query.version)
    framework = db.session.scalar(select_framework.order_by(Framework.id.desc()).limit(1))
    if framework is None:
        abort(404, _("Référentiel inconnu : %(code)s.", code=code))
    criteria = db.session.scalars(
        select(Criterion)
        .where(Criterion.framework_id == framework.id)
        .options(selectinload(Criterion.section))
        .order_by(Criterion.position)
    )
    return [serializers.criterion(c) for c in criteria]


@bp.get("/campaigns")
@requires(Permission.READ)
@endpoint("Campagnes de l’école", replies={200: list[schemas.Campaign]})
def campaign_list():
    """The school's campaigns only: the token's account decides which."""
    today = local_today()
    items = campaigns.campaigns_for_school(db.session, current_user.school_id)
    return [serializers.campaign(c, today, with_milestones=False) for c in items]


@bp.get("/campaigns/<int:campaign_id>")
@requires(Permission.READ)
@endpoint("Une campagne avec ses échéances", replies={200: schemas.CampaignDetail})
def campaign_detail(campaign_id: int):
    """With each milestone's phase and countdown as of the app's today."""
    campaign = get_campaign_or_404(campaign_id)
    return serializers.campaign(campaign, local_today(), with_milestones=True)
