"""The school page: its presentation, read by everyone, edited by the director and the quality
lead; the référentiels it follows, chosen by the director (or the platform admin)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..accounts.schools import follow_referentiels
from ..domain.errors import DomainError, commit_or_conflict
from ..extensions import db
from ..models import School
from ..referentiel.service import latest_versions
from ..web.choices import referentiel_choices
from ..web.inputs import INT_MAX
from . import service
from .forms import ProfileForm, ReferentielsForm

bp = Blueprint("school", __name__)


@bp.route("/ecole")
@requires(Permission.READ)
def profile():
    """The school's presentation, entered once, is what every dossier and note opens with."""
    shown = service.presentation(db.session, current_user.school)
    followed = latest_versions(db.session, current_user.school.referentiel_codes)
    return render_template("school/profile.html", p=shown, followed=followed,
                           can_edit=has_permission(current_user, Permission.EDIT_SCHOOL))


@bp.route("/ecole/referentiels", methods=["GET", "POST"])
@requires(Permission.CHOOSE_REFERENTIELS)
def referentiels():
    """The director says which référentiels the school follows; its new campaigns start there."""
    school = _school_to_configure()
    form = ReferentielsForm()
    form.referentiels.choices = referentiel_choices()
    if not form.is_submitted():
        form.referentiels.data = school.referentiel_codes
    if form.validate_on_submit():
        try:
            follow_referentiels(db.session, school, list(form.referentiels.data or []))
            commit_or_conflict(db.session)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            flash(_("Référentiels suivis enregistrés."), "success")
            if school.id != current_user.school_id:
                return redirect(url_for("accounts.schools"))
            return redirect(url_for("school.profile"))
    return render_template("school/referentiels.html", form=form, school=school)


def _school_to_configure() -> School:
    """One's own school; the platform admin may name any school with ``?ecole=`` (a 404 for
    anyone else, so a director cannot even learn which ids exist)."""
    chosen = request.args.get("ecole", type=int)
    if chosen is None or chosen == current_user.school_id:
        return current_user.school
    if not has_permission(current_user, Permission.MANAGE_SCHOOLS) or not 0 < chosen <= INT_MAX:
        abort(404)
    school = db.session.get(School, chosen)
    if school is None:
        abort(404)
    return school


@bp.route("/ecole/modifier", methods=["GET", "POST"])
@requires(Permission.EDIT_SCHOOL)
def edit_profile():
    """Direction and quality lead keep the presentation true as sites and partners change."""
    school = current_user.school
    shown = service.presentation(db.session, school)
    form = ProfileForm(obj=shown.profile)
    form.organigramme_evidence_id.choices = [SelectChoice(0, _("— aucune —"))] + [
        SelectChoice(e.id, e.title) for e in service.organigramme_choices(db.session, school)]
    if not form.is_submitted():
        form.organigramme_evidence_id.data = shown.profile.organigramme_evidence_id or 0
        form.lock_version.data = str(shown.profile.lock_version or 0)
        while form.sites.entries:
            form.sites.pop_entry()
        for site in shown.sites:
            form.sites.append_entry({"site_id": site.id, "opened_on": site.opened_on,
                                     "address": site.address or "", "capacity": site.capacity,
                                     "staff_fte": site.staff_fte})
    names = {site.id: site.name for site in shown.sites}
    if form.validate_on_submit():
        try:
            service.save_profile(db.session, school, current_user, _profile_input(form),
                                 [_site_input(entry.form) for entry in form.sites],
                                 _int(form.lock_version.data))
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            flash(_("Présentation de l’école enregistrée."), "success")
            return redirect(url_for("school.profile"))
    return render_template("school/edit.html", form=form, names=names)


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


def _profile_input(form: ProfileForm) -> service.ProfileInput:
    return service.ProfileInput(
        legal_name=form.legal_name.data or "", legal_form=form.legal_form.data or "",
        head_office=form.head_office.data or "", governance=form.governance.data or "",
        funders=form.funders.data or "", partners=form.partners.data or "",
        cofunding_statement=form.cofunding_statement.data or "",
        staff_fte=form.staff_fte.data,
        organigramme_evidence_id=form.organigramme_evidence_id.data or None)


def _site_input(entry) -> service.SiteInput:
    site_id = _int(entry.site_id.data)
    if site_id is None:
        raise DomainError(_("Ce site n’est pas un site de l’école."))
    return service.SiteInput(site_id=site_id, opened_on=entry.opened_on.data,
                             address=entry.address.data or "", capacity=entry.capacity.data,
                             staff_fte=entry.staff_fte.data)
