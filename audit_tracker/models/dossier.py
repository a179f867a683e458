"""Dossier builds: each evidence dossier the school generated, kept with what it was built from.

A row answers "what exactly did we send on 10 April?": when, by whom, with which options, and the
size and SHA-256 of the PDF (and of the ZIP) that came out. The files themselves live in the
storage backend under opaque keys; the row is the only way to find them.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, CheckConstraint, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model, enum_column, utcnow
from .campaign import Campaign


class BuildStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def label(self) -> str:
        return str(BUILD_STATUS_LABELS[self])

    @property
    def finished(self) -> bool:
        return self in {BuildStatus.DONE, BuildStatus.FAILED}


BUILD_STATUS_LABELS = {
    BuildStatus.QUEUED: _l("En attente"),
    BuildStatus.RUNNING: _l("En cours"),
    BuildStatus.DONE: _l("Terminé"),
    BuildStatus.FAILED: _l("Échec"),
}


class DossierBuild(Model):
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_in_range"),
        # A finished build has its PDF; nothing else has one (no half-written output is kept).
        CheckConstraint("(status = 'done') = (pdf_key IS NOT NULL)", name="pdf_iff_done"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    # DossierOptions.to_json(): frameworks, sections, sites, annexes, personal data, reference date.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[BuildStatus] = enum_column(BuildStatus, default=BuildStatus.QUEUED, index=True)
    progress: Mapped[int] = mapped_column(default=0)
    step: Mapped[str] = mapped_column(String(200), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Last sign of life of the process building it: progress writes refresh it, and a build
    # whose runner went silent for too long is declared failed (see dossier.jobs).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who runs it: "inprocess:<host>:<pid>:<nonce>" or "rq:<job id>".
    runner: Mapped[str] = mapped_column(String(200), default="")
    pdf_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    zip_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    zip_size: Mapped[int | None] = mapped_column(BigInteger)
    zip_sha256: Mapped[str | None] = mapped_column(String(64))
    page_count: Mapped[int | None]
    piece_count: Mapped[int | None]

    campaign: Mapped[Campaign] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DossierBuild {self.id} {self.status}>"
