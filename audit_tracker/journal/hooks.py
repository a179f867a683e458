"""Every flushed change journaled in its own transaction, for every model, present and future.

``install`` listens to the ORM session: before a flush that changes anything journaled, the
chain's head is locked (so the rows and their entries are written in one order by everyone);
after the flush, while the session still knows what was new, changed and deleted and the new
rows have their ids, one entry per row is appended on the flush's own connection. A commit
therefore keeps both, a rollback loses both: there is no change without its entry.

A model opts out with ``__journal_skip__ = True`` (the journal itself) and leaves columns out
with ``__journal_ignore__`` (a job's progress). Columns holding secrets are never copied: their
change is recorded as « masqué ». Writes that bypass the ORM's unit of work (Core statements)
are not seen here: the services use the ORM, and a rare bulk statement records its own event.
"""

from __future__ import annotations

import base64
import enum
import logging
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import ColumnProperty, RelationshipProperty, Session, scoped_session
from sqlalchemy.orm.attributes import NO_VALUE
from sqlalchemy.orm.interfaces import MANYTOMANY, MANYTOONE

from ..clock import as_utc, utcnow
from . import chain
from .context import current_actor

CREATE = "create"
UPDATE = "update"
DELETE = "delete"
MASKED = "masqué"
MAX_TEXT = 10_000
_SECRET_WORDS = ("password", "token", "secret", "signature")
log = logging.getLogger(__name__)


def install(sessions: scoped_session[Session]) -> None:
    """Journal every flush of the sessions ``sessions`` makes (the app's ``db.session``)."""
    if not event.contains(sessions, "before_flush", _before_flush):
        event.listen(sessions, "before_flush", _before_flush)
        event.listen(sessions, "after_flush", _after_flush)


def journaled(obj: Any) -> bool:
    return not getattr(type(obj), "__journal_skip__", False)


def _candidates(session: Session) -> bool:
    return any(journaled(o) for o in (*session.new, *session.dirty, *session.deleted))


def _before_flush(session: Session, _context: Any, _instances: Any) -> None:
    if _candidates(session):
        chain.lock_head(session.connection())


def _after_flush(session: Session, _context: Any) -> None:
    actor = current_actor()
    now = utcnow()
    entries = []
    scopes: set[int] = set()
    for kind, objects in ((CREATE, session.new), (UPDATE, session.dirty),
                          (DELETE, session.deleted)):
        for obj in objects:
            if not journaled(obj):
                continue
            changes = _changes(obj, kind)
            if kind == UPDATE and not changes:
                continue
            entries.append(_entry(actor, now, kind, obj, {"fields": changes}))
            scopes.add(owner_scope(obj))
    if entries:
        appended = chain.append(session.connection(), entries)
        chain.mark_revisions(session.connection(), scopes, appended[-1]["hash"])


def owner_scope(obj: Any) -> int:
    """The school whose records ``obj`` is one of (whoever changed it), or ``chain.NETWORK``
    when no school owns it or its school cannot be told without a query: a revision moved too
    widely costs a cached page, one not moved would serve a stale one."""
    mapper = inspect(obj).mapper
    if mapper.local_table.name == "school":
        return int(mapper.primary_key_from_instance(obj)[0])
    owner = _school_of(obj)
    if owner is None:
        log.debug("a change of %s moves every school's revision",
                  inspect(obj).mapper.local_table.name)
        return chain.NETWORK
    return owner


def _entry(actor: Any, now: datetime, kind: str, obj: Any,
           detail: dict[str, Any]) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    identity = mapper.primary_key_from_instance(obj)
    school_id = actor.school_id if actor.user_id else _school_of(obj)
    return {
        "at": now, "kind": kind, "actor_id": actor.user_id, "actor_email": actor.email,
        "origin": actor.origin, "token_id": actor.token_id, "address": actor.address,
        "school_id": school_id if isinstance(school_id, int) else None,
        "table_name": mapper.local_table.name,
        "record_id": "-".join(str(part) for part in identity)[:80],
        "detail": chain.canonical_json(detail),
    }


def _school_of(obj: Any, depth: int = 3) -> int | None:
    """The school a row belongs to: its own ``school_id``, or that of a parent the session
    already holds (a finding's milestone's campaign), found without any query."""
    state = inspect(obj)
    own = state.dict.get("school_id")
    if isinstance(own, int) or depth == 0:
        return own if isinstance(own, int) else None
    for prop in state.mapper.relationships:
        if prop.direction is MANYTOONE:
            parent = state.dict.get(prop.key)
            if parent is None or parent is NO_VALUE:
                parent = _held_parent(state, prop)
            if parent is not None:
                found = _school_of(parent, depth - 1)
                if found is not None:
                    return found
    return None


def _held_parent(state: Any, prop: RelationshipProperty[Any]) -> Any:
    """The parent a foreign key names, when the session's identity map holds it (the view that
    made the change loaded it to check access); None otherwise: never a query here."""
    if state.session is None:
        return None
    key = []
    for local, remote in prop.local_remote_pairs:
        if remote not in prop.mapper.primary_key:
            return None
        value = state.dict.get(state.mapper.get_property_by_column(local).key)
        if value is None:
            return None
        key.append(value)
    return state.session.identity_map.get(prop.mapper.identity_key_from_primary_key(key))


def _changes(obj: Any, kind: str) -> dict[str, list[Any]]:
    """``{field: [before, after]}``: all loaded fields of a new or deleted row, the changed
    ones of an updated row; many-to-many links as lists of ids."""
    state = inspect(obj)
    ignored: frozenset[str] = getattr(type(obj), "__journal_ignore__", frozenset())
    changes: dict[str, list[Any]] = {}
    for prop in state.mapper.iterate_properties:
        key = prop.key
        if key in ignored:
            continue
        if isinstance(prop, ColumnProperty):
            if kind == CREATE:
                value = state.dict.get(key)
                if value is not None:
                    changes[key] = [None, _safe(key, value)]
            elif kind == DELETE:
                if key in state.dict:
                    changes[key] = [_safe(key, state.dict[key]), None]
            else:
                history = state.attrs[key].history
                if history.added or history.deleted:
                    before = history.deleted[0] if history.deleted else None
                    after = history.added[0] if history.added else None
                    if before != after:
                        changes[key] = [_safe(key, before), _safe(key, after)]
        elif isinstance(prop, RelationshipProperty) and prop.direction is MANYTOMANY:
            history = state.attrs[key].history
            if kind == UPDATE and (history.added or history.deleted):
                before = [*history.unchanged, *history.deleted]
                after = [*history.unchanged, *history.added]
                changes[key] = [_ids(before), _ids(after)]
            elif kind == CREATE and history.added:
                changes[key] = [None, _ids(history.added)]
    return changes


def _ids(objects: Any) -> list[Any]:
    return sorted((_identity(o) for o in objects if o is not None and o is not NO_VALUE), key=str)


def _identity(obj: Any) -> Any:
    identity = inspect(obj).identity
    if not identity:
        return None
    return identity[0] if len(identity) == 1 else list(identity)


def _safe(key: str, value: Any) -> Any:
    """A value as JSON: secrets masked, dates in ISO form, long texts cut."""
    if value is None:
        return None
    if any(word in key for word in _SECRET_WORDS):
        return MASKED
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return f"<{len(value)} octets> " + base64.b64encode(value[:48]).decode()
    if isinstance(value, dict | list | tuple):
        text = chain.canonical_json(value) if not isinstance(value, str) else value
        return value if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"
