from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..models import MilestoneKind


class CampaignForm(FlaskForm):
    name = StringField(_l("Nom de la campagne"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )
    framework_ids = SelectMultipleField(
        _l("Référentiels"),
        coerce=int,
        validators=[DataRequired(_l("Choisissez au moins un référentiel."))],
    )
    categories = SelectMultipleField(_l("Catégories d’actions menées"), validate_choice=True)
    certifying = BooleanField(_l("Les actions menées conduisent à une certification (diplôme, "
                                 "titre RNCP)"), default=True)


class MilestoneForm(FlaskForm):
    kind = SelectField(_l("Type d’échéance"))
    title = StringField(_l("Intitulé"), validators=[DataRequired(), Length(max=200)])
    starts_on = DateField(
        _l("Date de début"), validators=[DataRequired(_l("Indiquez une date valide (JJ/MM/AAAA)."))]
    )
    ends_on = DateField(_l("Date de fin (si plusieurs jours)"), validators=[Optional()])
    place = StringField(_l("Lieu"), validators=[Length(max=200)])
    notes = TextAreaField(
        _l("Notes"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels are lazy: build the choices per request so they follow the user's language.
        self.kind.choices = [SelectChoice(k.value, k.label) for k in MilestoneKind]

    def validate_ends_on(self, field):
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("La date de fin précède la date de début."))
