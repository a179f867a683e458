"""A running job's progress, written to its row: what the user's progress bar reads."""

from __future__ import annotations

import logging
import time

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..models import JobRow

log = logging.getLogger(__name__)

# A running job writes progress at least this often, even when nothing moves; silence far longer
# than that means its process is gone (see recovery.STALE_RUNNING).
HEARTBEAT_SECONDS = 30


class Progress:
    """The job's progress callback, ``progress(percent, label)``: writes the row, throttled (at
    most every 2 %, a new step after a second, and a heartbeat every HEARTBEAT_SECONDS even when
    nothing moves). 100 % is said by the runner's final commit, once the files are stored."""

    def __init__(self, session: Session, row: JobRow) -> None:
        self.session = session
        self.row = row
        self.percent = 0
        self.label = ""
        self.written_percent = 0
        self.written_at = time.monotonic()

    def __call__(self, percent: int, label: str) -> None:
        self.percent = max(self.percent, min(99, max(0, int(percent))))
        self.label = str(label or "")[:200]
        now = time.monotonic()
        elapsed = now - self.written_at
        if not (
            self.percent - self.written_percent >= 2
            or (self.label != self.row.step and elapsed >= 1)
            or elapsed >= HEARTBEAT_SECONDS
        ):
            return
        self.row.progress = self.percent
        self.row.step = self.label
        self.row.heartbeat_at = utcnow()
        try:
            self.session.commit()
        except SQLAlchemyError:  # e.g. SQLite busy: progress is not worth failing the job
            log.warning("Could not record the progress of job %s", self.row.id, exc_info=True)
            self.session.rollback()
            return
        self.written_percent, self.written_at = self.percent, now
