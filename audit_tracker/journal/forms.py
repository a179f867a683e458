"""The journal's filters (a GET form: no CSRF, nothing is written)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional


class JournalFilterForm(FlaskForm):
    class Meta:
        csrf = False

    personne = SelectField(_l("Personne"), coerce=int, default=0, validators=[Optional()])
    du = DateField(_l("Du"), validators=[Optional()])
    au = DateField(_l("Au"), validators=[Optional()])
    type = SelectField(_l("Type"), default="", validators=[Optional()])
    table = SelectField(_l("Table"), default="", validators=[Optional()])
    enregistrement = StringField(_l("N° d’enregistrement"),
                                 validators=[Optional(), Length(max=80)])
    page = IntegerField(default=1, validators=[Optional(), NumberRange(min=1, max=100_000)])
