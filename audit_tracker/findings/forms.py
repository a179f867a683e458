"""Forms of the findings pages. Choices that the service judges (type, owner, site, proof) are not
validated here: the service refuses them with its own French message, naming what is wrong."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

DATE_ERROR = _l("Indiquez une date valide (JJ/MM/AAAA).")


def int_or_zero(value) -> int:
    """A select's id, 0 for « none » or anything that is not a number (never a 500)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def split_codes(text: str | None) -> list[str]:
    """« 4, 5 », « A1 B2 », « 4;5 » → ['4', '5'] …, in order and without repeats."""
    seen: dict[str, None] = {}
    for token in re.split(r"[\s,;]+", (text or "").strip()):
        if token:
            seen.setdefault(token, None)
    return list(seen)


class FastFindingForm(FlaskForm):
    """The line at the top of a milestone's findings page: one finding per Enter."""

    framework_id = SelectField(_l("Référentiel"), coerce=int_or_zero, validate_choice=False)
    type_code = SelectField(_l("Type"), validate_choice=False)
    title = StringField(_l("Intitulé du constat"))
    criteria = StringField(_l("Critères"))
    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    slot_id = SelectField(_l("Créneau du programme"), coerce=int_or_zero, validate_choice=False)
    description = TextAreaField(
        _l("Description"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )


class FindingForm(FlaskForm):
    type_code = SelectField(_l("Type"), validate_choice=False)
    title = StringField(_l("Intitulé"))
    description = TextAreaField(
        _l("Description"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )
    root_cause = TextAreaField(_l("Cause racine"), validators=[Length(max=20000)])
    response = TextAreaField(_l("Réponse de l’école"), render_kw={"data-formatted": "1"},
                             validators=[Length(max=20000)])
    criteria = StringField(_l("Critères"))
    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    due_override = DateField(_l("Échéance remplacée"), validators=[Optional()])
    override_reason = TextAreaField(
        _l("Motif du remplacement de l’échéance"), validators=[Length(max=2000)]
    )
    lock_version = HiddenField()


class StatusForm(FlaskForm):
    """Status buttons: each one posts ``status``; the note serves the verification."""

    status = StringField()
    note = TextAreaField(_l("Note de vérification"), validators=[Length(max=2000)])
    lock_version = HiddenField()
    next = HiddenField()


class ActionForm(FlaskForm):
    title = StringField(_l("Intitulé de l’action"))
    description = TextAreaField(
        _l("Description"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )
    owner_id = SelectField(_l("Responsable"), coerce=int_or_zero, validate_choice=False)
    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    due_on = DateField(_l("Échéance"), validators=[Optional()])
    finding_ids = SelectMultipleField(
        _l("Constats traités"), coerce=int_or_zero, validate_choice=False
    )
    criteria = StringField(_l("Critères"))
    closing_evidence_id = SelectField(
        _l("Preuve de clôture"), coerce=int_or_zero, validate_choice=False
    )
    lock_version = HiddenField()


class ActionFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    mine = BooleanField(_l("Mes actions"))
    late = BooleanField(_l("En retard"))
    site = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    finding = SelectField(_l("Constat"), coerce=int_or_zero, validate_choice=False)
    criterion = SelectField(_l("Critère"), coerce=int_or_zero, validate_choice=False)


class ReportForm(FlaskForm):
    report_evidence_id = SelectField(
        _l("Rapport (preuve)"), coerce=int_or_zero, validate_choice=False
    )
    decision = SelectField(_l("Décision de la commission"), validate_choice=False)
    report_notified_on = DateField(_l("Rapport notifié le"), validators=[Optional()])


class SlotForm(FlaskForm):
    day = DateField(_l("Jour"), validators=[DataRequired(DATE_ERROR)])
    starts_at = TimeField(_l("Début"), validators=[DataRequired(_l("Indiquez l’heure."))])
    ends_at = TimeField(_l("Fin"), validators=[Optional()])
    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    place = StringField(_l("Lieu"), validators=[Length(max=200)])
    topic = StringField(_l("Thème"), validators=[DataRequired(), Length(max=300)])
    criteria = StringField(_l("Critères (codes)"), validators=[Length(max=300)])
    # The school's roles met, ticked (choices: models.SLOT_ROLES, set by the view): they decide
    # whose calendar feed the slot reaches, where words in a text could not be trusted to.
    roles = SelectMultipleField(_l("Rôles de l’école rencontrés"))
    people = StringField(_l("Autres personnes rencontrées (partenaires, stagiaires…)"),
                         validators=[Length(max=2000)])
    auditor = StringField(_l("Auditeur"), validators=[Length(max=200)])


class SampleImportForm(FlaskForm):
    file = FileField(
        _l("Échantillon (CSV ou XLSX)"),
        validators=[FileRequired(_l("Choisissez un fichier.")),
                    FileAllowed(["csv", "xlsx"], _l("Formats acceptés : CSV, XLSX."))],
    )


class DecisionForm(FlaskForm):
    decided_on = DateField(_l("Date de la décision"), validators=[DataRequired(DATE_ERROR)])
    decision = SelectField(_l("Décision"), validators=[DataRequired()])
    conditions = TextAreaField(_l("Conditions et préconisations à satisfaire"),
                               validators=[Length(max=5000)])


class MeetingForm(FlaskForm):
    kind = SelectField(_l("Instance"))
    title = StringField(_l("Intitulé"), validators=[DataRequired(), Length(max=200)])
    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    held_on = DateField(_l("Date"), validators=[DataRequired(DATE_ERROR)])
    starts_at = TimeField(_l("Début"), validators=[Optional()])
    ends_at = TimeField(_l("Fin"), validators=[Optional()])

    def validate_ends_at(self, field):
        if field.data and self.starts_at.data and field.data <= self.starts_at.data:
            raise ValidationError(_l("L’heure de fin doit suivre l’heure de début."))


class MinutesForm(FlaskForm):
    evidence_id = SelectField(_l("Compte rendu (preuve)"), coerce=int_or_zero,
                              validate_choice=False)
