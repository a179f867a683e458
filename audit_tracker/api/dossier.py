"""API v1 for dossier builds: start one (202 and a job to poll), read a job, download its files.

The same service as the pages (``dossier.builds.request_build``) and the same download rules
and streaming (``web.files.send_build_output``). Options arrive as JSON
(``schemas.DossierRequest``); every problem is reported at once, in French:
``{"error": "...", "errors": ["...", ...]}`` with status 400.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
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
from . import bp, schemas
from .declare import Reply, endpoint

_INVALID = _l("Options du dossier invalides.")


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


def read_options(body: schemas.DossierRequest) -> DossierOptions:
    """The build's options from the checked body; an id listed twice counts once."""
    return DossierOptions(
        edition=body.edition,
        framework_ids=tuple(dict.fromkeys(body.framework_ids or ())),
        section_ids=tuple(dict.fromkeys(body.section_ids or ())),
        site_ids=tuple(dict.fromkeys(body.site_ids or ())),
        with_annexes=body.with_annexes,
        include_personal_data=body.include_personal_data,
        as_of=body.as_of,
    )


def _refuse(problems: list[str]):
    return jsonify(error=str(_INVALID), errors=problems), 400


@bp.post("/campaigns/<int:campaign_id>/dossier")
@requires(Permission.BUILD_DOSSIER)
@endpoint(
    "Lancer la construction du dossier de preuves (PDF, et ZIP)",
    description="Réservé à la direction, au responsable qualité et à l’administrateur. La "
    "construction se fait en arrière-plan : la réponse 202 donne `job_id` et l’en-tête "
    "`Location` du travail à suivre. Toutes les options sont facultatives ; une liste vide veut "
    "dire « tous ». Options invalides : 400 avec la liste des problèmes dans `errors`.",
    body=schemas.DossierRequest,
    replies={202: Reply(schemas.DossierStarted, "Construction mise en file d’attente",
                        headers={"Location": "URL du travail (GET /jobs/{job_id})"})},
    errors=(503,),
    problems=_INVALID,
)
def dossier_start(campaign_id: int, body: schemas.DossierRequest):
    """A build takes minutes: the client gets a job to poll, not a held connection."""
    campaign = get_campaign_or_404(campaign_id)
    try:
        build = builds.request_build(
            db.session,
            current_app._get_current_object(),
            campaign,
            read_options(body),
            current_user,
            with_zip=body.with_zip,
        )
    except DossierOptionsError as error:  # ids outside this campaign
        return _refuse([str(m) for m in error.messages])
    except jobs.JobError as error:
        abort(503, str(error))
    location = url_for("api.job_status", job_id=build.id)
    return {"job_id": build.id, "status": build.status.value}, 202, {"Location": location}


@bp.get("/campaigns/<int:campaign_id>/dossier")
@requires(Permission.READ)
@endpoint("Dossiers construits pour la campagne, les plus récents d’abord",
          replies={200: list[schemas.DossierJob]})
def dossier_list(campaign_id: int):
    """What was built before, so that a client can fetch it again instead of rebuilding."""
    campaign = get_campaign_or_404(campaign_id)
    found = builds.builds_of(db.session, campaign, current_app._get_current_object())
    return [job_json(b) for b in found]


@bp.get("/jobs/<int:job_id>")
@requires(Permission.READ)
@endpoint(
    "État d’une construction : statut, avancement, erreur, liens",
    description="`status` : queued, running, done ou failed ; `progress` de 0 à 100. Quand le "
    "dossier est prêt, `pdf_url` (et `zip_url`) donnent le téléchargement, s’il est permis au "
    "compte. Une construction dont le processus a disparu est déclarée `failed` avec son "
    "explication.",
    replies={200: schemas.DossierJob},
)
def job_status(job_id: int):
    """Polled: never cached, or the client would wait on a stale « running »."""
    return job_json(_job_or_404(job_id)), 200, {"Cache-Control": "no-store"}


_DOWNLOAD_RULES = (
    "403 pour un dossier incluant des données personnelles quand le compte n’est ni la "
    "direction ni le responsable qualité, et pour un responsable de site quand le dossier "
    "couvre d’autres sites que le sien. 404 tant que la construction n’est pas terminée."
)


@bp.get("/jobs/<int:job_id>/dossier.pdf")
@requires(Permission.READ)
@endpoint("Télécharger le dossier PDF", description=_DOWNLOAD_RULES,
          replies={200: Reply(None, "Le fichier", "application/pdf")})
def job_pdf(job_id: int):
    """The page's streaming and download rules, shared."""
    return send_build_output(_job_or_404(job_id), PDF)


@bp.get("/jobs/<int:job_id>/dossier.zip")
@requires(Permission.READ)
@endpoint("Télécharger l’archive ZIP (originaux, manifeste)", description=_DOWNLOAD_RULES,
          replies={200: Reply(None, "Le fichier", "application/zip")})
def job_zip(job_id: int):
    """The page's streaming and download rules, shared."""
    return send_build_output(_job_or_404(job_id), ZIP)
