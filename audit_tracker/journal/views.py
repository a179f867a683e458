"""The whole journal (direction, admin): filters, pages of entries, CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..models import User
from . import service
from .forms import JournalFilterForm

bp = Blueprint("journal", __name__)
FILTER_NAMES = ("personne", "du", "au", "type", "table", "enregistrement")


def _form() -> JournalFilterForm:
    form = JournalFilterForm(request.args)
    people = db.session.scalars(select(User).where(User.school_id == current_user.school_id)
                                .order_by(User.full_name))
    form.personne.choices = [SelectChoice(0, _("Tout le monde"))] + [
        SelectChoice(u.id, f"{u.full_name} ({u.email})") for u in people]
    form.type.choices = [SelectChoice("", _("Tous"))] + [
        SelectChoice(k, str(label)) for k, label in service.KIND_LABELS.items()]
    form.table.choices = [SelectChoice("", _("Toutes"))] + [
        SelectChoice(t, t) for t in service.tables(db.session, current_user.school_id)]
    return form


def _filters(form: JournalFilterForm) -> service.Filters:
    if not form.validate():
        return service.Filters(actor_id=-1)  # a bad filter shows nothing rather than all
    return service.Filters(
        actor_id=form.personne.data or None, start=form.du.data, end=form.au.data,
        kind=form.type.data or "", table_name=form.table.data or "",
        record_id=(form.enregistrement.data or "").strip())


@bp.get("/")
@requires(Permission.READ_JOURNAL)
def index():
    """The direction's and admin's view of everything journaled in their school."""
    form = _form()
    filters = _filters(form)
    page = form.page.data if form.page.data and not form.page.errors else 1
    entries, total = service.search(db.session, current_user.school_id, filters, page)
    seq, head_hash = service.head(db.session)
    query = {k: request.args[k] for k in FILTER_NAMES if request.args.get(k)}
    return render_template(
        "journal/index.html", form=form, entries=entries, total=total, page=page,
        pages=max(1, -(-total // service.PAGE_SIZE)), query=query, head_seq=seq,
        head_hash=head_hash, changes_of=service.changes_of, kind_labels=service.KIND_LABELS,
        origin_labels=service.ORIGIN_LABELS, export_limit=service.EXPORT_LIMIT)


@bp.get("/export.csv")
@requires(Permission.READ_JOURNAL)
def export():
    """The filtered journal as CSV, streamed and bounded, for an auditor or a spreadsheet."""
    filters = _filters(_form())
    school_id = current_user.school_id

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";")
        buffer.write("\ufeff")  # Excel reads the accents
        for row in service.export_rows(db.session, school_id, filters):
            writer.writerow([_cell(value) for value in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    response = Response(stream_with_context(lines()), mimetype="text/csv")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="journal-{local_today().isoformat()}.csv"')
    return response


def _cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
