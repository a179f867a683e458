from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..accounts.forms import ReauthForm


class ReferenceForm(FlaskForm):
    """The reference date of the dashboard: a GET form, so no CSRF token in the URL."""

    class Meta:
        csrf = False

    date = DateField(_l("Date de référence"), validators=[Optional()])
    site = SelectField(_l("Vu du site"), validate_choice=False)


class DecisionForm(FlaskForm):
    argument = TextAreaField(_l("Argumentaire de l’école"), render_kw={"data-formatted": "1"},
                             validators=[Length(max=50_000)])
    applicable = BooleanField(_l("Ce critère s’applique à l’école"), default=True)
    reason = TextAreaField(_l("Pourquoi il ne s’applique pas"), validators=[Length(max=2000)])
    # Choices from the framework's scale (data); the service refuses a code outside it.
    self_assessment = SelectField(_l("Auto-évaluation"), validate_choice=False)
    lock_version = HiddenField()


class ExemptionForm(FlaskForm):
    site_id = SelectField(_l("Site"), coerce=int)
    reason = TextAreaField(_l("Pourquoi il ne s’applique pas à ce site"),
                           validators=[DataRequired(_l("Indiquez la raison.")),
                                       Length(max=2000)])


class SignOffForm(ReauthForm):
    as_of = DateField(_l("Date de référence signée"),
                      validators=[DataRequired(_l("Indiquez une date valide (JJ/MM/AAAA)."))])
    milestone_id = SelectField(_l("Échéance visée"), coerce=int, validate_choice=False)
    comment = TextAreaField(_l("Commentaire"), validators=[Length(max=2000)])
