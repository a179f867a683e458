"""Running a job: submitting it, the in-process pool, and one job's run from start to finish.

The runner of each kind is chosen by ``<NAME>_QUEUE`` (``AUDIT_TRACKER_DOSSIER_QUEUE`` for the
dossier):

- ``inprocess`` (default): a small thread pool inside the web process (``<NAME>_WORKERS``
  threads, 1 by default: a dossier build is CPU- and memory-heavy and the machine has few cores,
  so a second request waits its turn, visibly « en attente »). No server to install.
- ``rq``: an RQ queue on Redis (``redis_queue``), for several stateless web workers.

Either way a job carries only its row's id. :func:`execute` runs it in its own session: the row
goes « en cours », the kind's ``run`` does the work with a progress callback that writes the row,
stores its files under opaque keys, and fills the row; the row is then committed « terminé ».
Any failure leaves the row failed with the kind's French message and no file kept: the files
are stored first and the row committed after; if anything fails, they are deleted again.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..clock import as_utc, utcnow
from ..extensions import db
from ..models import BuildStatus, JobRow
from ..storage import storage_for, upload_tmp_dir
from .kinds import INPROCESS, RQ, JobContext, JobError, JobKind, kind_named, registry, settings
from .progress import Progress
from .recovery import inprocess_runner_id, recover_lost
from .redis_queue import enqueue

log = logging.getLogger(__name__)

Row = TypeVar("Row", bound=JobRow)


def submit(session: Session, app: Flask, kind: JobKind[Any], row: Row) -> Row:
    """Record ``row`` as queued and hand it to the runner of ``kind``. Commits: a runner in
    another thread or process must be able to read the row (with an upload's store-then-commit,
    one of the two places where a service commits). Raises JobError, the row marked failed, if
    the runner refuses it."""
    job_settings = settings(app, kind)
    recover_lost(session, app)  # what an earlier life of this process left behind
    row.status = BuildStatus.QUEUED
    row.heartbeat_at = utcnow()
    row.runner = inprocess_runner_id() if job_settings.queue == INPROCESS else ""
    session.add(row)
    session.commit()
    try:
        if job_settings.queue == RQ:
            enqueue(session, app, kind, row)
        else:
            _pool(app, kind).submit(run_in_app, app, kind.name, row.id)
    except Exception as error:  # Redis down, pool shut down: say so, keep nothing queued
        log.exception("Could not queue %s job %s", kind.name, row.id)
        mark_failed(session, kind, row.id, _(
            "La construction n’a pas pu être mise en file d’attente (%(error)s). Réessayez plus "
            "tard ou prévenez l’administrateur.", error=short_error(error)))
        raise JobError(row.error) from error
    return row


def _pool(app: Flask, kind: JobKind[Any]) -> ThreadPoolExecutor:
    key = _pool_key(kind)
    pool: ThreadPoolExecutor | None = app.extensions.get(key)
    if pool is None:
        pool = ThreadPoolExecutor(max_workers=settings(app, kind).workers,
                                  thread_name_prefix=f"{kind.name}-job")
        app.extensions[key] = pool
    return pool


def _pool_key(kind: JobKind[Any]) -> str:
    return f"audit_tracker.jobs.pool.{kind.name}"


def shutdown(app: Flask, wait: bool = True) -> None:
    """Stop the in-process pools (tests, or a clean shutdown), waiting for the running jobs.
    Jobs still waiting are dropped; once this process is gone, reading them shows them failed."""
    for kind in registry(app).kinds.values():
        pool: ThreadPoolExecutor | None = app.extensions.pop(_pool_key(kind), None)
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)


def run_in_app(app: Flask, kind_name: str, row_id: int) -> None:
    """One job in a fresh application context (a thread of the pool, or an RQ worker's app).
    Never raises for the job's own failure: its row says it."""
    with app.app_context():
        try:
            execute(db.session(), app, kind_named(app, kind_name), row_id)
        except Exception:  # the row is already marked failed; a thread must not die loudly
            log.exception("%s job %s failed", kind_name, row_id)
        finally:
            db.session.remove()


def execute(session: Session, app: Flask, kind: JobKind[Any], row_id: int) -> Any:
    """Run the job ``row_id`` of ``kind`` if it is still queued; returns its row, as it ends."""
    # The progress callback commits while the job holds loaded objects: do not expire them.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _execute(session, app, kind, row_id)
    finally:
        session.expire_on_commit = expire_on_commit


def _execute(session: Session, app: Flask, kind: JobKind[Any], row_id: int) -> Any:
    row = session.get(kind.model, row_id)
    if row is None or row.status is not BuildStatus.QUEUED:
        return row  # already taken, or recovered as failed while it waited
    row.status = BuildStatus.RUNNING
    row.started_at = row.heartbeat_at = utcnow()
    row.step = _("Démarrage")
    session.commit()

    workdir = Path(tempfile.mkdtemp(prefix=f"{kind.name}-{row_id}-", dir=upload_tmp_dir(app)))
    context = JobContext(
        session=session, app=app, workdir=workdir, progress=Progress(session, row),
        storage=storage_for(app, kind.outputs) if kind.outputs is not None else None,
    )
    try:
        kind.run(context, row)
        row.status = BuildStatus.DONE
        row.progress = 100
        row.step = _("Terminé")
        row.finished_at = row.heartbeat_at = utcnow()
        session.commit()
    except Exception as error:
        session.rollback()
        context.discard_stored()  # no half-kept output: the row never pointed at it
        log.exception("%s job %s failed", kind.name, row_id)
        mark_failed(session, kind, row_id, kind.failure_message(error))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return session.get(kind.model, row_id)


def mark_failed(session: Session, kind: JobKind[Any], row_id: int, message: str) -> None:
    """The job failed, for ``message`` (French); a finished one is left as it is."""
    session.rollback()
    row = session.get(kind.model, row_id)
    if row is None or row.status is BuildStatus.DONE:
        return
    row.status = BuildStatus.FAILED
    row.error = message
    row.finished_at = utcnow()
    session.commit()


def short_error(error: BaseException) -> str:
    """An exception as one bounded line for a French message."""
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 400 else text[:399] + "…"


def status_json(row: JobRow) -> dict[str, Any]:
    """What every job says of itself as JSON (the page's poll, the API's job)."""
    return {
        "job_id": row.id,
        "status": row.status.value,
        "status_label": row.status.label,
        "progress": row.progress,
        "step": row.step,
        "error": row.error or None,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat() if moment else None
