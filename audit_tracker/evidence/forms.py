from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional


class EvidenceMetadataForm(FlaskForm):
    """What describes a proof, whatever its kind."""

    title = StringField(_l("Titre"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(
        _l("Description"), render_kw={"data-formatted": "1"}, validators=[Length(max=20000)]
    )
    site_id = SelectField(_l("Site"), coerce=int)
    covers_from = DateField(_l("Période couverte : du"), validators=[Optional()])
    covers_to = DateField(_l("au"), validators=[Optional()])
    valid_until = DateField(_l("Valide jusqu’au"), validators=[Optional()])
    personal_data = BooleanField(_l("Contient des données personnelles de stagiaires"))
    retention_until = DateField(_l("À conserver jusqu’au"), validators=[Optional()])


class NewEvidenceForm(EvidenceMetadataForm):
    kind = SelectField(_l("Nature de la preuve"))
    file = FileField(_l("Fichier"))
    url = StringField(_l("Adresse du lien"), validators=[Optional(), Length(max=2000)])
    paper_location = StringField(
        _l("Lieu de consultation"), validators=[Optional(), Length(max=300)]
    )
    paper_custodian = StringField(
        _l("Personne qui la détient"), validators=[Optional(), Length(max=200)]
    )
    # From a criterion's page: the new proof is linked to it, with its note, and sent for
    # validation in the same step; then the user is sent back where they started.
    criterion_id = HiddenField()
    note = StringField(_l("Ce que cette preuve démontre"), validators=[Length(max=500)])
    next = HiddenField()


class EditEvidenceForm(EvidenceMetadataForm):
    url = StringField(_l("Adresse du lien"), validators=[Optional(), Length(max=2000)])
    paper_location = StringField(
        _l("Lieu de consultation"), validators=[Optional(), Length(max=300)]
    )
    paper_custodian = StringField(
        _l("Personne qui la détient"), validators=[Optional(), Length(max=200)]
    )
    lock_version = HiddenField()


class VersionForm(FlaskForm):
    file = FileField(
        _l("Nouvelle version du fichier"), validators=[FileRequired(_l("Choisissez un fichier."))]
    )


class ReviewForm(FlaskForm):
    decision = SelectField(_l("Décision"))
    reason = TextAreaField(_l("Motif (obligatoire pour un refus)"), validators=[Length(max=2000)])


class LinkForm(FlaskForm):
    criterion_id = SelectField(_l("Critère"), coerce=int, validators=[DataRequired()])
    note = StringField(_l("Ce que cette preuve démontre"), validators=[Length(max=500)])
    next = HiddenField()


class QueueDecisionForm(FlaskForm):
    """One decision of the validation queue: validate in one click, or refuse with a reason."""

    decision = HiddenField()
    reason = TextAreaField(_l("Motif du refus"), validators=[Length(max=2000)])


class EraseForm(FlaskForm):
    """The direction erases a proof (or one version) for good: a reason, and a confirmation."""

    version = HiddenField()
    reason = StringField(_l("Motif de l’effacement (inscrit au journal)"),
                         validators=[DataRequired(_l("Indiquez le motif.")), Length(max=500)])
    confirm = BooleanField(_l("Je confirme : le fichier sera effacé définitivement."),
                           validators=[DataRequired(_l("Cochez la confirmation."))])


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = StringField(_l("Rechercher"))
    site = SelectField(_l("Site"), coerce=int)
    status = SelectField(_l("Statut"))
    criterion = SelectField(_l("Critère"), coerce=int)
    expiring = SelectField(_l("Validité"))
