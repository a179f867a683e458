"""The RQ runner: jobs in a Redis queue, run by worker processes (``pip install '.[queue]'``).

For a network-wide deployment with several stateless web workers. A worker runs ``flask dossier
worker`` (or ``rq worker --url $AUDIT_TRACKER_REDIS_URL dossier``) with the same
``AUDIT_TRACKER_*`` environment as the web process; an RQ job carries only its kind's name and
its row's id, and the worker makes its own application from the environment.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..models import JobRow
from .kinds import RQ, JobError, JobKind, registry, settings

REDIS_EXTENSION = "audit_tracker.jobs.redis"


def redis_connection(app: Flask, kind: JobKind[Any]) -> Any:
    """The Redis connection of the RQ runner, made once per application."""
    connection = app.extensions.get(REDIS_EXTENSION)
    if connection is None:
        setting = f"{kind.setting_prefix}_QUEUE"
        try:
            from redis import Redis
            from rq import Queue  # noqa: F401 - checked here, to say what to install
        except ImportError as error:
            raise JobError(_(
                "La file RQ est choisie (%(setting)s=rq) mais RQ n’est pas installé : "
                "pip install 'audit_tracker[queue]'.", setting=setting)) from error
        url = settings(app, kind).redis_url
        if not url:
            raise JobError(_("La file RQ est choisie (%(setting)s=rq) mais REDIS_URL n’est pas "
                             "réglé.", setting=setting))
        connection = Redis.from_url(url)
        app.extensions[REDIS_EXTENSION] = connection
    return connection


def rq_queue(app: Flask, kind: JobKind[Any]) -> Any:
    """The RQ queue of ``kind`` (``<NAME>_RQ_QUEUE``, by default its name)."""
    from rq import Queue

    return Queue(settings(app, kind).rq_queue, connection=redis_connection(app, kind))


def enqueue(session: Session, app: Flask, kind: JobKind[Any], row: JobRow) -> None:
    """Sign the row with its RQ job's id, commit, and put the job on the queue."""
    job_id = f"{kind.name}-{row.id}-{secrets.token_hex(6)}"
    row.runner = f"{RQ}:{job_id}"
    session.commit()
    rq_queue(app, kind).enqueue(
        registry(app).entry_point,
        kind.name,
        row.id,
        job_id=job_id,
        job_timeout=settings(app, kind).job_timeout,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"{kind.name} {row.id}",
    )


def job_state(app: Flask, kind: JobKind[Any], job_id: str) -> str | None:
    """The RQ job's status (``queued``, ``started``, ``failed``...; empty when RQ does not say),
    or None once it vanished from Redis. Raises when Redis cannot be asked."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=redis_connection(app, kind))
    except NoSuchJobError:
        return None
    status = job.get_status(refresh=False)
    return str(status.value) if status is not None else ""


def run_worker(app: Flask, kinds: list[JobKind[Any]], *, burst: bool = False) -> bool:
    """Serve the queues of ``kinds`` until stopped (``burst``: until they are empty)."""
    from rq import Worker

    queues = [rq_queue(app, kind) for kind in kinds]
    worker = Worker(queues, connection=redis_connection(app, kinds[0]))
    return bool(worker.work(burst=burst))
