"""Evidence pages: library and search, upload, detail with versions, review and links."""

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
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..campaigns.service import next_commission_day, school_milestones
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..extensions import db
from ..i18n import to_criterion
from ..models import (
    Campaign,
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceKind,
    EvidenceVersion,
    Framework,
    MilestoneKind,
    ReviewStatus,
    campaign_framework,
)
from ..storage import EVIDENCE, storage_for, upload_tmp_dir
from ..web.files import send_version
from ..web.history import render_history
from ..web.lookups import school_sites
from ..web.navigation import local_path
from . import erasure, queue, service
from .forms import (
    EditEvidenceForm,
    EraseForm,
    LinkForm,
    NewEvidenceForm,
    QueueDecisionForm,
    ReviewForm,
    SearchForm,
    VersionForm,
)

bp = Blueprint("evidence", __name__)


# ------------------------------------------------------------------------------------ helpers


def get_evidence_or_404(evidence_id: int) -> Evidence:
    """The proof if the user may see it; 404 otherwise (another school's does not exist)."""
    evidence = service.get_visible(db.session, current_user, evidence_id)
    if evidence is None:
        site = service.hidden_site_of(db.session, current_user, evidence_id)
        if site is not None:
            abort(403, _("Cette preuve appartient au site %(site)s : en tant que responsable "
                         "d’un autre site, vous ne pouvez pas l’ouvrir. La direction ou le "
                         "responsable qualité peuvent vous la montrer.", site=site.name))
        abort(404)
    return evidence


def get_editable_or_403(evidence_id: int) -> Evidence:
    evidence = get_evidence_or_404(evidence_id)
    if not service.can_edit(current_user, evidence):
        abort(403)
    return evidence


def get_version_or_404(evidence: Evidence, number: int) -> EvidenceVersion:
    version = next((v for v in evidence.versions if v.number == number), None)
    if version is None:
        abort(404)
    return version


def _site_choices(include_all: bool = False) -> list[SelectChoice]:
    first = SelectChoice(-1, _("Tous")) if include_all else None
    choices = [SelectChoice(0, _("Toute l’école"))]
    choices += [SelectChoice(site.id, site.name) for site in school_sites()]
    return [first, *choices] if first else choices


def _criterion_choices() -> list[SelectChoice]:
    """Criteria of the frameworks of the school's campaigns, grouped by framework."""
    in_campaigns = (
        select(campaign_framework.c.framework_id)
        .join(Campaign, Campaign.id == campaign_framework.c.campaign_id)
        .where(Campaign.school_id == current_user.school_id)
    )
    frameworks = list(
        db.session.scalars(
            select(Framework)
            .where(Framework.id.in_(in_campaigns))
            .options(selectinload(Framework.criteria))
            .order_by(Framework.code)
        )
    )
    return [
        SelectChoice(c.id, f"{c.code} · {c.title[:110]}", optgroup=f.label)
        for f in frameworks
        for c in f.criteria
    ]


def _fields_from(form, kind: EvidenceKind) -> service.EvidenceFields:
    sites = {site.id: site for site in school_sites()}
    return service.EvidenceFields(
        title=form.title.data or "",
        kind=kind,
        description=form.description.data or "",
        site=sites.get(form.site_id.data),
        url=form.url.data,
        paper_location=form.paper_location.data,
        paper_custodian=(form.paper_custodian.data or "").strip() or None,
        covers_from=form.covers_from.data,
        covers_to=form.covers_to.data,
        valid_until=form.valid_until.data,
        personal_data=form.personal_data.data,
        retention_until=form.retention_until.data,
    )


def _wants_json() -> bool:
    """The upload page's script sends files one by one and reads JSON back."""
    return request.headers.get("X-Requested-With") == "fetch"


def _refuse(message: str, status: int = 400):
    if _wants_json():
        return jsonify(error=message), status
    flash(message, "danger")
    return None


# -------------------------------------------------------------------------------------- pages


@bp.route("/")
@requires(Permission.READ)
def index():
    """The library, searched and filtered; expiry is measured against the next commission."""
    today = local_today()
    milestones = school_milestones(db.session, current_user.school_id, today)
    commission = next_commission_day(milestones)
    form = SearchForm(request.args)
    form.site.choices = _site_choices(include_all=True)
    form.status.choices = [SelectChoice("", _("Tous"))] + [
        SelectChoice(s.value, s.label) for s in ReviewStatus
    ]
    form.criterion.choices = [SelectChoice(0, _("Tous"))] + _criterion_choices()
    form.expiring.choices = [SelectChoice("", _("Toutes")), SelectChoice("expirees", _("Expirées"))]
    if commission:
        form.expiring.choices.append(SelectChoice("commission", _("Expirant avant la commission")))
    filters = service.SearchFilters(
        query=form.q.data or "",
        site_id=None if form.site.data in (None, -1) else form.site.data,
        status=ReviewStatus(form.status.data) if form.status.data else None,
        criterion_id=form.criterion.data or None,
        expiring_before={"expirees": today, "commission": commission}.get(form.expiring.data),
    )
    if form.site.data is None:
        form.site.data = -1
    items = service.search(db.session, current_user, filters)
    warnings = {e.id: service.validity_warnings(e, today, milestones) for e in items}
    retention_due = (erasure.due_within(db.session, today, school_id=current_user.school_id)
                     if has_permission(current_user, Permission.REVIEW_EVIDENCE) else [])
    return render_template(
        "evidence/index.html",
        form=form,
        items=items,
        warnings=warnings,
        retention_due=retention_due,
        can_add=has_permission(current_user, Permission.EDIT_EVIDENCE),
    )


def _school_criterion(raw: str | int | None) -> Criterion | None:
    """The criterion named by a form's hidden field, if it is one of the school's campaigns'
    (None when the field is empty); a wrong value is refused with a French message."""
    if raw in (None, ""):
        return None
    criterion_id = int(raw) if str(raw).isdigit() and len(str(raw)) < 10 else 0
    criterion = service.school_criterion(db.session, current_user.school_id, criterion_id)
    if criterion is None:
        raise service.EvidenceError(_("Choisissez un critère des référentiels de vos campagnes."))
    return criterion


def _duplicate(error: service.DuplicateFile, criterion: Criterion | None, note: str,
               back: str | None):
    """The same file is already in the library: say so, and offer to link the existing proof
    or to make the file a new version of it. Nothing is stored."""
    existing = error.existing
    may_edit = service.can_edit(current_user, existing)
    if _wants_json():
        return jsonify(
            error=str(error),
            duplicate={
                "id": existing.id,
                "title": existing.title,
                "url": url_for("evidence.detail", evidence_id=existing.id),
                "link_url": url_for("evidence.link", evidence_id=existing.id)
                if criterion is not None and may_edit else None,
                "version_url": url_for("evidence.add_version", evidence_id=existing.id)
                if may_edit and existing.kind is EvidenceKind.FILE else None,
                "already_linked": criterion is not None
                and any(link.criterion_id == criterion.id for link in existing.links),
            },
        ), 409
    return render_template(
        "evidence/duplicate.html", message=str(error), existing=existing, criterion=criterion,
        note=note, back=back, may_edit=may_edit, version_form=VersionForm(),
        already_linked=criterion is not None
        and any(link.criterion_id == criterion.id for link in existing.links),
    ), 409


@bp.route("/nouvelle", methods=["GET", "POST"])
@requires(Permission.EDIT_EVIDENCE)
def create():
    """JSON for the upload page's script, which sends files one by one; HTML otherwise."""
    form = NewEvidenceForm()
    form.kind.choices = [SelectChoice(k.value, k.label) for k in EvidenceKind]
    form.site_id.choices = _site_choices()
    if current_user.site_id and not form.is_submitted():
        form.site_id.data = current_user.site_id
    back = local_path(form.next.data)
    if form.validate_on_submit():
        kind = EvidenceKind(form.kind.data)
        upload = None
        criterion = None
        try:
            criterion = _school_criterion(form.criterion_id.data)
            if kind is EvidenceKind.FILE:
                file = form.file.data
                if not file or not file.filename:
                    raise service.EvidenceError(_("Choisissez un fichier à déposer."))
                upload = service.receive_file(
                    file.stream,
                    file.filename,
                    upload_tmp_dir(current_app),
                    current_app.config["MAX_CONTENT_LENGTH"],
                )
            fields = _fields_from(form, kind)
            evidence = service.create_evidence(
                db.session,
                storage_for(current_app, EVIDENCE),
                school=current_user.school,
                author=current_user,
                fields=fields,
                upload=upload,
                criterion=criterion,
                note=form.note.data or "",
                submit=criterion is not None,
                refuse_duplicate=True,
            )
            commit_or_conflict(db.session)
        except service.DuplicateFile as error:
            if upload:
                upload.discard()
            db.session.rollback()
            return _duplicate(error, criterion, form.note.data or "", back)
        except DomainError as error:
            if upload:
                upload.discard()
            db.session.rollback()
            refused = _refuse(str(error))
            if refused:
                return refused
            if back:
                return redirect(back)
        else:
            url = url_for("evidence.detail", evidence_id=evidence.id)
            if criterion is not None:
                flash(_("Preuve « %(title)s » enregistrée, liée %(to_criterion)s et envoyée à "
                        "la validation.", title=evidence.title,
                        to_criterion=to_criterion(criterion.label)),
                      "success")
            else:
                flash(_("Preuve « %(title)s » enregistrée.", title=evidence.title), "success")
            if _wants_json():
                return jsonify(id=evidence.id, title=evidence.title, url=url), 201
            return redirect(back or url)
    elif form.is_submitted() and _wants_json():
        errors = [
            f"{form[name].label.text} : {', '.join(str(m) for m in msgs)}"
            for name, msgs in form.errors.items()
        ]
        return jsonify(error=" ; ".join(errors)), 400
    elif form.is_submitted() and back:
        for name, msgs in form.errors.items():
            flash(f"{form[name].label.text} : {', '.join(str(m) for m in msgs)}", "danger")
        return redirect(back)
    return render_template("evidence/new.html", form=form)


@bp.route("/choisir")
@requires(Permission.READ)
def picker():
    """Linking a proof the library already holds must not mean remembering its exact title."""
    query = (request.args.get("q") or "").strip()[:200]
    wanted = request.args.get("critere", "")
    criterion_id = int(wanted) if wanted.isdigit() and len(wanted) < 10 else None
    found = service.picker_search(db.session, current_user, query) if query else []
    return jsonify(results=[
        {"id": e.id, "title": e.title, "kind": e.kind.label, "status": e.status.label,
         "url": url_for("evidence.detail", evidence_id=e.id),
         "link_url": url_for("evidence.link", evidence_id=e.id),
         "criteria": sorted({link.criterion.code for link in e.links}),
         "linked": any(link.criterion_id == criterion_id for link in e.links)}
        for e in found
    ])


@bp.route("/<int:evidence_id>")
@requires(Permission.READ)
def detail(evidence_id: int):
    """One proof with everything done about it: versions, criteria served, review and warnings."""
    evidence = get_evidence_or_404(evidence_id)
    today = local_today()
    milestones = school_milestones(db.session, current_user.school_id, today)
    # Both selects open on a blank choice: a click on their button without choosing must not
    # link the first criterion of the list, nor validate the proof. The POST views do not list
    # the blank choice, so it is refused there with a message.
    link_form = LinkForm()
    link_form.criterion_id.choices = [SelectChoice(0, "—"), *_criterion_choices()]
    review_form = ReviewForm()
    review_form.decision.choices = [
        SelectChoice("", "—"),
        SelectChoice(ReviewStatus.VALIDATED.value, _("Valider")),
        SelectChoice(ReviewStatus.REFUSED.value, _("Refuser")),
    ]
    return render_template(
        "evidence/detail.html",
        evidence=evidence,
        warnings=service.validity_warnings(evidence, today, milestones),
        suggestions=service.suggested_criteria(db.session, evidence),
        can_edit=service.can_edit(current_user, evidence),
        can_review=has_permission(current_user, Permission.REVIEW_EVIDENCE),
        can_download=service.can_download(current_user, evidence),
        link_form=link_form,
        review_form=review_form,
        version_form=VersionForm(),
        erase_form=EraseForm(),
    )


@bp.get("/<int:evidence_id>/historique")
@requires(Permission.VIEW_HISTORY)
def history(evidence_id: int):
    """Who changed this proof, when and from where, for those who run the quality work."""
    evidence = get_evidence_or_404(evidence_id)
    return render_history("evidence", evidence.id, title=evidence.title,
                          back_url=url_for("evidence.detail", evidence_id=evidence.id))


@bp.route("/<int:evidence_id>/modifier", methods=["GET", "POST"])
@requires(Permission.EDIT_EVIDENCE)
def edit(evidence_id: int):
    """A stale form is a 409 that keeps what was typed beside what changed meanwhile."""
    evidence = get_editable_or_403(evidence_id)
    form = EditEvidenceForm(obj=evidence)
    form.site_id.choices = _site_choices()
    if not form.is_submitted():
        form.site_id.data = evidence.site_id or 0
        form.lock_version.data = evidence.lock_version
    if form.validate_on_submit():
        try:
            seen = int(form.lock_version.data or 0)
            service.update_fields(
                db.session, evidence, _fields_from(form, evidence.kind), current_user, seen
            )
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
            if isinstance(error, Conflict):
                db.session.rollback()
                # Keep what the user typed on screen; show what changed meanwhile beside it.
                current = get_evidence_or_404(evidence_id)
                return render_template(
                    "evidence/edit.html", form=form, evidence=current, conflict=True
                ), 409
        else:
            flash(_("Preuve enregistrée."), "success")
            return redirect(url_for("evidence.detail", evidence_id=evidence.id))
    return render_template("evidence/edit.html", form=form, evidence=evidence, conflict=False)


@bp.route("/<int:evidence_id>/versions", methods=["POST"])
@requires(Permission.EDIT_EVIDENCE)
def add_version(evidence_id: int):
    """A new file never replaces the old: it becomes the next version and is reviewed again."""
    evidence = get_editable_or_403(evidence_id)
    form = VersionForm()
    back = local_path(request.form.get("next"))
    if form.validate_on_submit():
        file = form.file.data
        upload = None
        try:
            upload = service.receive_file(
                file.stream,
                file.filename or "",
                upload_tmp_dir(current_app),
                current_app.config["MAX_CONTENT_LENGTH"],
            )
            version = service.add_version(
                db.session, storage_for(current_app, EVIDENCE), evidence, upload, current_user
            )
        except DomainError as error:
            if _wants_json():
                return jsonify(error=str(error)), 400
            flash(str(error), "danger")
        else:
            flash(
                _("Version %(n)s déposée ; la preuve est à valider de nouveau.", n=version.number),
                "success",
            )
            if _wants_json():
                url = url_for("evidence.detail", evidence_id=evidence_id)
                return jsonify(id=evidence.id, title=evidence.title, url=url), 201
        finally:
            if upload is not None:  # refused before storing (e.g. a link has no versions)
                upload.discard()
    else:
        if _wants_json():
            return jsonify(error=_("Choisissez un fichier.")), 400
        for errors in form.errors.values():
            flash(" ".join(str(e) for e in errors), "danger")
    return redirect(back or url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/<int:evidence_id>/versions/<int:number>/fichier")
@requires(Permission.READ)
def download(evidence_id: int, number: int):
    """A proof holding personal data downloads only for those who need it, not every reader."""
    return _send(evidence_id, number, inline=False)


@bp.route("/<int:evidence_id>/versions/<int:number>/apercu")
@requires(Permission.READ)
def preview(evidence_id: int, number: int):
    """Opened in the browser, for PDFs and images only: a reviewer reads without saving a copy."""
    return _send(evidence_id, number, inline=True)


def _send(evidence_id: int, number: int, inline: bool) -> Response:
    evidence = get_evidence_or_404(evidence_id)
    if not service.can_download(current_user, evidence):
        abort(403)
    version = get_version_or_404(evidence, number)
    if inline and not previewable(version):
        abort(404)
    return send_version(version, inline=inline)


def previewable(version: EvidenceVersion) -> bool:
    """PDFs that open and raster images are shown inline; everything else is downloaded."""
    if version.media_type == "application/pdf":
        return not version.flags
    return version.media_type in {"image/png", "image/jpeg", "image/gif", "image/webp"}


@bp.route("/<int:evidence_id>/soumettre", methods=["POST"])
@requires(Permission.EDIT_EVIDENCE)
def submit(evidence_id: int):
    """A draft or refused proof goes to review: it demonstrates a criterion once validated."""
    evidence = get_editable_or_403(evidence_id)
    try:
        service.submit_for_review(db.session, evidence, current_user)
        commit_or_conflict(db.session)
    except DomainError as error:
        flash(str(error), "danger")
    else:
        flash(_("Preuve envoyée à la validation."), "success")
    return redirect(url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/<int:evidence_id>/revue", methods=["POST"])
@requires(Permission.REVIEW_EVIDENCE)
def review(evidence_id: int):
    """A refusal needs its reason, which stays in the proof's trail."""
    evidence = get_evidence_or_404(evidence_id)
    form = ReviewForm()
    form.decision.choices = [
        SelectChoice(s.value, s.label) for s in (ReviewStatus.VALIDATED, ReviewStatus.REFUSED)
    ]
    if form.validate_on_submit():
        try:
            service.review(
                db.session,
                evidence,
                current_user,
                ReviewStatus(form.decision.data),
                form.reason.data or "",
            )
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            flash(_("Preuve « %(status)s ».", status=evidence.status.label), "success")
    else:
        flash(_("Choisissez une décision."), "danger")
    return redirect(url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/<int:evidence_id>/criteres", methods=["POST"])
@requires(Permission.EDIT_EVIDENCE)
def link(evidence_id: int):
    """Says which criterion the proof demonstrates, chosen among the frameworks of the campaigns."""
    evidence = get_editable_or_403(evidence_id)
    form = LinkForm()
    form.criterion_id.choices = _criterion_choices()
    back = local_path(form.next.data)
    if form.validate_on_submit():
        criterion = db.session.get(Criterion, form.criterion_id.data)
        try:
            link = service.link_criterion(
                db.session, evidence, criterion, form.note.data or "", current_user
            )
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            if link.status is ClaimStatus.TO_CONFIRM:
                flash(_("Preuve liée %(to_criterion)s ; ce lien est à confirmer par la direction "
                        "ou le responsable qualité.", to_criterion=to_criterion(criterion.label)),
                      "success")
            else:
                flash(_("Preuve liée %(to_criterion)s.",
                        to_criterion=to_criterion(criterion.label)), "success")
    else:
        flash(_("Choisissez un critère des référentiels de vos campagnes."), "danger")
    return redirect(back or url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/<int:evidence_id>/criteres/<int:link_id>/supprimer", methods=["POST"])
@requires(Permission.EDIT_EVIDENCE)
def unlink(evidence_id: int, link_id: int):
    """A proof linked by mistake stops counting for that criterion; the proof itself stays."""
    evidence = get_editable_or_403(evidence_id)
    try:
        service.unlink_criterion(db.session, evidence, link_id)
        commit_or_conflict(db.session)
    except DomainError as error:
        flash(str(error), "danger")
    else:
        flash(_("Lien avec le critère retiré."), "info")
    return redirect(url_for("evidence.detail", evidence_id=evidence_id))


@bp.route("/<int:evidence_id>/effacer", methods=["POST"])
@requires(Permission.ERASE_EVIDENCE)
def erase(evidence_id: int):
    """The direction erases a proof or one version for good (personal data); a tombstone stays."""
    evidence = get_evidence_or_404(evidence_id)
    form = EraseForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        return redirect(url_for("evidence.detail", evidence_id=evidence_id))
    number = form.version.data
    try:
        if number:
            version = get_version_or_404(evidence, int(number) if number.isdigit() else -1)
            erased = erasure.erase_version(db.session, version, form.reason.data,
                                           by=current_user)
        else:
            erased = erasure.erase_evidence(db.session, evidence, form.reason.data,
                                            by=current_user)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("evidence.detail", evidence_id=evidence_id))
    erasure.erase_files(storage_for(current_app, EVIDENCE), [erased])
    if number:
        flash(_("Version v%(number)s effacée définitivement ; l’effacement est inscrit au journal.",
                number=number), "success")
        return redirect(url_for("evidence.detail", evidence_id=evidence_id))
    flash(_("Preuve effacée définitivement ; l’effacement est inscrit au journal."), "success")
    return redirect(url_for("evidence.index"))


# ------------------------------------------------------------------------- validation queue


def _render_queue(wanted: str | None = None, form: QueueDecisionForm | None = None,
                  status: int = 200):
    items = queue.review_queue(db.session, current_user)
    current = next((item for item in items if item.key == wanted), None) or (
        items[0] if items else None)
    following = None
    if current is not None:
        index = items.index(current)
        following = items[(index + 1) % len(items)] if len(items) > 1 else None
    today = local_today()
    milestones = school_milestones(db.session, current_user.school_id, today)
    return render_template(
        "evidence/queue.html", items=items, current=current, following=following,
        form=form or QueueDecisionForm(formdata=None),
        warnings=service.validity_warnings(current.evidence, today, milestones)
        if current else [],
        milestones=[m for m in milestones if m.starts_on >= today
                    and (m.kind.is_certification_audit
                         or m.kind is MilestoneKind.NATIONAL_COMMISSION)]
        if current else [],
        previewable=previewable, today=today,
        can_download=service.can_download(current_user, current.evidence) if current else False,
        four_eyes=current_user.school.four_eyes,
    ), status


@bp.route("/a-valider")
@requires(Permission.REVIEW_EVIDENCE)
def review_queue():
    """Decisions waiting, oldest first, so the director clears them in one sitting."""
    wanted = (request.args.get("element") or "")[:40] or None
    return _render_queue(wanted)


@bp.route("/a-valider/<any(preuve, lien):kind>/<int:target_id>", methods=["POST"])
@requires(Permission.REVIEW_EVIDENCE)
def decide(kind: str, target_id: int):
    """One decision from the queue, then the next item opens."""
    form = QueueDecisionForm()
    key = f"{kind}-{target_id}"
    item = next((i for i in queue.review_queue(db.session, current_user) if i.key == key), None)
    if item is None:
        flash(_("Cet élément n’attend plus de décision."), "info")
        return redirect(url_for(".review_queue"))
    if not form.validate_on_submit() or form.decision.data not in {"valider", "refuser"}:
        flash(_("Choisissez de valider ou de refuser."), "danger")
        return _render_queue(key, form, 400)
    accept = form.decision.data == "valider"
    reason = (form.reason.data or "").strip()
    if not accept and not reason:
        form.reason.errors = [_("Indiquez le motif du refus.")]
        return _render_queue(key, form, 400)
    try:
        if item.link is not None:
            service.decide_claim(db.session, item.link, current_user, accept, reason)
        else:
            service.review(db.session, item.evidence, current_user,
                           ReviewStatus.VALIDATED if accept else ReviewStatus.REFUSED, reason)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _render_queue(key, form, 403 if isinstance(error, service.FourEyes) else 400)
    if item.link is not None:
        words = {"title": item.evidence.title, "criterion": item.link.criterion.label}
        flash(_("Lien de « %(title)s » avec %(criterion)s confirmé.", **words) if accept
              else _("Lien de « %(title)s » avec %(criterion)s refusé.", **words), "success")
    else:
        flash(_("Preuve « %(title)s » : %(status)s.", title=item.evidence.title,
                status=item.evidence.status.label.lower()), "success")
    return redirect(url_for(".review_queue"))
