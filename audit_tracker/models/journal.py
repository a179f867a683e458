"""The journal: every change, login, download and dossier build, append-only and hash-chained.

Rows are written by ``audit_tracker.journal`` alone, in the transaction of what they record. Each
entry's ``hash`` is the SHA-256 of its canonical content and of the previous entry's hash, so
``flask journal verify`` finds an entry altered, deleted or slipped in. ``JournalHead`` holds the
chain's last position: writers lock its one row, which orders them on PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Model

GENESIS = "0" * 64


class JournalEntry(Model):
    __journal_skip__ = True
    __table_args__ = (Index("ix_journal_entry_record", "table_name", "record_id"),)

    # The position in the chain, given by the writer from the head (no sequence: no gaps).
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # create, update, delete, login, login_failed, logout, download, dossier_build…
    kind: Mapped[str] = mapped_column(String(40), index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)  # no FK: it outlives rows
    actor_email: Mapped[str] = mapped_column(String(254), default="")
    origin: Mapped[str] = mapped_column(String(20))  # page, api, command
    token_id: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(64), default="")
    school_id: Mapped[int | None] = mapped_column(Integer, index=True)
    table_name: Mapped[str] = mapped_column(String(80), default="")
    record_id: Mapped[str] = mapped_column(String(80), default="")
    # Canonical JSON: the fields before and after, or what an event needs (e-mail tried, file).
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class JournalRevision(Model):
    """Where the chain stood at the last change of one school's records (``scope``: the school's
    id) or of records no school owns (scope 0: the référentiels, or a row whose school could not
    be told without a query). Moved by ``journal.hooks`` with the entries, under the head's lock;
    read by ``web.page_cache`` to name what a cached page was computed from."""

    __journal_skip__ = True

    scope: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class JournalHead(Model):
    """The chain's head: one row (id 1), locked by each writer until its transaction ends."""

    __journal_skip__ = True

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS)
