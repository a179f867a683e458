from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, Optional

from ..accounts.forms import ReferentielsField


class SiteForm(Form):
    """One site's line; a plain Form: the page's one CSRF token covers it."""

    site_id = HiddenField()
    opened_on = DateField(_l("Date d’ouverture"), validators=[Optional()])
    address = StringField(_l("Adresse"), validators=[Length(max=300)])
    capacity = IntegerField(_l("Capacité (places)"),
                            validators=[Optional(), NumberRange(min=0, max=100000)])
    staff_fte = DecimalField(_l("Équipe (ETP)"), places=1,
                             validators=[Optional(), NumberRange(min=0, max=10000)])


class ProfileForm(FlaskForm):
    lock_version = HiddenField()
    legal_name = StringField(_l("Raison sociale"), validators=[Length(max=200)])
    legal_form = StringField(_l("Forme juridique"), validators=[Length(max=120)])
    head_office = StringField(_l("Siège"), validators=[Length(max=300)])
    governance = TextAreaField(_l("Instances de gouvernance (une par ligne)"),
                               validators=[Length(max=5000)])
    funders = TextAreaField(_l("Financeurs (un par ligne)"), validators=[Length(max=5000)])
    partners = TextAreaField(_l("Partenaires (un par ligne)"), validators=[Length(max=10000)])
    cofunding_statement = TextAreaField(_l("Mention de cofinancement"),
                                        validators=[Length(max=2000)])
    staff_fte = DecimalField(_l("Équipe de coordination (ETP)"), places=1,
                             validators=[Optional(), NumberRange(min=0, max=10000)])
    organigramme_evidence_id = SelectField(_l("Organigramme (une preuve de la bibliothèque)"),
                                           coerce=int)
    sites = FieldList(FormField(SiteForm))


class ReferentielsForm(FlaskForm):
    """The référentiels the school follows: its new campaigns are proposed on them."""

    referentiels = ReferentielsField(_l("Référentiels suivis"))
