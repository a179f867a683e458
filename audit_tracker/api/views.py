"""API v1 routes. Each one declares its permission like any page."""

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
from ..referentiel import service as referentiels
from ..web.lookups import get_campaign_or_404
from . import bp, serializers
from .openapi import openapi_document


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(openapi_document())


@bp.get("/frameworks")
@requires(Permission.READ)
def frameworks():
    summaries = referentiels.list_frameworks(db.session)
    seen: set[str] = set()
    items = []
    for summary in summaries:  # newest version of each code comes first
        items.append(serializers.framework_summary(summary, summary.framework.code not in seen))
        seen.add(summary.framework.code)
    return jsonify(items)


@bp.get("/frameworks/<code>/criteria")
@requires(Permission.READ)
def framework_criteria(code: str):
    query = select(Framework).where(Framework.code == code)
    version = request.args.get("version")
    if version:
        query = query.where(Framework.version == version)
    framework = db.session.scalar(query.order_by(Framework.id.desc()).limit(1))
    if framework is None:
        abort(404, _("Référentiel inconnu : %(code)s.", code=code))
    criteria = db.session.scalars(
        select(Criterion)
        .where(Criterion.framework_id == framework.id)
        .options(selectinload(Criterion.section))
        .order_by(Criterion.position)
    )
    return jsonify([serializers.criterion(c) for c in criteria])


@bp.get("/campaigns")
@requires(Permission.READ)
def campaign_list():
    today = local_today()
    items = campaigns.campaigns_for_school(db.session, current_user.school_id)
    return jsonify([serializers.campaign(c, today, with_milestones=False) for c in items])


@bp.get("/campaigns/<int:campaign_id>")
@requires(Permission.READ)
def campaign_detail(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    return jsonify(serializers.campaign(campaign, local_today(), with_milestones=True))
