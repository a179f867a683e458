from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget


class ReferentielsField(SelectMultipleField):
    """The référentiels a school follows, one checkbox each (by code). None ticked reaches the
    service, whose refusal in French is the same for the page and the command."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(), Length(max=200)])
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


class LanguageForm(FlaskForm):
    language = SelectField(choices=[SelectChoice("fr", "Français"), SelectChoice("en", "English")])


class UserForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(), Email(), Length(max=254)])
    full_name = StringField(_l("Nom affiché"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Rôle"))
    site_id = SelectField(
        _l("Site (pour un responsable de site)"), coerce=int, validators=[Optional()]
    )
    password = PasswordField(
        _l("Mot de passe initial"), validators=[DataRequired(), Length(min=10, max=200)]
    )


class SchoolForm(FlaskForm):
    name = StringField(_l("Nom de l’école"), validators=[DataRequired(), Length(max=200)])
    short_name = StringField(_l("Nom court (unique)"), validators=[DataRequired(), Length(max=60)])
    city = StringField(_l("Ville"), validators=[Optional(), Length(max=120)])
    sites = TextAreaField(
        _l("Sites, un par ligne : CODE ; Nom"), validators=[DataRequired(), Length(max=4000)]
    )
    director_email = EmailField(
        _l("Adresse e-mail de la direction"), validators=[DataRequired(), Email(), Length(max=254)]
    )
    director_name = StringField(_l("Nom affiché de la direction"),
                                validators=[Optional(), Length(max=200)])
    referentiels = ReferentielsField(_l("Référentiels suivis"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("Nouveau mot de passe (12 caractères au moins)"),
                             validators=[DataRequired(), Length(max=200)])
    confirm = PasswordField(_l("Confirmez le mot de passe"),
                            validators=[DataRequired(), Length(max=200)])


class ChangePasswordForm(SetPasswordForm):
    current = PasswordField(_l("Mot de passe actuel"), validators=[DataRequired(), Length(max=200)])


class AccountForm(FlaskForm):
    role = SelectField(_l("Rôle"))
    site_id = SelectField(
        _l("Site (pour un responsable de site)"), coerce=int, validators=[Optional()]
    )
    active = BooleanField(_l("Compte actif"))


class ActionForm(FlaskForm):
    """Only its CSRF token: a button that POSTs."""


class ApiTokenForm(FlaskForm):
    label = StringField(_l("Libellé (à quoi sert ce jeton)"),
                        validators=[DataRequired(), Length(max=120)])
    days = IntegerField(_l("Durée de validité (jours, 365 au plus)"), default=90,
                        validators=[DataRequired(), NumberRange(min=1, max=365)])


class TotpForm(FlaskForm):
    code = StringField(_l("Code à six chiffres de votre application"),
                       validators=[DataRequired(), Length(max=12)])


class ReauthForm(FlaskForm):
    """The identity fields of a signing form: a form that signs inherits them."""

    reauth_password = PasswordField(_l("Votre mot de passe"),
                                    validators=[Optional(), Length(max=200)])
    reauth_code = StringField(_l("Code à six chiffres de votre application"),
                              validators=[Optional(), Length(max=12)])


class TotpPolicyForm(FlaskForm):
    required = BooleanField(_l("Double facteur obligatoire pour la direction et "
                               "l’administrateur"))


class TotpOffForm(FlaskForm):
    password = PasswordField(_l("Mot de passe actuel"),
                             validators=[DataRequired(), Length(max=200)])
