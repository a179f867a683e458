"""Dossier builds: each evidence dossier the school generated, kept with what it was built from.

A row answers "what exactly did we send on 10 April?": when, by whom, with which options, and the
size and SHA-256 of the PDF (and of the ZIP) that came out. The files themselves live in the
storage backend under opaque keys; the row is the only way to find them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model
from .campaign import Campaign
from .jobs import JobRow


class DossierBuild(JobRow, Model):
    """One dossier build: its options and the PDF (and ZIP) it produced; the job's own columns
    come from :class:`JobRow`."""

    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_in_range"),
        # A finished build has its PDF; nothing else has one (no half-written output is kept).
        CheckConstraint("(status = 'done') = (pdf_key IS NOT NULL)", name="pdf_iff_done"),
    )

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    # DossierOptions.to_json(): frameworks, sections, sites, annexes, personal data, reference date.
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    pdf_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    zip_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    zip_size: Mapped[int | None] = mapped_column(BigInteger)
    zip_sha256: Mapped[str | None] = mapped_column(String(64))
    page_count: Mapped[int | None]
    piece_count: Mapped[int | None]
    # HMAC-SHA256 (``audit_tracker.signing``) over who built what, with which options, and the
    # outputs' hashes and sizes: « what did we send on 10 April? » cannot be rewritten unseen.
    seal: Mapped[str | None] = mapped_column(String(64))

    campaign: Mapped[Campaign] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<DossierBuild {self.id} {self.status}>"
