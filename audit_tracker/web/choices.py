"""Choices that several pages offer in their forms."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..referentiel.service import latest_versions


def referentiel_choices() -> list[SelectChoice]:
    """Every référentiel of the instance by its code, labelled with its latest version: what a
    school follows (a new version is followed as soon as it is imported)."""
    return [
        SelectChoice(framework.code, framework.label
                     + (" — " + _("provisoire") if framework.provisional else ""))
        for framework in latest_versions(db.session)
    ]
