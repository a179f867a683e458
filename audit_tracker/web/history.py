"""A record's « Historique »: its journal entries, for the page of any record that has one.

Each feature's view loads and authorises its record (``get_…_or_404``), then calls
``render_history`` with the record's table and id; the page is the same for every record.
"""

from __future__ import annotations

from flask import render_template

from ..extensions import db
from ..journal import service as journal


def render_history(table_name: str, record_id: int, *, title: str, back_url: str) -> str:
    entries = journal.history(db.session, table_name, record_id)
    return render_template("journal/history.html", entries=entries, title=title,
                           back_url=back_url, changes_of=journal.changes_of,
                           kind_labels=journal.KIND_LABELS, origin_labels=journal.ORIGIN_LABELS)
