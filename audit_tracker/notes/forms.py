"""Forms of the note pages: the month to prepare, the free parts of a draft, issuing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp

from .service import MAX_COFUNDING, MAX_TEXT

_MONTH = Regexp(r"^\d{4}-\d{2}$", message=_l("Mois attendu au format AAAA-MM."))


class PrepareForm(FlaskForm):
    month = StringField(_l("Mois"), validators=[InputRequired(), _MONTH],
                        render_kw={"type": "month"})
    as_of = StringField(_l("Date de situation (facultative)"), validators=[Optional()],
                        render_kw={"type": "date"})


def _text(label) -> TextAreaField:
    return TextAreaField(label, validators=[Length(max=MAX_TEXT)],
                         render_kw={"rows": 6, "maxlength": MAX_TEXT})


class NoteForm(FlaskForm):
    """The free parts of a draft (Markdown); the lock version catches stale edits."""

    governance_text = _text(_l("Gouvernance"))
    financing = _text(_l("Financements"))
    partnerships = _text(_l("Partenariats / réseaux"))
    pedagogy = _text(_l("Approche pédagogique"))
    cofunding = StringField(_l("Mention de cofinancement"),
                            validators=[Length(max=MAX_COFUNDING)],
                            render_kw={"maxlength": MAX_COFUNDING})
    lock_version = HiddenField()


class IssueForm(FlaskForm):
    lock_version = HiddenField()
