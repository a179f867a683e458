"""What every background job's row holds: its state, progress and signs of life.

A job kind (a dossier build today; a monthly note or a backup tomorrow) keeps its own table for
what it produces and takes these columns from :class:`JobRow`; the runner in ``audit_tracker.jobs``
reads and writes nothing else.
"""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import enum_column, utcnow


class BuildStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(BUILD_STATUS_LABELS[self])

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more to wait for, and a finished row can no longer be lost."""
        return self in {BuildStatus.DONE, BuildStatus.FAILED}


BUILD_STATUS_LABELS = {
    BuildStatus.QUEUED: _l("En attente"),
    BuildStatus.RUNNING: _l("En cours"),
    BuildStatus.DONE: _l("Terminé"),
    BuildStatus.FAILED: _l("Échec"),
}


class JobRow:
    """The columns of a background job's row (a mixin for a job kind's model)."""

    # Signs of life, not changes: the journal records the status, not every 2 % of progress.
    __journal_ignore__ = frozenset({"progress", "step", "heartbeat_at"})

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[BuildStatus] = enum_column(BuildStatus, default=BuildStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(default=0)  # 0-100, as the user sees it
    step: Mapped[str] = mapped_column(String(200), default="")  # what it is doing, in French
    # Why it failed, in French; written by the runner, not typed.
    error: Mapped[str] = mapped_column(Text, default="", info={"max_chars": None})
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last sign of life of the process running it: progress writes refresh it, and a job whose
    # runner went silent for too long is declared failed (see jobs.recovery).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who runs it: "inprocess:<host>:<pid>:<nonce>" or "rq:<job id>".
    runner: Mapped[str] = mapped_column(String(200), default="")
