from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional


class ImportForm(FlaskForm):
    file = FileField(
        _l("Fichier du référentiel (YAML, CSV ou XLSX)"),
        validators=[
            FileRequired(_l("Choisissez un fichier.")),
            FileAllowed(["yaml", "yml", "csv", "xlsx"], _l("Formats acceptés : YAML, CSV, XLSX.")),
        ],
    )
    code = StringField(_l("Code (tableurs seulement)"), validators=[Optional(), Length(max=60)])
    version = StringField(
        _l("Version (tableurs seulement)"), validators=[Optional(), Length(max=40)]
    )
    name = StringField(_l("Nom (tableurs seulement)"), validators=[Optional(), Length(max=200)])
    provisional = BooleanField(_l("Référentiel provisoire"))
