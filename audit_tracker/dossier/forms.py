"""The dossier options form. The choices come from the campaign (its frameworks, their sections,
the school's sites); an empty choice means "all", as in the builder's options."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, RadioField, SelectMultipleField
from wtforms.validators import InputRequired

from .options import Edition

DATE_ERROR = _l("Indiquez la date de référence (JJ/MM/AAAA).")


def int_or_zero(value) -> int:
    """An id from the form; 0 (which no row has) for anything that is not a number."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


class DossierForm(FlaskForm):
    # A post without it (an older client) keeps the internal review, as the API and the CLI do;
    # the page offers the school's edition first.
    edition = RadioField(_l("Édition"), default=Edition.INTERNAL.value)
    # The builder's own check refuses ids outside the campaign, naming each one in French;
    # WTForms' generic "not a valid choice" would say less.
    framework_ids = SelectMultipleField(
        _l("Référentiels"), coerce=int_or_zero, validate_choice=False
    )
    section_ids = SelectMultipleField(_l("Sections"), coerce=int_or_zero, validate_choice=False)
    site_ids = SelectMultipleField(_l("Sites"), coerce=int_or_zero, validate_choice=False)
    as_of = DateField(_l("Date de référence"), validators=[InputRequired(message=DATE_ERROR)])
    with_annexes = BooleanField(_l("Joindre les annexes (chaque preuve PDF fusionnée au dossier)"))
    with_zip = BooleanField(_l("Produire aussi l’archive ZIP (fichiers originaux et manifeste)"))
    include_personal_data = BooleanField(
        _l("Inclure les preuves contenant des données personnelles d’apprenants")
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels are lazy: built per request so they follow the user's language.
        self.edition.choices = [
            (Edition.SCHOOL.value, _l("Dossier de l’école : à envoyer (argumentaire et pièces "
                                      "validées, sans état interne)")),
            (Edition.INTERNAL.value, _l("Revue interne : états, motifs, preuves à valider et "
                                        "plan d’actions")),
        ]
