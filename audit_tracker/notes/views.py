"""*Campagne → Notes d'avancement*: the list, preparing a month's draft, the draft page (free
parts and preview), issuing, and the issued note's files."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import Permission, has_permission, requires
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..extensions import db
from ..storage import EVIDENCE, NOTES, storage_for, upload_tmp_dir
from ..web.files import send_note_file
from ..web.lookups import get_campaign_or_404, get_note_or_404
from . import issuing, service
from .documents import meeting_label
from .forms import IssueForm, NoteForm, PrepareForm

bp = Blueprint("notes", __name__)


@bp.context_processor
def _formatting():
    return {"meeting_label": meeting_label}


@bp.get("/")
@requires(Permission.READ)
def index(campaign_id: int):
    """One note per month: where the director finds last month's and starts this one."""
    campaign = get_campaign_or_404(campaign_id)
    can_prepare = service.can_prepare(current_user)
    today = local_today()
    form = PrepareForm(data={"month": f"{today:%Y-%m}"})
    notes = service.notes_of(db.session, campaign, issued_only=not can_prepare)
    # The one-click button says what it will do for the month in progress.
    this_month = [n for n in notes if n.month == today.replace(day=1)]
    state = ("draft" if any(not n.is_issued for n in this_month)
             else "issued" if this_month else "new")
    return render_template(
        "notes/index.html", campaign=campaign, form=form, can_prepare=can_prepare, notes=notes,
        this_month=format_date(today, "MMMM yyyy"), this_month_value=f"{today:%Y-%m}",
        this_month_state=state)


@bp.post("/preparer")
@requires(Permission.PREPARE_NOTE)
def prepare(campaign_id: int):
    """One click from the list to a draft already filled with the month's figures."""
    campaign = get_campaign_or_404(campaign_id)
    form = PrepareForm()
    month = service.parse_month(form.month.data) if form.validate_on_submit() else None
    if month is None:
        flash(_("Mois illisible : attendu AAAA-MM (par exemple 2018-02)."), "danger")
        return redirect(url_for(".index", campaign_id=campaign.id))
    as_of = None
    if form.as_of.data:
        try:
            as_of = date.fromisoformat(form.as_of.data)
        except ValueError:
            flash(_("Date de situation illisible : attendu AAAA-MM-JJ."), "danger")
            return redirect(url_for(".index", campaign_id=campaign.id))
    try:
        note = service.prepare(db.session, campaign, month, current_user, local_today(), as_of)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for(".index", campaign_id=campaign.id))
    return redirect(url_for(".show", campaign_id=campaign.id, note_id=note.id))


def _render(campaign, note, form=None, status=200):
    editable = not note.is_issued and service.can_prepare(current_user)
    if form is None and editable:
        form = NoteForm(obj=note)
        form.lock_version.data = note.lock_version
    return render_template(
        "notes/show.html", campaign=campaign, note=note, form=form, editable=editable,
        data=service.content(db.session, note), free_parts=service.FREE_PARTS,
        issue_form=IssueForm(data={"lock_version": note.lock_version}),
        can_issue=editable and has_permission(current_user, Permission.ISSUE_NOTE),
        intact=service.is_intact(db.session, note) if note.is_issued else None,
        seal=service.seal_state(db.session, note) if note.is_issued else None,
    ), status


@bp.get("/<int:note_id>")
@requires(Permission.READ)
def show(campaign_id: int, note_id: int):
    """Read a note as it will be sent, or edit its free parts while it is a draft."""
    campaign = get_campaign_or_404(campaign_id)
    return _render(campaign, get_note_or_404(campaign, note_id))


@bp.post("/<int:note_id>")
@requires(Permission.PREPARE_NOTE)
def save(campaign_id: int, note_id: int):
    """The free parts are the director's words; a stale save must not overwrite a colleague's."""
    campaign = get_campaign_or_404(campaign_id)
    note = get_note_or_404(campaign, note_id)
    form = NoteForm()
    if note.is_issued:
        flash(_("Cette note est émise : elle ne change plus. Pour la corriger, préparez une "
                "nouvelle note du même mois."), "danger")
        return redirect(url_for(".show", campaign_id=campaign.id, note_id=note.id))
    if not form.validate_on_submit():
        flash(_("La note n’a pas été enregistrée : corrigez les champs signalés."), "danger")
        return _render(campaign, note, form, 400)
    parts = service.FreeParts(**{name: getattr(form, name).data or ""
                                 for name in (*service.FREE_PARTS, "cofunding")})
    seen = int(form.lock_version.data) if (form.lock_version.data or "").isdigit() else None
    try:
        service.save(db.session, note, parts, current_user, seen)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        note = get_note_or_404(campaign, note_id)
        return _render(campaign, note, form, 409 if isinstance(error, Conflict) else 400)
    flash(_("Note enregistrée."), "success")
    return redirect(url_for(".show", campaign_id=campaign.id, note_id=note.id))


@bp.post("/<int:note_id>/emettre")
@requires(Permission.ISSUE_NOTE)
def issue(campaign_id: int, note_id: int):
    """Issuing freezes the note and files it as a proof, so what was sent cannot drift."""
    campaign = get_campaign_or_404(campaign_id)
    note = get_note_or_404(campaign, note_id)
    form = IssueForm()
    form.validate_on_submit()
    seen = int(form.lock_version.data) if (form.lock_version.data or "").isdigit() else None
    try:
        proof = issuing.issue(db.session, storage_for(current_app, NOTES),
                              storage_for(current_app, EVIDENCE), upload_tmp_dir(current_app),
                              note, current_user, seen)
        commit_or_conflict(db.session)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for(".show", campaign_id=campaign.id, note_id=note_id))
    flash(_("Note émise : elle est figée, ses fichiers PDF et DOCX sont prêts et elle est "
            "versée dans la bibliothèque de preuves, validée (preuve n° %(id)s).", id=proof.id),
          "success")
    return redirect(url_for(".show", campaign_id=campaign.id, note_id=note_id))


@bp.get("/<int:note_id>/pdf")
@requires(Permission.READ)
def download_pdf(campaign_id: int, note_id: int):
    """The issued note as the board receives it."""
    campaign = get_campaign_or_404(campaign_id)
    return send_note_file(get_note_or_404(campaign, note_id), issuing.PDF)


@bp.get("/<int:note_id>/docx")
@requires(Permission.READ)
def download_docx(campaign_id: int, note_id: int):
    """The issued note in a form a funder's template can take."""
    campaign = get_campaign_or_404(campaign_id)
    return send_note_file(get_note_or_404(campaign, note_id), issuing.DOCX)
