"""The monthly « Point d'avancement »: the note the director sends the governance bodies and
funders, written by the product.

A draft keeps only what people write (the free parts); its figures and dates are computed each
time it is shown, as at ``as_of``. Issuing freezes everything: the computed parts go into
``computed`` as JSON, with the SHA-256 of the canonical form of the whole note, and the PDF and
DOCX are stored. An issued note never changes; a correction is a new note that names the one it
replaces (``replaces_id``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model, enum_column, utcnow
from .campaign import Campaign
from .evidence import Evidence


class NoteStatus(enum.StrEnum):
    DRAFT = "brouillon"
    ISSUED = "emise"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(NOTE_STATUS_LABELS[self])


NOTE_STATUS_LABELS = {
    NoteStatus.DRAFT: _l("Brouillon"),
    NoteStatus.ISSUED: _l("Émise"),
}


class ProgressNote(Model):
    """One month's note of a campaign (``month`` is the month's first day)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"),
                                             index=True)
    month: Mapped[date]
    as_of: Mapped[date]  # the day the figures and dates are computed at
    status: Mapped[NoteStatus] = enum_column(NoteStatus, default=NoteStatus.DRAFT, index=True)
    # The free parts, Markdown (rendered sanitised; bounded by the service).
    governance_text: Mapped[str] = mapped_column(Text, default="")
    financing: Mapped[str] = mapped_column(Text, default="")
    partnerships: Mapped[str] = mapped_column(Text, default="")
    pedagogy: Mapped[str] = mapped_column(Text, default="")
    # The co-funding mention printed at the foot of the note: prefilled from the school's
    # presentation (SchoolProfile.cofunding_statement), kept here so that an issued note keeps
    # the mention it was sent with, whatever the setting becomes.
    cofunding: Mapped[str] = mapped_column(String(500), default="")
    # Frozen when issued: the computed parts as the note showed them.
    computed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sha256: Mapped[str | None] = mapped_column(String(64))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("progress_note.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The files of an issued note (storage namespace ``notes``) and the proof filed with it.
    pdf_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    pdf_size: Mapped[int | None] = mapped_column(BigInteger)
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    docx_key: Mapped[str | None] = mapped_column(String(80), unique=True)
    docx_size: Mapped[int | None] = mapped_column(BigInteger)
    docx_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    # The journal's head when the note was issued (printed on its files), and the HMAC seal
    # (``signing``) over its hash, issuer, date, files and that head: None before seals existed.
    journal_seq: Mapped[int | None] = mapped_column(BigInteger)
    journal_hash: Mapped[str | None] = mapped_column(String(64))
    seal: Mapped[str | None] = mapped_column(String(64))
    # Optimistic locking: two people editing one draft get a conflict, never an overwrite.
    lock_version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    updated_by: Mapped[User | None] = relationship(foreign_keys=[updated_by_id])
    issued_by: Mapped[User | None] = relationship(foreign_keys=[issued_by_id])
    replaces: Mapped[ProgressNote | None] = relationship(remote_side=[id])
    evidence: Mapped[Evidence | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def is_issued(self) -> bool:
        """An issued note is frozen: pages and services refuse to edit it."""
        return self.status is NoteStatus.ISSUED

    def __repr__(self) -> str:
        return f"<ProgressNote {self.month:%Y-%m} {self.status.value}>"
