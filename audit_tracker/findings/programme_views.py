"""The audit day's pages: the programme (slots per day and site, samples), its A4 print, one page
per day, and the checklist the quality lead ticks from a phone."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..domain.errors import DomainError
from ..extensions import db
from ..models import SLOT_ROLES, AuditSample, AuditSlot, Campaign, Evidence, Milestone, User
from ..web.lookups import get_campaign_or_404, get_milestone_or_404, school_sites
from . import programme as service
from .forms import SampleImportForm, SlotForm

bp = Blueprint("programme", __name__)
BASE = "/campagnes/<int:campaign_id>/audits/<int:event_id>/programme"


def _milestone(campaign_id: int, event_id: int) -> tuple[Campaign, Milestone]:
    campaign = get_campaign_or_404(campaign_id)
    return campaign, get_milestone_or_404(campaign, event_id)


def _slot_form() -> SlotForm:
    form = SlotForm()
    form.site_id.choices = [SelectChoice(0, _("Toute l’école"))] + [
        SelectChoice(s.id, s.name) for s in school_sites()]
    form.roles.choices = [(role.value, role.label) for role in SLOT_ROLES]
    return form


def _slot_input(form: SlotForm) -> service.SlotInput:
    """What the slot form says, for adding a slot or editing one."""
    site = next((s for s in school_sites() if s.id == form.site_id.data), None)
    return service.SlotInput(
        day=form.day.data, starts_at=form.starts_at.data, ends_at=form.ends_at.data,
        site=site, place=form.place.data or "", topic=form.topic.data or "",
        criteria=form.criteria.data or "",
        roles=[role for role in SLOT_ROLES if role.value in (form.roles.data or ())],
        people=form.people.data or "", auditor=form.auditor.data or "")


def _render(campaign: Campaign, milestone: Milestone, form: SlotForm, status: int = 200,
            problems: list[str] | None = None):
    slots = service.slots_of(db.session, milestone)
    return render_template(
        "findings/programme.html", campaign=campaign, event=milestone, form=form,
        days=service.by_day(slots), import_form=SampleImportForm(formdata=None),
        samples=service.samples_of(db.session, milestone), problems=problems or [],
        can_edit=has_permission(current_user, Permission.EDIT_FINDINGS),
        proofs={s.id: service.paper_proofs(db.session, s) for s in slots},
        staff=service.sample_preparers(db.session, campaign),
    ), status


@bp.get(BASE)
@requires(Permission.READ)
def programme(campaign_id: int, event_id: int):
    """The audit days planned slot by slot, so nobody is caught without the proof asked for."""
    campaign, milestone = _milestone(campaign_id, event_id)
    form = _slot_form()
    form.day.data = milestone.starts_on
    return _render(campaign, milestone, form)


@bp.post(BASE + "/creneaux")
@requires(Permission.EDIT_FINDINGS)
def add_slot(campaign_id: int, event_id: int):
    """The quality lead builds the programme the auditor sent, one slot at a time."""
    campaign, milestone = _milestone(campaign_id, event_id)
    form = _slot_form()
    if not form.validate_on_submit():
        return _render(campaign, milestone, form, 400)
    try:
        service.add_slot(db.session, milestone, _slot_input(form))
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _render(campaign, milestone, form, 400)
    db.session.commit()
    flash(_("Créneau ajouté."), "success")
    return _back_to_programme(milestone)


@bp.post(BASE + "/proposer")
@requires(Permission.EDIT_FINDINGS)
def propose(campaign_id: int, event_id: int):
    """A first programme from the référentiel and the sites in one click, corrected afterwards."""
    _campaign, milestone = _milestone(campaign_id, event_id)
    try:
        slots = service.propose_programme(db.session, milestone, school_sites())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        db.session.commit()
        flash(_("Programme proposé : %(num)s créneaux, à corriger selon le plan d’audit reçu.",
                num=len(slots)), "success")
    return _back_to_programme(milestone)


def _back_to_programme(milestone: Milestone, anchor: str | None = None) -> ResponseReturnValue:
    """After a change, the programme page again (at the slot or the sample changed)."""
    return redirect(url_for("programme.programme", campaign_id=milestone.campaign_id,
                            event_id=milestone.id, _anchor=anchor))


def _slot(milestone: Milestone, slot_id: int) -> AuditSlot:
    slot = db.session.get(AuditSlot, slot_id)
    if slot is None or slot.milestone_id != milestone.id:
        abort(404)
    return slot


@bp.route(BASE + "/creneaux/<int:slot_id>", methods=["GET", "POST"])
@requires(Permission.EDIT_FINDINGS)
def edit_slot(campaign_id: int, event_id: int, slot_id: int):
    """A proposed slot is only a draft: its time, site and people are corrected here."""
    campaign, milestone = _milestone(campaign_id, event_id)
    slot = _slot(milestone, slot_id)
    form = _slot_form()
    if not form.is_submitted():
        form.process(obj=slot)
        form.site_id.data = slot.site_id or 0
    elif form.validate():
        try:
            service.update_slot(db.session, slot, _slot_input(form))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Créneau modifié."), "success")
            return _back_to_programme(milestone, f"creneau-{slot.id}")
    return render_template("findings/slot_edit.html", campaign=campaign, event=milestone,
                           slot=slot, form=form)


@bp.post(BASE + "/creneaux/<int:slot_id>/supprimer")
@requires(Permission.EDIT_FINDINGS)
def delete_slot(campaign_id: int, event_id: int, slot_id: int):
    """A proposed slot the auditor's plan does not have goes away."""
    _campaign, milestone = _milestone(campaign_id, event_id)
    service.delete_slot(db.session, _slot(milestone, slot_id))
    db.session.commit()
    flash(_("Créneau supprimé."), "success")
    return _back_to_programme(milestone)


@bp.get(BASE + "/imprimer")
@requires(Permission.READ)
def print_programme(campaign_id: int, event_id: int):
    """On the day the programme is on paper in every room: one A4 page per day."""
    campaign, milestone = _milestone(campaign_id, event_id)
    slots = service.slots_of(db.session, milestone)
    return render_template("findings/programme_print.html", campaign=campaign, event=milestone,
                           days=service.by_day(slots),
                           proofs={s.id: service.paper_proofs(db.session, s) for s in slots})


@bp.get(BASE + "/jour")
@requires(Permission.READ)
def checklist(campaign_id: int, event_id: int):
    """Ticked from a phone during the audit: what was shown, missing, or to send after."""
    campaign, milestone = _milestone(campaign_id, event_id)
    slots = service.slots_of(db.session, milestone)
    return render_template("findings/programme_day.html", campaign=campaign, event=milestone,
                           days=service.by_day(slots),
                           proofs={s.id: service.paper_proofs(db.session, s) for s in slots},
                           can_edit=has_permission(current_user, Permission.EDIT_FINDINGS))


@bp.post(BASE + "/creneaux/<int:slot_id>/coche")
@requires(Permission.EDIT_FINDINGS)
def tick(campaign_id: int, event_id: int, slot_id: int):
    """One tap per proof during the audit, so the follow-up list writes itself."""
    campaign, milestone = _milestone(campaign_id, event_id)
    slot = db.session.get(AuditSlot, slot_id)
    if slot is None or slot.milestone_id != milestone.id:
        abort(404)
    evidence = db.session.get(Evidence, request.form.get("evidence_id", type=int) or 0)
    back = redirect(url_for("programme.checklist", campaign_id=campaign.id, event_id=milestone.id,
                            _anchor=f"creneau-{slot.id}"))
    if evidence is None or evidence.school_id != campaign.school_id:
        flash(_("Cette preuve n’existe pas dans votre bibliothèque."), "danger")
        return back
    try:
        service.tick(db.session, slot, evidence, request.form.get("state", ""))
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return back
    db.session.commit()
    return back


@bp.post(BASE + "/echantillon")
@requires(Permission.EDIT_FINDINGS)
def import_samples(campaign_id: int, event_id: int):
    """The auditor's sample arrives as a spreadsheet; names are dropped at the door."""
    campaign, milestone = _milestone(campaign_id, event_id)
    form = SampleImportForm()
    if not form.validate_on_submit():
        return _render(campaign, milestone, _slot_form(), 400,
                       [str(e) for e in form.file.errors] or [_("Choisissez un fichier.")])
    upload = form.file.data
    try:
        report = service.import_samples(db.session, milestone, upload.filename or "", upload.read(),
                                        school_sites())
    except service.SampleImportRefused as refused:
        db.session.rollback()
        flash(_("Fichier refusé : rien n’a été importé."), "danger")
        return _render(campaign, milestone, _slot_form(), 400, refused.problems)
    db.session.commit()
    flash(_("Échantillon importé : %(created)s dossier(s) ajouté(s), %(updated)s mis à jour.",
            created=report.created, updated=report.updated), "success")
    if report.ignored_columns:
        flash(_("Colonnes ignorées, jamais conservées (données personnelles ou inconnues) : "
                "%(columns)s.", columns=", ".join(report.ignored_columns)[:500]), "info")
    return _back_to_programme(milestone, "echantillon")


@bp.post(BASE + "/echantillon/<int:sample_id>")
@requires(Permission.EDIT_FINDINGS)
def update_sample(campaign_id: int, event_id: int, sample_id: int):
    """Each sampled file has someone preparing it and a ready flag the quality lead follows."""
    campaign, milestone = _milestone(campaign_id, event_id)
    sample = db.session.get(AuditSample, sample_id)
    if sample is None or sample.milestone_id != milestone.id:
        abort(404)
    person = db.session.scalar(select(User).where(
        User.id == (request.form.get("prepared_by_id", type=int) or 0),
        User.school_id == campaign.school_id))
    # The ready toggle and the « confié à » choice are two forms: each leaves the other alone.
    ready = request.form.get("ready")
    service.set_sample(db.session, sample, sample.ready if ready is None else ready == "1",
                       person if "prepared_by_id" in request.form else sample.prepared_by)
    db.session.commit()
    return _back_to_programme(milestone, "echantillon")
