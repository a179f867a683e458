from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional


class InviteAuditorForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail de l’auditeur"),
                       validators=[DataRequired(), Email(), Length(max=254)])
    full_name = StringField(_l("Nom affiché"), validators=[Optional(), Length(max=200)])
    starts_on = DateField(_l("Début de l’accès"), validators=[DataRequired()])
    ends_on = DateField(_l("Fin de l’accès (dernier jour inclus)"), validators=[DataRequired()])


class EndAccessForm(FlaskForm):
    """Only its CSRF token: ending an access is a POST."""


class SentSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search

    q = StringField(_l("Rechercher"), validators=[Optional(), Length(max=200)])
