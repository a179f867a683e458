"""The hash chain: canonical content, appending under the head's lock, verifying.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's canonical content
(every column but the hash itself, as sorted JSON), so changing, removing or inserting an entry
breaks the chain from there on, and the head (``journal_head``) says where it must end.

Writers are serialised by the head's one row: PostgreSQL locks it (``SELECT … FOR UPDATE``) from
the first journaled flush of a transaction until its commit or rollback, so two transactions can
never give two entries the same position. SQLite has one writer at a time already; the head's
upsert takes its write lock before the head is read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..clock import as_utc
from ..models.journal import GENESIS, JournalEntry, JournalHead, JournalRevision

HEAD_ID = 1
ENTRY = JournalEntry.__table__
HEAD = JournalHead.__table__
REVISION = JournalRevision.__table__
NETWORK = 0  # the revision scope of records no school owns


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=str)


def _moment(at: datetime) -> str:
    return as_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def content(row: Any) -> str:
    """The canonical text of an entry (a row or a mapping), everything but its own hash."""
    get = row.get if isinstance(row, dict) else (lambda key: getattr(row, key))
    return canonical_json([
        get("seq"), _moment(get("at")), get("kind"), get("actor_id"), get("actor_email") or "",
        get("origin"), get("token_id"), get("address") or "", get("school_id"),
        get("table_name") or "", get("record_id") or "", get("detail") or "{}",
        get("prev_hash"),
    ])


def entry_hash(prev_hash: str, text: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def lock_head(connection: Connection) -> tuple[int, str]:
    """Make sure the head exists, lock it until the transaction ends, and read it."""
    dialect = connection.dialect.name
    row = {"id": HEAD_ID, "seq": 0, "hash": GENESIS}
    if dialect == "postgresql":
        connection.execute(postgresql.insert(HEAD).values(row).on_conflict_do_nothing())
    elif dialect == "sqlite":
        connection.execute(sqlite.insert(HEAD).values(row).on_conflict_do_nothing())
    elif connection.scalar(select(HEAD.c.id).where(HEAD.c.id == HEAD_ID)) is None:
        connection.execute(insert(HEAD).values(row))
    query = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)
    if dialect != "sqlite":
        query = query.with_for_update()
    head = connection.execute(query).one()
    return int(head.seq), str(head.hash)


def append(connection: Connection, entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chain and insert ``entries`` (mappings of the columns but seq and hashes), in order."""
    pending = list(entries)
    if not pending:
        return []
    seq, previous = lock_head(connection)
    for entry in pending:
        seq += 1
        entry["seq"] = seq
        entry["prev_hash"] = previous
        entry["hash"] = previous = entry_hash(previous, content(entry))
    connection.execute(insert(ENTRY), pending)
    connection.execute(update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=seq, hash=previous))
    return pending


def mark_revisions(connection: Connection, scopes: Iterable[int], hash_: str) -> None:
    """Note that the records of ``scopes`` (school ids, or ``NETWORK``) changed at the entry
    ``hash_``; called under the head's lock, in the transaction of the change."""
    rows = [{"scope": scope, "hash": hash_} for scope in sorted(set(scopes))]
    if not rows:
        return
    dialect = connection.dialect.name
    if dialect in {"postgresql", "sqlite"}:
        statement = (postgresql.insert(REVISION) if dialect == "postgresql"
                     else sqlite.insert(REVISION))
        connection.execute(statement.on_conflict_do_update(
            index_elements=[REVISION.c.scope], set_={"hash": statement.excluded.hash}), rows)
        return
    for row in rows:  # another database: no upsert statement, the head's lock serialises
        if not connection.execute(update(REVISION).where(REVISION.c.scope == row["scope"])
                                  .values(hash=hash_)).rowcount:
            connection.execute(insert(REVISION).values(row))


@dataclass
class Verdict:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(connection: Connection, batch: int = 1000) -> Verdict:
    """Walk the chain in order; report every entry that does not follow from the one before."""
    verdict = Verdict()
    head = connection.execute(select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)).first()
    expected_seq, previous = 1, GENESIS
    for row in _rows(connection, batch):
        verdict.checked += 1
        if row.seq != expected_seq:
            verdict.problems.append(
                f"entrée {row.seq} : position attendue {expected_seq} "
                "(une entrée manque ou a été ajoutée)")
        if row.prev_hash != previous:
            verdict.problems.append(
                f"entrée {row.seq} : ne suit pas l’entrée précédente (chaînage rompu)")
        if entry_hash(row.prev_hash, content(row)) != row.hash:
            verdict.problems.append(f"entrée {row.seq} : contenu modifié (empreinte fausse)")
        expected_seq, previous = row.seq + 1, row.hash
    last_seq = expected_seq - 1
    if head is not None:
        verdict.head_seq, verdict.head_hash = int(head.seq), str(head.hash)
    if (verdict.head_seq, verdict.head_hash) != (last_seq, previous):
        verdict.problems.append(
            f"la tête du journal ({verdict.head_seq}) ne correspond pas à la dernière entrée "
            f"({last_seq}) : des entrées ont été supprimées ou la tête modifiée")
    return verdict


def _rows(connection: Connection, batch: int) -> Iterator[Any]:
    after = 0
    while True:
        rows = connection.execute(
            select(ENTRY).where(ENTRY.c.seq > after).order_by(ENTRY.c.seq).limit(batch)).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
