"""Explicit events (logins, downloads, dossier builds) and the journal's queries for the pages.

Changes of records are journaled by ``hooks`` without any call; what is not a change of a row
(a login refused, a file read) is recorded here, on the caller's session and transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ..clock import current_clock, utcnow
from ..models import JournalEntry
from . import chain
from .context import Actor, current_actor

LOGIN = "login"
LOGIN_FAILED = "login_failed"
LOGIN_THROTTLED = "login_throttled"
LOGOUT = "logout"
DOWNLOAD = "download"
PAGE_READ = "page_read"  # a page an invited auditor read
REAUTH_FAILED = "reauth_failed"  # a wrong password or code typed to sign
RETENTION_WARNING = "retention_warning"  # a proof's coming erasure e-mailed (evidence.erasure)
# Events that change no record; any other kind (an erasure) moves its school's revision.
READS = frozenset({LOGIN, LOGIN_FAILED, LOGIN_THROTTLED, LOGOUT, DOWNLOAD, PAGE_READ,
                   REAUTH_FAILED, RETENTION_WARNING})

KIND_LABELS = {
    "create": _l("création"),
    "update": _l("modification"),
    "delete": _l("suppression"),
    LOGIN: _l("connexion"),
    LOGIN_FAILED: _l("connexion refusée"),
    LOGIN_THROTTLED: _l("connexion freinée"),
    LOGOUT: _l("déconnexion"),
    DOWNLOAD: _l("téléchargement"),
    PAGE_READ: _l("lecture par un auditeur"),
    REAUTH_FAILED: _l("signature refusée (identité non confirmée)"),
    RETENTION_WARNING: _l("fin de conservation annoncée"),
}

ORIGIN_LABELS = {
    "page": _l("page"),
    "api": _l("API"),
    "command": _l("commande ou tâche"),
}

# What a CSV export holds at most: a bounded answer, streamed.
EXPORT_LIMIT = 50_000
PAGE_SIZE = 100


def record_event(session: Session, kind: str, *, table_name: str = "", record_id: Any = "",
                 detail: dict[str, Any] | None = None, actor: Actor | None = None,
                 school_id: int | None = None) -> None:
    """Append one event to the chain in the caller's transaction (the caller commits).
    ``school_id`` files an anonymous event (a refused login) under the school it concerns."""
    who = actor or current_actor()
    appended = chain.append(session.connection(), [{
        "at": utcnow(), "kind": kind, "actor_id": who.user_id, "actor_email": who.email,
        "origin": who.origin, "token_id": who.token_id, "address": who.address,
        "school_id": who.school_id if who.school_id is not None else school_id,
        "table_name": table_name,
        "record_id": str(record_id or "")[:80],
        "detail": chain.canonical_json(detail or {}),
    }])
    if kind not in READS:  # an erasure changes records: what was computed from them is stale
        owner = appended[0]["school_id"]
        chain.mark_revisions(session.connection(), [owner if owner is not None else chain.NETWORK],
                             appended[0]["hash"])


def revision(session: Session, school_id: int) -> str:
    """What a page computed from ``school_id``'s records was computed at: the entries of the
    last change of its records and of the records no school owns (``JournalRevision``)."""
    rows = dict(session.execute(
        select(chain.REVISION.c.scope, chain.REVISION.c.hash)
        .where(chain.REVISION.c.scope.in_([school_id, chain.NETWORK]))).all())
    return f"{rows.get(school_id, '-')}:{rows.get(chain.NETWORK, '-')}"


def head(session: Session) -> tuple[int, str]:
    """The chain's head: its last position and hash (to print, or to note elsewhere)."""
    row = session.execute(select(chain.HEAD.c.seq, chain.HEAD.c.hash)
                          .where(chain.HEAD.c.id == chain.HEAD_ID)).first()
    return (int(row.seq), str(row.hash)) if row else (0, chain.GENESIS)


def history(session: Session, table_name: str, record_id: Any,
            limit: int = 500) -> list[JournalEntry]:
    """The entries of one record, newest first."""
    return list(session.scalars(
        select(JournalEntry)
        .where(JournalEntry.table_name == table_name,
               JournalEntry.record_id == str(record_id))
        .order_by(JournalEntry.seq.desc())
        .limit(limit)))


@dataclass(frozen=True)
class Filters:
    actor_id: int | None = None
    start: date | None = None
    end: date | None = None
    kind: str = ""
    table_name: str = ""
    record_id: str = ""


def _filtered(school_id: int, filters: Filters) -> Select[JournalEntry]:
    query = select(JournalEntry).where(JournalEntry.school_id == school_id)
    zone = current_clock().zone
    if filters.actor_id:
        query = query.where(JournalEntry.actor_id == filters.actor_id)
    if filters.start:
        query = query.where(JournalEntry.at >= datetime.combine(filters.start, time(), zone))
    if filters.end:
        query = query.where(
            JournalEntry.at < datetime.combine(filters.end + timedelta(days=1), time(), zone))
    if filters.kind:
        query = query.where(JournalEntry.kind == filters.kind)
    if filters.table_name:
        query = query.where(JournalEntry.table_name == filters.table_name)
    if filters.record_id:
        query = query.where(JournalEntry.record_id == filters.record_id)
    return query


def search(session: Session, school_id: int, filters: Filters, page: int = 1,
           page_size: int = PAGE_SIZE) -> tuple[list[JournalEntry], int]:
    """One page of the school's journal, newest first, and the number of matching entries."""
    query = _filtered(school_id, filters)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(JournalEntry.seq.desc())
                           .limit(page_size).offset((max(page, 1) - 1) * page_size))
    return list(rows), int(total)


def export_rows(session: Session, school_id: int, filters: Filters,
                limit: int = EXPORT_LIMIT) -> Iterator[list[str]]:
    """The CSV's rows (header first), at most ``limit`` entries, read in batches."""
    yield ["seq", "date", "type", "personne", "origine", "jeton", "adresse", "table",
           "enregistrement", "détail", "empreinte"]
    query = _filtered(school_id, filters).order_by(JournalEntry.seq.desc()).limit(limit)
    for entry in session.scalars(query.execution_options(yield_per=500)):
        yield [str(entry.seq), entry.at.isoformat(), entry.kind, entry.actor_email,
               entry.origin, str(entry.token_id or ""), entry.address, entry.table_name,
               entry.record_id, entry.detail, entry.hash]


def tables(session: Session, school_id: int) -> list[str]:
    return list(session.scalars(select(JournalEntry.table_name)
                                .where(JournalEntry.school_id == school_id,
                                       JournalEntry.table_name != "")
                                .distinct().order_by(JournalEntry.table_name)))


def changes_of(entry: JournalEntry) -> list[tuple[str, Any, Any]]:
    """``(field, before, after)`` for display; other details as ``(key, None, value)``."""
    try:
        detail = json.loads(entry.detail or "{}")
    except ValueError:
        return []
    if not isinstance(detail, dict):
        return []
    fields = detail.get("fields")
    if isinstance(fields, dict):
        return [(key, pair[0], pair[1]) for key, pair in sorted(fields.items())
                if isinstance(pair, list) and len(pair) == 2]
    return [(key, None, value) for key, value in sorted(detail.items())]
