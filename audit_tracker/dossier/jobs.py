"""Dossier builds in the background: queueing, running, recording, and recovering lost builds.

A 400-page dossier takes minutes; the director must not stare at a frozen browser. A request only
records a :class:`~audit_tracker.models.DossierBuild` row ("queued") and hands its id to a runner;
the page then polls the row's progress.

Two runners, chosen by ``DOSSIER_QUEUE`` (``AUDIT_TRACKER_DOSSIER_QUEUE``):

- ``inprocess`` (default): a small thread pool inside the web process (``DOSSIER_WORKERS``
  threads, 1 by default: a build is CPU- and memory-heavy and the machine has few cores, so a
  second request waits its turn, visibly "en attente"). No server to install, which suits one
  school on one machine. A process that dies takes its pool with it: its builds would stay
  "running" forever, so every read of a build checks that its runner is still alive (same
  host: the process id, plus a per-process nonce because a restarted container often gets the
  same pid back) and that it gave a sign of life recently; a lost build is marked failed with a
  French explanation. :func:`recover_stale_builds` does the same for every build at start-up.
- ``rq``: an RQ queue on Redis (``REDIS_URL``; ``pip install 'audit_tracker[queue]'``), for a
  network-wide deployment with several stateless web workers. A worker runs ``rq worker --url
  $AUDIT_TRACKER_REDIS_URL dossier`` (or :func:`run_worker`) with the same ``AUDIT_TRACKER_*``
  environment as the web process. A build whose RQ job failed, vanished or went silent is
  marked failed on read as well.

Either way the job function takes only the build id (:func:`run_build`): it opens its own
application context (``create_app()`` from the environment for RQ, the web app for the pool),
runs ``build_dossier`` with a progress callback that writes the percentage and step to the row
(committed at most every 2 %, or on a new step after a second), stores the PDF and ZIP through
the storage backend under opaque keys, and records size, SHA-256, page and piece counts. Any
failure leaves the row failed with a French message and no output kept: the objects are written
first and the row committed after; if the commit fails, the objects are deleted again.

Outputs use the evidence storage backends (local disk or S3, ``evidence/storage.py``) but their
own namespace, ``instance/dossiers`` or the ``dossiers/`` prefix of the same bucket: generated
dossiers are not proofs, and ``flask evidence verify`` would report them as orphan objects.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import shutil
import socket
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..evidence.storage import LocalStorage, Storage, StorageError, upload_tmp_dir
from ..extensions import db
from ..models import BuildStatus, Campaign, DossierBuild, Section, Site, User
from ..models.base import utcnow
from .options import DossierOptions, DossierOptionsError

if TYPE_CHECKING:
    from redis import Redis
    from rq import Queue

log = logging.getLogger(__name__)

INPROCESS = "inprocess"
RQ = "rq"
RQ_QUEUE_NAME = "dossier"

# A running build writes progress at least this often (see _Progress); silence far longer than
# that means its process is gone. Generous: merging one huge PDF can take a while between calls.
HEARTBEAT_SECONDS = 30
STALE_RUNNING = timedelta(minutes=30)
# A queued build may wait behind others; a day without starting is not waiting any more.
STALE_QUEUED = timedelta(hours=24)
# RQ: the row is committed before the job is enqueued; a job missing for less than this is
# probably being enqueued right now.
RQ_GRACE = timedelta(minutes=1)

# Changes on every process start, even when a container hands out the same pid again.
_NONCE = secrets.token_hex(6)


class DossierJobError(Exception):
    """The build could not be queued (French message, for the user)."""


@dataclass(frozen=True)
class JobSettings:
    queue: str
    workers: int
    redis_url: str | None
    job_timeout: int  # seconds an RQ job may run


def settings(app: Flask) -> JobSettings:
    """The runner settings; values from the environment arrive as strings."""
    config = app.config
    queue = str(config.get("DOSSIER_QUEUE") or INPROCESS).strip().lower()
    if queue not in {INPROCESS, RQ}:
        raise ValueError(f"unknown DOSSIER_QUEUE {queue!r}: use 'inprocess' or 'rq'")
    return JobSettings(
        queue=queue,
        workers=max(1, int(config.get("DOSSIER_WORKERS") or 1)),
        redis_url=config.get("REDIS_URL") or None,
        job_timeout=int(config.get("DOSSIER_JOB_TIMEOUT") or 3 * 3600),
    )


# ------------------------------------------------------------------------------------ storage


def output_storage(app: Flask) -> Storage:
    """Where finished dossiers are kept: the evidence backend's kind, in its own namespace."""
    storage = app.extensions.get("dossier_storage")
    if storage is None:
        config = app.config
        if config["EVIDENCE_STORAGE"] == "s3":
            from ..evidence.s3 import S3Storage

            storage = S3Storage(
                config["S3_BUCKET"],
                prefix=config.get("DOSSIER_S3_PREFIX") or "dossiers/",
                endpoint_url=config["S3_ENDPOINT_URL"],
                region_name=config["S3_REGION"],
                access_key=config["S3_ACCESS_KEY"],
                secret_key=config["S3_SECRET_KEY"],
            )
        else:
            storage = LocalStorage(
                config.get("DOSSIER_DIR") or Path(app.instance_path) / "dossiers"
            )
        app.extensions["dossier_storage"] = storage
    return storage


def new_output_key() -> str:
    """Opaque, unguessable: nothing of the school or the campaign is in it."""
    return secrets.token_hex(20)


# ------------------------------------------------------------------------------------ queueing


def start_build(
    session: Session,
    app: Flask,
    campaign: Campaign,
    options: DossierOptions,
    author: User | None,
    *,
    with_zip: bool = True,
) -> DossierBuild:
    """Record a queued build of ``campaign`` with ``options`` and hand it to the configured
    runner. Raises DossierJobError, with the row marked failed, if the runner
    refuses it."""
    job_settings = settings(app)
    data = dict(options.to_json())
    build = DossierBuild(
        campaign_id=campaign.id,
        options={**data, "with_zip": bool(with_zip)},
        status=BuildStatus.QUEUED,
        created_by_id=author.id if author is not None else None,
        heartbeat_at=utcnow(),
        runner=_inprocess_runner_id() if job_settings.queue == INPROCESS else "",
    )
    session.add(build)
    session.commit()
    try:
        if job_settings.queue == RQ:
            _enqueue_rq(session, app, build, job_settings)
        else:
            _executor(app, job_settings).submit(_run_with_app, app, build.id)
    except Exception as error:  # Redis down, pool shut down: say so, keep nothing queued
        log.exception("Could not queue dossier build %s", build.id)
        _mark_failed(
            session,
            build.id,
            _(
                "La construction n’a pas pu être mise en file d’attente (%(error)s). "
                "Réessayez plus tard ou prévenez l’administrateur.",
                error=_short(error),
            ),
        )
        raise DossierJobError(build.error) from error
    return build


def _inprocess_runner_id() -> str:
    return f"{INPROCESS}:{socket.gethostname()}:{os.getpid()}:{_NONCE}"


def _executor(app: Flask, job_settings: JobSettings) -> ThreadPoolExecutor:
    executor = app.extensions.get("dossier_executor")
    if executor is None:
        executor = ThreadPoolExecutor(
            max_workers=job_settings.workers, thread_name_prefix="dossier-build"
        )
        app.extensions["dossier_executor"] = executor
    return executor


def shutdown_runner(app: Flask, wait: bool = True) -> None:
    """Stop the in-process pool (tests, or a clean shutdown), waiting for the running build.
    Builds still waiting are dropped; once this process is gone, reading them marks them failed.
    """
    executor = app.extensions.pop("dossier_executor", None)
    if executor is not None:
        executor.shutdown(wait=wait, cancel_futures=True)


def redis_connection(app: Flask) -> Redis:
    """The Redis connection of the RQ runner, made once per application."""
    connection: Redis | None = app.extensions.get("dossier_redis")
    if connection is None:
        try:
            from redis import Redis
            from rq import Queue  # noqa: F401 - checked here, to say what to install
        except ImportError as error:
            raise DossierJobError(
                _("La file RQ est choisie (DOSSIER_QUEUE=rq) mais RQ n’est pas installé : "
                  "pip install 'audit_tracker[queue]'.")
            ) from error
        url = settings(app).redis_url
        if not url:
            raise DossierJobError(
                _("La file RQ est choisie (DOSSIER_QUEUE=rq) mais REDIS_URL n’est pas réglé.")
            )
        connection = Redis.from_url(url)
        app.extensions["dossier_redis"] = connection
    return connection


def rq_queue(app: Flask) -> Queue:
    from rq import Queue

    return Queue(
        app.config.get("DOSSIER_RQ_QUEUE") or RQ_QUEUE_NAME, connection=redis_connection(app)
    )


def _enqueue_rq(
    session: Session, app: Flask, build: DossierBuild, job_settings: JobSettings
) -> None:
    job_id = f"dossier-{build.id}-{secrets.token_hex(6)}"
    build.runner = f"{RQ}:{job_id}"
    session.commit()
    rq_queue(app).enqueue(
        run_build,
        build.id,
        job_id=job_id,
        job_timeout=job_settings.job_timeout,
        result_ttl=24 * 3600,
        failure_ttl=7 * 24 * 3600,
        description=f"dossier build {build.id}",
    )


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Serve the dossier queue until stopped (``burst``: until it is empty). For a CLI command
    such as ``flask dossier worker``; ``rq worker --url … dossier`` does the same."""
    from rq import Worker

    return Worker([rq_queue(app)], connection=redis_connection(app)).work(burst=burst)


# ------------------------------------------------------------------------------------- running


def run_build(build_id: int) -> None:
    """The RQ job: its own application from the environment, then the build. Never raises for
    a build error (the row says it); the engine is disposed so a worker keeps no connection."""
    from .. import create_app

    app = create_app()
    try:
        _run_with_app(app, build_id)
    finally:
        with app.app_context():
            db.engine.dispose()


def _run_with_app(app: Flask, build_id: int) -> None:
    """One build in a fresh application context (a thread of the pool, or an RQ job)."""
    with app.app_context():
        try:
            execute_build(db.session(), app, build_id)
        except Exception:  # the row is already marked failed; a thread must not die loudly
            log.exception("Dossier build %s failed", build_id)
        finally:
            db.session.remove()


def execute_build(
    session: Session, app: Flask, build_id: int, *, today: date | None = None
) -> DossierBuild | None:
    """Run the build ``build_id`` if it is still queued: build, store, record. Returns the row."""
    # The progress callback commits while the builder holds loaded objects: do not expire them.
    expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
    try:
        return _execute(session, app, build_id, today)
    finally:
        session.expire_on_commit = expire_on_commit


def _execute(
    session: Session, app: Flask, build_id: int, today: date | None
) -> DossierBuild | None:
    from .builder import build_dossier

    build = session.get(DossierBuild, build_id)
    if build is None or build.status is not BuildStatus.QUEUED:
        return build  # already taken, or recovered as failed while it waited
    build.status = BuildStatus.RUNNING
    build.started_at = build.heartbeat_at = utcnow()
    build.step = _("Démarrage")
    session.commit()

    workdir = Path(tempfile.mkdtemp(prefix=f"dossier-{build_id}-", dir=upload_tmp_dir(app)))
    stored: list[str] = []
    storage = output_storage(app)
    try:
        options = options_of(build)
        with_zip = bool(build.options.get("with_zip", True))
        pdf_path = workdir / "dossier.pdf"
        zip_path = workdir / "dossier.zip" if with_zip else None
        result = build_dossier(
            build.campaign,
            options,
            pdf_path,
            zip_path=zip_path,
            progress=_Progress(session, build),
            today=today,
        )
        build.step = _("Enregistrement des fichiers")
        zip_size, zip_sha256 = _digest(result.zip_path) if result.zip_path else (None, None)
        pdf_key = new_output_key()
        storage.put(pdf_key, Path(result.pdf_path))
        stored.append(pdf_key)
        zip_key = None
        if result.zip_path:
            zip_key = new_output_key()
            storage.put(zip_key, Path(result.zip_path))
            stored.append(zip_key)
        build.pdf_key, build.zip_key = pdf_key, zip_key
        build.size, build.sha256 = result.size, result.sha256
        build.zip_size, build.zip_sha256 = zip_size, zip_sha256
        build.page_count, build.piece_count = result.page_count, result.piece_count
        build.status = BuildStatus.DONE
        build.progress = 100
        build.step = _("Terminé")
        build.finished_at = build.heartbeat_at = utcnow()
        session.commit()
    except Exception as error:
        session.rollback()
        for key in stored:  # no half-kept output: the row never pointed at them
            with contextlib.suppress(StorageError, OSError):
                storage.delete(key)
        log.exception("Dossier build %s failed", build_id)
        _mark_failed(session, build_id, failure_message(error))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return session.get(DossierBuild, build_id)


def failure_message(error: Exception) -> str:
    """What the director reads when a build fails: what happened, and that nothing was kept."""
    if isinstance(error, DossierOptionsError):
        detail = " ; ".join(str(m) for m in getattr(error, "messages", None) or [error])
        return _("Options du dossier invalides : %(detail)s", detail=detail)
    if isinstance(error, StorageError):
        return _(
            "Le dossier a été construit mais n’a pas pu être enregistré dans le stockage "
            "(%(error)s). Rien n’a été conservé ; relancez la construction.",
            error=_short(error),
        )
    if isinstance(error, SQLAlchemyError):
        return _(
            "La base de données n’a pas pu enregistrer le dossier (%(error)s). Rien n’a été "
            "conservé ; relancez la construction.",
            error=_short(error),
        )
    return _(
        "La construction du dossier a échoué : %(error)s. Rien n’a été conservé ; relancez-la "
        "ou prévenez l’administrateur.",
        error=_short(error),
    )


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text if len(text) <= 400 else text[:399] + "…"


def _mark_failed(session: Session, build_id: int, message: str) -> None:
    session.rollback()
    build = session.get(DossierBuild, build_id)
    if build is None or build.status is BuildStatus.DONE:
        return
    build.status = BuildStatus.FAILED
    build.error = message
    build.pdf_key = build.zip_key = None
    build.finished_at = utcnow()
    session.commit()


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with Path(path).open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


class _Progress:
    """The builder's progress callback: writes the row, throttled (at most every 2 %, a new step
    after a second, and a heartbeat every HEARTBEAT_SECONDS even when nothing moves)."""

    def __init__(self, session: Session, build: DossierBuild):
        self.session = session
        self.build = build
        self.percent = 0
        self.label = ""
        self.written_percent = 0
        self.written_at = time.monotonic()

    def __call__(self, percent: int, label: str) -> None:
        # 100 % is said by the final commit, once the files are stored.
        self.percent = max(self.percent, min(99, max(0, int(percent))))
        self.label = str(label or "")[:200]
        now = time.monotonic()
        elapsed = now - self.written_at
        if not (
            self.percent - self.written_percent >= 2
            or (self.label != self.build.step and elapsed >= 1)
            or elapsed >= HEARTBEAT_SECONDS
        ):
            return
        self.build.progress = self.percent
        self.build.step = self.label
        self.build.heartbeat_at = utcnow()
        try:
            self.session.commit()
        except SQLAlchemyError:  # e.g. SQLite busy: progress is not worth failing the build
            log.warning("Could not record the progress of build %s", self.build.id, exc_info=True)
            self.session.rollback()
            return
        self.written_percent, self.written_at = self.percent, now


# ------------------------------------------------------------------------------------ recovery


def recover_stale(session: Session, builds: Iterable[DossierBuild], app: Flask) -> int:
    """Mark failed, with its reason, each unfinished build whose runner is gone; how many."""
    lost = 0
    for build in builds:
        if build.status.finished:
            continue
        reason = stale_reason(build, app)
        if reason:
            build.status = BuildStatus.FAILED
            build.error = reason
            build.finished_at = utcnow()
            lost += 1
    if lost:
        session.commit()
    return lost


def recover_stale_builds(session: Session, app: Flask) -> int:
    """Every unfinished build checked at once: for start-up (``flask setup``, a worker start)."""
    builds = session.scalars(
        select(DossierBuild).where(
            DossierBuild.status.in_([BuildStatus.QUEUED, BuildStatus.RUNNING])
        )
    )
    return recover_stale(session, list(builds), app)


def stale_reason(build: DossierBuild, app: Flask, now: datetime | None = None) -> str | None:
    """Why ``build`` can no longer finish (French), or None while it may still (or is over)."""
    if build.status.finished:
        return None
    now = now or utcnow()
    last_sign = _aware(build.heartbeat_at or build.started_at or build.created_at)
    limit = STALE_RUNNING if build.status is BuildStatus.RUNNING else STALE_QUEUED
    if last_sign is not None and now - last_sign > limit:
        minutes = int(limit.total_seconds() // 60)
        return _(
            "Aucun signe de vie du processus de construction depuis plus de %(minutes)s minutes "
            "(serveur arrêté ou redémarré) : la construction est abandonnée, rien n’a été "
            "conservé. Relancez-la.",
            minutes=minutes,
        )
    kind, _sep, detail = (build.runner or "").partition(":")
    if kind == INPROCESS:
        return _inprocess_lost(detail)
    if kind == RQ:
        return _rq_lost(app, detail, build, now)
    return None


def _inprocess_lost(detail: str) -> str | None:
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
        "Le serveur qui construisait ce dossier a redémarré ou s’est arrêté avant la fin : la "
        "construction est abandonnée, rien n’a été conservé. Relancez-la."
    )


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, belongs to someone else
        return True
    return True


def _rq_lost(app: Flask, job_id: str, build: DossierBuild, now: datetime) -> str | None:
    try:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        job = Job.fetch(job_id, connection=redis_connection(app))
        status = job.get_status(refresh=False)
    except NoSuchJobError:
        created = _aware(build.created_at)
        if created is not None and now - created < RQ_GRACE:
            return None
        status = None
    except Exception:  # Redis unreachable now: do not judge a build on a network error
        log.warning("Could not check the RQ job of build %s", build.id, exc_info=True)
        return None
    if status in {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED,
                  JobStatus.SCHEDULED, JobStatus.CREATED}:
        return None
    return _(
        "Le travail de construction a disparu de la file d’attente ou s’est arrêté avant la fin "
        "(état : %(state)s) : la construction est abandonnée, rien n’a été conservé. Relancez-la.",
        state=status.value if status is not None else _("introuvable"),
    )


def _aware(moment: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored in UTC."""
    if moment.tzinfo is not None:
        return moment
    from datetime import UTC

    return moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------ reading builds


def options_of(build: DossierBuild) -> DossierOptions:
    """The build's DossierOptions (validated by the builder's own reader)."""
    data = {k: v for k, v in (build.options or {}).items() if k != "with_zip"}
    return DossierOptions.from_json(data)


def builds_of(session: Session, campaign: Campaign, app: Flask | None = None) -> list[DossierBuild]:
    """The campaign's builds, newest first, lost ones already marked failed."""
    builds = list(
        session.scalars(
            select(DossierBuild)
            .where(DossierBuild.campaign_id == campaign.id)
            .order_by(DossierBuild.created_at.desc(), DossierBuild.id.desc())
        )
    )
    # current_app is typed as the Flask it stands for, not as the proxy it is.
    recover_stale(session, builds, app or current_app._get_current_object())  # type: ignore[attr-defined]
    return builds


def describe_options(session: Session, build: DossierBuild) -> list[str]:
    """The build's options in words, for the build list: « what exactly did we send? »."""
    from flask_babel import format_date

    try:
        options = options_of(build)
    except Exception:  # an older or damaged record still lists, with what is readable
        return [_("options illisibles")]
    campaign = build.campaign
    frameworks = {f.id: f for f in campaign.frameworks}
    words: list[str] = []
    if options.framework_ids:
        names = [
            frameworks[i].label if i in frameworks else _("référentiel n° %(id)s", id=i)
            for i in options.framework_ids
        ]
        words.append(_("référentiels : %(names)s", names=", ".join(names)))
    else:
        words.append(_("tous les référentiels de la campagne"))
    if options.section_ids:
        sections = session.scalars(select(Section).where(Section.id.in_(options.section_ids)))
        names = [f"{s.code} {s.title}".strip() for s in sections]
        words.append(_("sections : %(names)s", names=", ".join(names)))
    else:
        words.append(_("toutes les sections"))
    if options.site_ids:
        sites = session.scalars(select(Site).where(Site.id.in_(options.site_ids)))
        words.append(_("sites : %(names)s", names=", ".join(s.name for s in sites)))
    else:
        words.append(_("tous les sites"))
    words.append(_("avec annexes") if options.with_annexes else _("sans annexes"))
    words.append(
        _("données personnelles incluses")
        if options.include_personal_data
        else _("sans données personnelles")
    )
    if options.as_of:
        words.append(_("référence au %(day)s", day=format_date(options.as_of, "d MMMM yyyy")))
    if build.options.get("with_zip", True):
        words.append(_("archive ZIP"))
    return words


def status_of(build: DossierBuild) -> dict[str, Any]:
    """The build as JSON (the page's poll and the API's job), without URLs."""
    return {
        "job_id": build.id,
        "campaign_id": build.campaign_id,
        "status": build.status.value,
        "status_label": build.status.label,
        "progress": build.progress,
        "step": build.step,
        "error": build.error or None,
        "options": build.options,
        "created_at": _iso(build.created_at),
        "started_at": _iso(build.started_at),
        "finished_at": _iso(build.finished_at),
        "created_by": build.created_by.full_name if build.created_by else None,
        "size": build.size,
        "sha256": build.sha256,
        "zip_size": build.zip_size,
        "zip_sha256": build.zip_sha256,
        "page_count": build.page_count,
        "piece_count": build.piece_count,
    }


def _iso(moment: datetime | None) -> str | None:
    return _aware(moment).isoformat() if moment else None
