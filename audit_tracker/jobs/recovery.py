"""Jobs lost with their process: recognised when read, recorded as failed by commands and runners.

A process that dies takes its in-process pool with it, and an RQ job can fail, vanish or go
silent: its row would say « en cours » forever. A job is lost when its runner is gone (same
host: the process id, plus a per-process nonce because a restarted container often gets the
same pid back; RQ: the job's state in Redis) or gave no sign of life for too long.

Reading never writes: a page or an API call shows a lost job as failed, with why, through
:func:`show_lost`. The row itself is marked failed by :func:`recover_lost`, which ``flask
setup``, the worker's start and the submission of a new job run.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterable
from datetime import datetime, timedelta

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..clock import as_utc, utcnow
from ..models import BuildStatus, JobRow
from .kinds import INPROCESS, RQ, kind_of, registry
from .redis_queue import job_state

log = logging.getLogger(__name__)

# Silence far longer than a running job's heartbeat (progress.HEARTBEAT_SECONDS) means its process
# is gone; generous, since merging one huge PDF can take a while between calls.
STALE_RUNNING = timedelta(minutes=30)
# A queued job may wait behind others; a day without starting is not waiting any more.
STALE_QUEUED = timedelta(hours=24)
# RQ: the row is committed before the job is enqueued; a job missing for less than this is
# probably being enqueued right now.
RQ_GRACE = timedelta(minutes=1)
# Alive in RQ's eyes: waiting, running, or about to.
RQ_ALIVE = {"queued", "started", "deferred", "scheduled", "created"}

# Changes on every process start, even when a container hands out the same pid again.
_NONCE = secrets.token_hex(6)


def inprocess_runner_id() -> str:
    """How this process signs the rows it runs: « inprocess:<host>:<pid>:<nonce> »."""
    return f"{INPROCESS}:{socket.gethostname()}:{os.getpid()}:{_NONCE}"


def lost_reason(row: JobRow, app: Flask, now: datetime | None = None) -> str | None:
    """Why ``row`` can no longer finish (French), or None while it may still (or is over)."""
    if row.status.finished:
        return None
    now = now or utcnow()
    last_sign = row.heartbeat_at or row.started_at or row.created_at
    limit = STALE_RUNNING if row.status is BuildStatus.RUNNING else STALE_QUEUED
    if last_sign is not None and now - as_utc(last_sign) > limit:
        minutes = int(limit.total_seconds() // 60)
        return _(
            "Aucun signe de vie du processus de construction depuis plus de %(minutes)s minutes "
            "(serveur arrêté ou redémarré) : la construction est abandonnée, rien n’a été "
            "conservé. Relancez-la.",
            minutes=minutes,
        )
    runner, _sep, detail = (row.runner or "").partition(":")
    if runner == INPROCESS:
        return _inprocess_lost(app, row, detail)
    if runner == RQ:
        return _rq_lost(app, row, detail, now)
    return None


def _inprocess_lost(app: Flask, row: JobRow, detail: str) -> str | None:
    host, _sep, rest = detail.partition(":")
    pid_text, _sep, nonce = rest.partition(":")
    if host != socket.gethostname() or not pid_text.isdigit():
        return None  # another machine's process: only the heartbeat can tell
    pid = int(pid_text)
    # Our own pid with another nonce: an earlier life of this process (a restarted container).
    alive = nonce == _NONCE if pid == os.getpid() else _pid_alive(pid)
    if alive:
        return None
    return _(
        "Le serveur qui construisait %(what)s a redémarré ou s’est arrêté avant la fin : la "
        "construction est abandonnée, rien n’a été conservé. Relancez-la.",
        what=kind_of(app, row).this_one(),
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


def _rq_lost(app: Flask, row: JobRow, job_id: str, now: datetime) -> str | None:
    try:
        state = job_state(app, kind_of(app, row), job_id)
    except Exception:  # Redis unreachable now: do not judge a job on a network error
        log.warning("Could not check the RQ job of job %s", row.id, exc_info=True)
        return None
    if state is None and now - as_utc(row.created_at) < RQ_GRACE:
        return None
    if state in RQ_ALIVE:
        return None
    return _(
        "Le travail de construction a disparu de la file d’attente ou s’est arrêté avant la fin "
        "(état : %(state)s) : la construction est abandonnée, rien n’a été conservé. Relancez-la.",
        state=state or _("introuvable"),
    )


def show_lost(rows: Iterable[JobRow], app: Flask) -> None:
    """Let each lost job among ``rows`` read as failed, with why, without writing anything: the
    values are set as if loaded, so the session has nothing to flush and a page view changes
    nothing in the database."""
    now = utcnow()
    for row in rows:
        reason = lost_reason(row, app, now)
        if reason:
            set_committed_value(row, "status", BuildStatus.FAILED)
            set_committed_value(row, "error", reason)
            set_committed_value(row, "finished_at", now)


def recover_lost(session: Session, app: Flask) -> int:
    """Mark failed, with its reason, every unfinished job whose runner is gone, and commit;
    returns how many (for ``flask setup``, a worker's start, a new submission)."""
    lost = 0
    now = utcnow()
    for kind in registry(app).kinds.values():
        unfinished = session.scalars(select(kind.model).where(
            kind.model.status.in_([BuildStatus.QUEUED, BuildStatus.RUNNING])))
        for row in list(unfinished):
            reason = lost_reason(row, app, now)
            if reason:
                row.status = BuildStatus.FAILED
                row.error = reason
                row.finished_at = now
                lost += 1
    if lost:
        session.commit()
    return lost
