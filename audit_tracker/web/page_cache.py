"""Page fragments computed from a school's whole record, kept until anything is recorded.

The director's dashboard judges every criterion from the rows on each request; a director or a
quality lead opens it many times between two changes. A fragment is therefore stored under a key
naming everything it was computed from, and nothing is ever invalidated: a change makes a new
key, and the old entries age out (``PAGE_CACHE_SECONDS``) or are pushed out by newer ones.

- **The record**: where the journal stood at the last change of the school's records and of the
  records no school owns (``JournalRevision``). Every change of every row appends to the hash
  chain in its own transaction and moves the revision of the school that owns the row, or the
  shared one when that cannot be told (``journal.hooks``): another school's work leaves this
  school's pages cached. An entry's hash, unlike its position, never repeats across databases,
  test runs or a restored backup. The revision is read first, before anything the fragment
  shows, so an entry never holds a state older than its key.
- **The day, the language and the time zone**: « today » moves the deadlines.
- **The code**: templates and modules, by their size and time of change, so a deployment never
  serves a fragment an older version rendered (the Redis cache outlives the processes).
- **What the view was asked and who asks**: the view names it (a campaign, a date, a site, a role).

Backends: one per process by default (``make run``), Redis when ``REDIS_URL`` is set (the web
processes of ``make serve`` share it, each with its own copy of what it served in front), none
with ``PAGE_CACHE=none``. When Redis does not answer,
the page is computed as if nothing were cached, and the failure is logged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Hashable, Iterable
from datetime import timedelta
from functools import cache
from pathlib import Path
from typing import Any

from cachelib import BaseCache, NullCache, RedisCache, SimpleCache
from flask import Flask, current_app
from flask_babel import get_locale

from ..clock import local_today
from ..extensions import db
from ..journal.service import revision as journal_revision

EXTENSION = "audit_tracker.page_cache"
PACKAGE_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = PACKAGE_DIR.parent / "templates"
log = logging.getLogger(__name__)


def init_page_cache(app: Flask) -> None:
    """Choose the backend from the settings: ``PAGE_CACHE`` (simple, redis, none) or, left
    empty, Redis when ``REDIS_URL`` is set and this process's memory otherwise."""
    choice = (app.config.get("PAGE_CACHE") or "").strip().lower()
    url = app.config.get("REDIS_URL")
    if not choice:
        choice = "redis" if url else "simple"
    seconds = int(app.config.get("PAGE_CACHE_SECONDS", 3600))

    def local() -> SimpleCache:
        return SimpleCache(threshold=int(app.config.get("PAGE_CACHE_ENTRIES", 500)),
                           default_timeout=seconds)

    backend: BaseCache
    if choice == "none":
        backend = NullCache()
    elif choice == "redis":
        if not url:
            raise RuntimeError("AUDIT_TRACKER_PAGE_CACHE=redis demande AUDIT_TRACKER_REDIS_URL.")
        from redis import Redis

        backend = Tiered(local(), RedisCache(
            host=Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1),
            key_prefix="audit_tracker:page:", default_timeout=seconds))
    elif choice == "simple":
        backend = local()
    else:
        raise RuntimeError(f"AUDIT_TRACKER_PAGE_CACHE={choice[:40]!r} : valeurs possibles "
                           "simple, redis ou none.")
    app.extensions[EXTENSION] = backend


class Tiered(BaseCache):
    """This process's memory in front of the shared cache. An entry never changes once written
    (its key names what it was computed from), so a local copy is never stale: a page this
    process served before costs neither a round trip nor unpickling 50 kB."""

    def __init__(self, near: BaseCache, far: BaseCache) -> None:
        super().__init__()
        self.near, self.far = near, far

    def get(self, key: str) -> Any:
        found = self.near.get(key)
        if found is None:
            found = self.far.get(key)
            if found is not None:
                self.near.set(key, found)
        return found

    def set(self, key: str, value: Any, timeout: int | timedelta | None = None) -> bool:
        self.near.set(key, value, timeout)
        return bool(self.far.set(key, value, timeout))

    def clear(self) -> bool:
        self.near.clear()
        return bool(self.far.clear())


def revision(school_id: int) -> str:
    """Which school, and where the journal stood at the last change of its records and of the
    shared ones: call it first in a view, before reading anything the page shows. The school is
    named because two schools that never changed share a revision: a page found under this one
    was computed for this school, with its checks passed (a campaign of its own, say)."""
    return f"{school_id}:{journal_revision(db.session, school_id)}"


def fragment(record: str, name: str, asked: Iterable[Hashable],
             render: Callable[[], dict[str, str]]) -> dict[str, str]:
    """The named parts of a page that ``render`` makes (its title, its content…), from the cache
    when the same ones were rendered on the same ``record`` (``revision()``), day, language and
    code; ``asked`` is what the view was asked and for whom (everything else the parts depend
    on). Parts keep their type: ``Markup`` (a template's output) stays HTML, text stays text."""
    key = _key(record, name, asked)
    backend: BaseCache = current_app.extensions[EXTENSION]
    stored = _quietly(backend.get, key)
    if isinstance(stored, dict):
        return stored
    parts = render()
    _quietly(backend.set, key, parts)
    return parts


def clear(app: Flask) -> None:
    """Forget every fragment of this process's backend (tests measuring the computed page)."""
    _quietly(app.extensions[EXTENSION].clear)


def _key(record: str, name: str, asked: Iterable[Hashable]) -> str:
    parts = (record, name, local_today().isoformat(), str(get_locale()),
             current_app.config["TIMEZONE"], code_stamp(), *map(repr, asked))
    return name + ":" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@cache
def code_stamp() -> str:
    """What the running code and templates are, by file size and time of change."""
    digest = hashlib.sha256()
    for root, patterns in ((PACKAGE_DIR, ("*.py", "*.mo")), (TEMPLATES_DIR, ("*.html",))):
        for pattern in patterns:
            for path in sorted(root.rglob(pattern)):
                stat = path.stat()
                digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n"
                              .encode())
    return digest.hexdigest()[:16]


def _unavailable() -> tuple[type[BaseException], ...]:
    """What a backend raises when it does not answer: the socket's errors, and Redis's."""
    try:
        from redis.exceptions import RedisError
    except ImportError:  # no Redis client installed: only the per-process backend is possible
        return (OSError,)
    return (OSError, RedisError)


def _quietly(method: Callable[..., Any], *args: Any) -> Any:
    """A backend call that never fails the page: a cache that does not answer is a miss."""
    try:
        return method(*args)
    except _unavailable():
        log.warning("page cache unavailable (%s): the page is computed", method.__qualname__,
                    exc_info=True)
        return None
