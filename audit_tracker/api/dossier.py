"""API v1 for dossier builds: start one (202 and a job to poll), read a job, download its files.

The same service as the pages (``dossier.builds.request_build``) and the same download rules
and streaming (``web.files.send_build_output``). Options arrive as JSON; every problem is
reported at once, in French: ``{"error": "...", "errors": ["...", ...]}`` with status 400.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import jobs
from ..accounts.permissions import Permission, requires
from ..dossier import builds
from ..dossier.builds import PDF, ZIP
from ..dossier.options import DossierOptions, DossierOptionsError
from ..extensions import db
from ..models import BuildStatus, Campaign, DossierBuild
from ..web.files import send_build_output
from ..web.lookups import get_campaign_or_404
from . import bp, inputs


def _job_or_404(job_id: int) -> DossierBuild:
    """A build of the user's school; another school's does not exist."""
    build = db.session.scalar(
        select(DossierBuild)
        .join(Campaign, Campaign.id == DossierBuild.campaign_id)
        .where(DossierBuild.id == job_id, Campaign.school_id == current_user.school_id)
    )
    if build is None:
        abort(404, _("Travail introuvable."))
    jobs.show_lost([build], current_app._get_current_object())
    return build


def job_json(build: DossierBuild) -> dict:
    data = builds.status_of(build)
    done = build.status is BuildStatus.DONE and builds.can_download(current_user, build)
    data["pdf_url"] = url_for("api.job_pdf", job_id=build.id) if done else None
    data["zip_url"] = url_for("api.job_zip", job_id=build.id) if done and build.zip_key else None
    data["url"] = url_for("api.job_status", job_id=build.id)
    return data


def read_options(body: dict):
    """The options of the JSON body and every problem found in it (French), all at once."""
    body = dict(body)
    problems: list[str] = []
    with_zip = body.pop("with_zip", True)
    if not isinstance(with_zip, bool):
        problems.append(_("« %(field)s » doit valoir true ou false.", field="with_zip"))
    options = None
    try:
        options = DossierOptions.from_json(body)
    except DossierOptionsError as error:
        problems.extend(str(m) for m in error.messages)
    return options, with_zip, problems


def _refuse(problems: list[str]):
    return jsonify(error=_("Options du dossier invalides."), errors=problems), 400


@bp.post("/campaigns/<int:campaign_id>/dossier")
@requires(Permission.BUILD_DOSSIER)
def dossier_start(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    options, with_zip, problems = read_options(inputs.json_body())
    if problems:
        return _refuse(problems)
    try:
        build = builds.request_build(
            db.session,
            current_app._get_current_object(),
            campaign,
            options,
            current_user,
            with_zip=with_zip,
        )
    except DossierOptionsError as error:  # ids outside this campaign
        return _refuse([str(m) for m in error.messages])
    except jobs.JobError as error:
        abort(503, str(error))
    response = jsonify(job_id=build.id, status=build.status.value)
    response.status_code = 202
    response.headers["Location"] = url_for("api.job_status", job_id=build.id)
    return response


@bp.get("/campaigns/<int:campaign_id>/dossier")
@requires(Permission.READ)
def dossier_list(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    found = builds.builds_of(db.session, campaign, current_app._get_current_object())
    return jsonify([job_json(b) for b in found])


@bp.get("/jobs/<int:job_id>")
@requires(Permission.READ)
def job_status(job_id: int):
    response = jsonify(job_json(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/jobs/<int:job_id>/dossier.pdf")
@requires(Permission.READ)
def job_pdf(job_id: int):
    return send_build_output(_job_or_404(job_id), PDF)


@bp.get("/jobs/<int:job_id>/dossier.zip")
@requires(Permission.READ)
def job_zip(job_id: int):
    return send_build_output(_job_or_404(job_id), ZIP)
