"""What a kind of background job declares, and the application's list of them.

A kind is a subclass of :class:`JobKind`: its name, the model of its rows (with the columns of
:class:`~audit_tracker.models.JobRow`), where its files go, what it does, and how its failures
read. The app factory registers every kind once (:func:`init_jobs`); the runner finds a job's
kind by name (an RQ worker receives only the name and the row's id) or by its row's type.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from flask import Flask
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..models import JobRow
from ..storage import Namespace, Storage, StorageError, new_key
from .progress import Progress

INPROCESS = "inprocess"
RQ = "rq"
EXTENSION = "audit_tracker.jobs"

Row = TypeVar("Row", bound=JobRow)


class JobError(DomainError):
    """The job could not be queued (French message, for the user)."""


@dataclass
class JobContext:
    """What a running job is given: its session, a work folder removed afterwards, its progress
    callback, and the storage of its namespace, where :meth:`store` keeps a finished file."""

    session: Session
    app: Flask
    workdir: Path
    progress: Progress
    storage: Storage | None
    stored: list[str] = field(default_factory=list)

    def store(self, path: Path) -> str:
        """Keep the local file ``path`` under a new opaque key (removed again if the job fails
        before its row is committed)."""
        if self.storage is None:
            raise StorageError("this kind of job declares no storage namespace")
        key = new_key()
        self.storage.put(key, Path(path))
        self.stored.append(key)
        return key

    def discard_stored(self) -> None:
        """Delete what :meth:`store` kept: the row never pointed at it."""
        if self.storage is not None:
            for key in self.stored:
                with contextlib.suppress(StorageError, OSError):
                    self.storage.delete(key)
        self.stored.clear()


class JobKind(ABC, Generic[Row]):
    """One kind of background job. Subclass it, then list an instance in ``create_app``."""

    #: Short and stable: the prefix of its settings (``DOSSIER_QUEUE``, ``DOSSIER_WORKERS``...),
    #: its RQ queue's default name, and the start of its RQ job ids and work folders.
    name: ClassVar[str]
    #: The table of its rows.
    model: ClassVar[type[JobRow]]
    #: Where :meth:`JobContext.store` keeps its files, if it makes any.
    outputs: ClassVar[Namespace | None] = None

    @abstractmethod
    def run(self, context: JobContext, row: Row) -> None:
        """Do the work and fill the row's own columns; raise to fail (nothing is kept)."""

    @abstractmethod
    def failure_message(self, error: Exception) -> str:
        """What the user reads when the job failed with ``error`` (French)."""

    @abstractmethod
    def this_one(self) -> str:
        """The job as a French reader names it in a sentence: « ce dossier »."""

    @property
    def setting_prefix(self) -> str:
        """``DOSSIER`` for the kind ``dossier``: its settings are ``DOSSIER_QUEUE`` and so on."""
        return self.name.upper()


@dataclass(frozen=True)
class JobSettings:
    queue: str  # INPROCESS or RQ
    workers: int  # threads of the in-process pool
    redis_url: str | None
    job_timeout: int  # seconds an RQ job may run
    rq_queue: str  # the RQ queue's name


def settings(app: Flask, kind: JobKind[Any]) -> JobSettings:
    """The runner settings of ``kind`` (``<NAME>_QUEUE`` and so on); values from the
    environment arrive as strings."""
    config, prefix = app.config, kind.setting_prefix
    queue = str(config.get(f"{prefix}_QUEUE") or INPROCESS).strip().lower()
    if queue not in {INPROCESS, RQ}:
        raise ValueError(f"unknown {prefix}_QUEUE {queue!r}: use 'inprocess' or 'rq'")
    return JobSettings(
        queue=queue,
        workers=max(1, int(config.get(f"{prefix}_WORKERS") or 1)),
        redis_url=config.get("REDIS_URL") or None,
        job_timeout=int(config.get(f"{prefix}_JOB_TIMEOUT") or 3 * 3600),
        rq_queue=str(config.get(f"{prefix}_RQ_QUEUE") or kind.name),
    )


@dataclass(frozen=True)
class Registry:
    kinds: dict[str, JobKind[Any]]
    entry_point: str  # dotted name of the function an RQ worker calls: (kind name, row id)


def init_jobs(app: Flask, kinds: Iterable[JobKind[Any]], entry_point: str) -> None:
    """Register the application's kinds of job, and the worker's entry point (a function of
    the app factory's module, which makes its own application: see ``perform_job``)."""
    app.extensions[EXTENSION] = Registry({kind.name: kind for kind in kinds}, entry_point)


def registry(app: Flask) -> Registry:
    """The kinds ``init_jobs`` registered."""
    found: Registry = app.extensions[EXTENSION]
    return found


def kind_named(app: Flask, name: str) -> JobKind[Any]:
    """The kind called ``name`` (what an RQ job carries)."""
    return registry(app).kinds[name]


def kind_of(app: Flask, row: JobRow) -> JobKind[Any]:
    """The kind whose table ``row`` belongs to."""
    return next(kind for kind in registry(app).kinds.values() if isinstance(row, kind.model))
