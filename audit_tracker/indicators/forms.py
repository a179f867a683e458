"""Forms of the key-indicator pages. The service judges the counts and the site (with its own
French messages); the forms only read numbers and keep what was typed."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange

from ..findings.forms import int_or_zero
from .service import COUNT_LABELS, MAX_COUNT

_COUNT_CHECKS = [
    InputRequired(_l("Indiquez un nombre (0 s’il n’y en a pas).")),
    NumberRange(min=0, max=MAX_COUNT, message=_l("Un nombre entier entre 0 et %(max)s.")),
]
HOST_COMPANIES_HELP = _l(
    "Comptez une entreprise le premier mois où elle accueille un stagiaire, puis plus jamais : "
    "la somme sur plusieurs mois compte ainsi chaque entreprise une seule fois."
)


def _count(name: str) -> IntegerField:
    return IntegerField(COUNT_LABELS[name], validators=_COUNT_CHECKS, default=0,
                        render_kw={"min": 0, "max": MAX_COUNT, "inputmode": "numeric"})


class EntryForm(FlaskForm):
    """One site's counts for one month."""

    site_id = SelectField(_l("Site"), coerce=int_or_zero, validate_choice=False)
    period = StringField(_l("Mois"), render_kw={"type": "month", "placeholder": "AAAA-MM"})
    entries = _count("entries")
    from_qpv = _count("from_qpv")
    without_diploma = _count("without_diploma")
    host_companies = _count("host_companies")
    exits = _count("exits")
    exits_training = _count("exits_training")
    exits_employment = _count("exits_employment")
    exits_work_study = _count("exits_work_study")
    lock_version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField(
        _l("Fichier des indicateurs (CSV ou XLSX)"),
        validators=[
            FileRequired(_l("Choisissez un fichier.")),
            FileAllowed(["csv", "xlsx"], _l("Formats acceptés : CSV, XLSX.")),
        ],
    )


class TargetLineForm(Form):
    """A line of the targets table (a sub-form: the page's form carries the CSRF token)."""

    target_id = HiddenField()
    site_id = SelectField(_l("Portée"), coerce=int_or_zero, validate_choice=False)
    indicator = SelectField(_l("Indicateur"), validate_choice=False)
    comparison = SelectField(_l("Sens"), validate_choice=False)
    value = StringField(_l("Valeur"))
    source = StringField(_l("Source"), validators=[Length(max=300)])
    delete = BooleanField(_l("Supprimer"))


class TargetsForm(FlaskForm):
    lines = FieldList(FormField(TargetLineForm), min_entries=0)
