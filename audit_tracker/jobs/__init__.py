"""Background jobs: a dossier build today, a monthly note or a backup tomorrow.

A request only records a row (« en attente ») and hands its id to a runner; the page then polls
the row's progress. What is shared by every kind lives here: choosing the runner (an in-process
thread pool, or an RQ queue on Redis), running a job with its progress and heartbeat written to
its row, storing its files and failing cleanly, and recognising jobs lost with their process.

A new kind plugs in by declaring it, without copying any of this:

1. its model: a table with the columns of ``models.JobRow`` plus its own (a migration);
2. its kind: a subclass of :class:`JobKind` naming the model and its storage namespace, with
   ``run`` (the work: ``context.progress(percent, label)``, ``context.store(path)``, fill the row),
   ``failure_message`` and ``this_one``;
3. one line in ``create_app``'s ``register_jobs``; then ``submit(session, app, KIND, row)`` from a
   page or the API, ``show_lost(rows, app)`` when rows are read, ``status_json(row)`` to poll.

Its runner is then set by ``<NAME>_QUEUE``, ``<NAME>_WORKERS``, ``<NAME>_RQ_QUEUE`` and
``<NAME>_JOB_TIMEOUT`` (``DOSSIER_QUEUE`` and so on for the dossier).
"""

from .kinds import INPROCESS, RQ, JobContext, JobError, JobKind, init_jobs, registry, settings
from .progress import Progress
from .recovery import (
    RQ_GRACE,
    STALE_QUEUED,
    STALE_RUNNING,
    inprocess_runner_id,
    lost_reason,
    recover_lost,
    show_lost,
)
from .redis_queue import redis_connection, rq_queue, run_worker
from .runner import execute, run_in_app, short_error, shutdown, status_json, submit

__all__ = [
    "INPROCESS",
    "RQ",
    "RQ_GRACE",
    "STALE_QUEUED",
    "STALE_RUNNING",
    "JobContext",
    "JobError",
    "JobKind",
    "Progress",
    "execute",
    "init_jobs",
    "inprocess_runner_id",
    "lost_reason",
    "recover_lost",
    "redis_connection",
    "registry",
    "rq_queue",
    "run_in_app",
    "run_worker",
    "settings",
    "short_error",
    "show_lost",
    "shutdown",
    "status_json",
    "submit",
]
