"""Dossier pages: the options form, the list of builds, a build's progress page and downloads.

Who may do what: building needs Permission.BUILD_DOSSIER (direction, qualité, admin); reading
the list and the progress is for every reader of the school; downloading too, with the proofs'
own limits carried over to the document that contains them (:func:`can_download`).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.permissions import Permission, requires
from ..campaigns.views import get_campaign_or_404
from ..clock import local_today
from ..evidence.views import filename_parameters
from ..extensions import db
from ..models import BuildStatus, Campaign, DossierBuild, Role, Section, User
from ..storage import DOSSIERS, StorageError, storage_for
from . import jobs
from .builder import check_options
from .forms import DossierForm
from .options import DossierOptions, DossierOptionsError

bp = Blueprint("dossier", __name__)

PDF, ZIP = "pdf", "zip"


# ------------------------------------------------------------------------------ access helpers


def get_build_or_404(campaign: Campaign, build_id: int) -> DossierBuild:
    """A build of this campaign (already the user's school's), lost builds marked failed."""
    build = db.session.scalar(
        select(DossierBuild).where(
            DossierBuild.id == build_id, DossierBuild.campaign_id == campaign.id
        )
    )
    if build is None:
        abort(404)
    jobs.recover_stale(db.session, [build], current_app._get_current_object())
    return build


def download_refusal(user: User, build: DossierBuild) -> str | None:
    """Why ``user`` may not download ``build`` (French), or None when they may.

    A dossier carries its proofs, so it carries their limits: one that includes learners'
    personal data is for the direction and the quality lead only (as those proofs' files are,
    bar their owner and site); a site manager sees their own site's and the school-wide proofs,
    so only a dossier restricted to their own site.
    """
    options = build.options or {}
    if options.get("include_personal_data") and user.role not in {Role.DIRECTION, Role.QUALITE}:
        return _(
            "Ce dossier contient des données personnelles d’apprenants : il est réservé à la "
            "direction et au responsable qualité."
        )
    if user.role is Role.SITE and list(options.get("site_ids") or []) != [user.site_id]:
        return _(
            "Ce dossier couvre d’autres sites que le vôtre : seuls les dossiers limités à votre "
            "site vous sont accessibles."
        )
    return None


def can_download(user: User, build: DossierBuild) -> bool:
    return download_refusal(user, build) is None


def send_output(build: DossierBuild, which: str) -> Response:
    """Stream the build's PDF or ZIP from storage, as an attachment."""
    refusal = download_refusal(current_user, build)
    if refusal:
        abort(403, refusal)
    if build.status is not BuildStatus.DONE:
        abort(404, _("Ce dossier n’est pas (ou pas encore) disponible."))
    key, size, digest = (
        (build.pdf_key, build.size, build.sha256)
        if which == PDF
        else (build.zip_key, build.zip_size, build.zip_sha256)
    )
    if not key:
        abort(404, _("Cette construction n’a pas produit d’archive ZIP."))
    storage = storage_for(current_app, DOSSIERS)
    try:
        present = storage.exists(key)
    except StorageError:
        present = False
    if not present:
        current_app.logger.error("Stored dossier missing: %s", key)
        abort(404, _("Le fichier de ce dossier est introuvable dans le stockage."))
    response = Response(
        storage.open_chunks(key),
        mimetype="application/pdf" if which == PDF else "application/zip",
        direct_passthrough=True,
    )
    if size is not None:
        response.headers["Content-Length"] = str(size)
    response.headers.set("Content-Disposition", "attachment", **filename_parameters(
        output_filename(build, which)))
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    if digest:
        response.set_etag(digest)  # a finished build never changes
    return response.make_conditional(request)


def output_filename(build: DossierBuild, which: str) -> str:
    """« dossier-E2C-Var-2018-04-10-n7.pdf »: the school, the build's day and its number."""
    school = build.campaign.school.short_name.replace(" ", "-")
    day = jobs._aware(build.created_at).date().isoformat()
    return f"dossier-{school}-{day}-n{build.id}.{which}"


# -------------------------------------------------------------------------------------- views


def _populate(form: DossierForm, campaign: Campaign) -> None:
    form.framework_ids.choices = [(f.id, f.label) for f in campaign.frameworks]
    sections = db.session.scalars(
        select(Section)
        .where(Section.framework_id.in_([f.id for f in campaign.frameworks]))
        .order_by(Section.framework_id, Section.position, Section.id)
    )
    labels = {f.id: f.name for f in campaign.frameworks}
    form.section_ids.choices = [
        (s.id, f"{labels[s.framework_id]} — {s.code} {s.title}") for s in sections
    ]
    form.site_ids.choices = [(s.id, s.name) for s in campaign.school.sites]


@bp.route("")
@requires(Permission.READ)
def index(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    builds = jobs.builds_of(db.session, campaign)
    return render_template(
        "dossier/index.html",
        campaign=campaign,
        rows=[(b, jobs.describe_options(db.session, b), can_download(current_user, b))
              for b in builds],
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@requires(Permission.BUILD_DOSSIER)
def new(campaign_id: int):
    from ..readiness.rules import default_reference_date

    campaign = get_campaign_or_404(campaign_id)
    form = DossierForm()
    _populate(form, campaign)
    if request.method == "GET":
        form.as_of.data = default_reference_date(campaign, local_today())
        form.with_annexes.data = True
        form.with_zip.data = True
    if form.validate_on_submit():
        try:
            options = DossierOptions(
                framework_ids=tuple(form.framework_ids.data or ()),
                section_ids=tuple(form.section_ids.data or ()),
                site_ids=tuple(form.site_ids.data or ()),
                with_annexes=form.with_annexes.data,
                include_personal_data=form.include_personal_data.data,
                as_of=form.as_of.data,
            )
            check_options(campaign, options)  # ids of this campaign, each problem listed
            build = jobs.start_build(
                db.session,
                current_app._get_current_object(),
                campaign,
                options,
                current_user,
                with_zip=form.with_zip.data,
            )
        except DossierOptionsError as error:
            for message in getattr(error, "messages", None) or [str(error)]:
                flash(str(message), "danger")
        except jobs.DossierJobError as error:
            flash(str(error), "danger")
        else:
            flash(_("La construction du dossier a commencé."), "success")
            return redirect(url_for(".show", campaign_id=campaign.id, build_id=build.id))
    status_code = 400 if request.method == "POST" else 200
    return render_template("dossier/new.html", campaign=campaign, form=form), status_code


@bp.route("/<int:build_id>")
@requires(Permission.READ)
def show(campaign_id: int, build_id: int):
    campaign = get_campaign_or_404(campaign_id)
    build = get_build_or_404(campaign, build_id)
    return render_template(
        "dossier/show.html",
        campaign=campaign,
        build=build,
        summary=jobs.describe_options(db.session, build),
        refusal=download_refusal(current_user, build),
    )


@bp.route("/<int:build_id>/etat")
@requires(Permission.READ)
def status(campaign_id: int, build_id: int):
    """The page's poll: a small JSON read every second while the build runs."""
    campaign = get_campaign_or_404(campaign_id)
    build = get_build_or_404(campaign, build_id)
    data = jobs.status_of(build)
    data.update(page_urls(build))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:build_id>/dossier.pdf")
@requires(Permission.READ)
def download_pdf(campaign_id: int, build_id: int):
    return send_output(get_build_or_404(get_campaign_or_404(campaign_id), build_id), PDF)


@bp.route("/<int:build_id>/dossier.zip")
@requires(Permission.READ)
def download_zip(campaign_id: int, build_id: int):
    return send_output(get_build_or_404(get_campaign_or_404(campaign_id), build_id), ZIP)


def page_urls(build: DossierBuild) -> dict[str, str | None]:
    done = build.status is BuildStatus.DONE and can_download(current_user, build)
    return {
        "pdf_url": url_for(".download_pdf", campaign_id=build.campaign_id, build_id=build.id)
        if done
        else None,
        "zip_url": url_for(".download_zip", campaign_id=build.campaign_id, build_id=build.id)
        if done and build.zip_key
        else None,
    }
