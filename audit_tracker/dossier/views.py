"""Dossier pages: the options form, the list of builds, a build's progress page and downloads.

Who may do what: building needs Permission.BUILD_DOSSIER (direction, qualité, admin); reading
the list and the progress is for every reader of the school; downloading too, with the proofs'
own limits carried over to the document that contains them (``builds.download_refusal``).
"""

from __future__ import annotations

from flask import (
    Blueprint,
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

from .. import jobs
from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..models import BuildStatus, Campaign, DossierBuild, Section
from ..readiness.rules import default_reference_date
from ..web.files import send_build_output
from ..web.lookups import get_campaign_or_404
from . import builds
from .builds import PDF, ZIP
from .forms import DossierForm
from .options import DossierOptions, DossierOptionsError, Edition

bp = Blueprint("dossier", __name__)


# ------------------------------------------------------------------------------ access helpers


def get_build_or_404(campaign: Campaign, build_id: int) -> DossierBuild:
    """A build of this campaign (already the user's school's); a lost one shows as failed."""
    build = db.session.scalar(
        select(DossierBuild).where(
            DossierBuild.id == build_id, DossierBuild.campaign_id == campaign.id
        )
    )
    if build is None:
        abort(404)
    jobs.show_lost([build], current_app._get_current_object())
    return build


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
    """Earlier builds stay listed, to download again what was sent to the auditor."""
    campaign = get_campaign_or_404(campaign_id)
    found = builds.builds_of(db.session, campaign, current_app._get_current_object())
    return render_template(
        "dossier/index.html",
        campaign=campaign,
        rows=[(b, builds.describe_options(db.session, b), builds.can_download(current_user, b))
              for b in found],
    )


@bp.route("/nouveau", methods=["GET", "POST"])
@requires(Permission.BUILD_DOSSIER)
def new(campaign_id: int):
    """Defaults to the next audit's date with annexes and ZIP; the build runs in the background."""
    campaign = get_campaign_or_404(campaign_id)
    form = DossierForm()
    _populate(form, campaign)
    if request.method == "GET":
        form.as_of.data = default_reference_date(campaign, local_today())
        form.edition.data = Edition.SCHOOL.value
        form.with_annexes.data = True
        form.with_zip.data = True
    if form.validate_on_submit():
        try:
            options = DossierOptions(
                edition=Edition(form.edition.data),
                framework_ids=tuple(form.framework_ids.data or ()),
                section_ids=tuple(form.section_ids.data or ()),
                site_ids=tuple(form.site_ids.data or ()),
                with_annexes=form.with_annexes.data,
                include_personal_data=form.include_personal_data.data,
                as_of=form.as_of.data,
            )
            build = builds.request_build(
                db.session,
                current_app._get_current_object(),
                campaign,
                options,
                current_user,
                with_zip=form.with_zip.data,
            )
        except DossierOptionsError as error:  # ids outside this campaign, each one listed
            for message in error.messages:
                flash(str(message), "danger")
        except jobs.JobError as error:
            flash(str(error), "danger")
        else:
            flash(_("La construction du dossier a commencé."), "success")
            return redirect(url_for(".show", campaign_id=campaign.id, build_id=build.id))
    status_code = 400 if request.method == "POST" else 200
    return render_template("dossier/new.html", campaign=campaign, form=form), status_code


@bp.route("/<int:build_id>")
@requires(Permission.READ)
def show(campaign_id: int, build_id: int):
    """The progress page a build request lands on; it says why a download would be refused."""
    campaign = get_campaign_or_404(campaign_id)
    build = get_build_or_404(campaign, build_id)
    return render_template(
        "dossier/show.html",
        campaign=campaign,
        build=build,
        summary=builds.describe_options(db.session, build),
        refusal=builds.download_refusal(current_user, build),
        seal=builds.build_seal_state(build),
    )


@bp.route("/<int:build_id>/etat")
@requires(Permission.READ)
def status(campaign_id: int, build_id: int):
    """The page's poll: a small JSON read every second while the build runs."""
    campaign = get_campaign_or_404(campaign_id)
    build = get_build_or_404(campaign, build_id)
    data = builds.status_of(build)
    data.update(page_urls(build))
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:build_id>/dossier.pdf")
@requires(Permission.READ)
def download_pdf(campaign_id: int, build_id: int):
    """Checked like the page: no proof reaches a reader through the dossier they may not see."""
    return send_build_output(get_build_or_404(get_campaign_or_404(campaign_id), build_id), PDF)


@bp.route("/<int:build_id>/dossier.zip")
@requires(Permission.READ)
def download_zip(campaign_id: int, build_id: int):
    """The originals and their manifest, with the same limits as the PDF."""
    return send_build_output(get_build_or_404(get_campaign_or_404(campaign_id), build_id), ZIP)


def page_urls(build: DossierBuild) -> dict[str, str | None]:
    done = build.status is BuildStatus.DONE and builds.can_download(current_user, build)
    return {
        "pdf_url": url_for(".download_pdf", campaign_id=build.campaign_id, build_id=build.id)
        if done
        else None,
        "zip_url": url_for(".download_zip", campaign_id=build.campaign_id, build_id=build.id)
        if done and build.zip_key
        else None,
    }
