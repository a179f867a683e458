"""Evidence ("preuves"): a file, a link or a paper proof kept on site; immutable file versions,
the review trail, and the links that say which criteria a proof demonstrates."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model, TimestampMixin, enum_column, utcnow
from .referentiel import Criterion
from .school import School, Site


class EvidenceKind(enum.StrEnum):
    FILE = "fichier"
    LINK = "lien"
    PAPER = "papier"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(EVIDENCE_KIND_LABELS[self])


EVIDENCE_KIND_LABELS = {
    EvidenceKind.FILE: _l("Document"),
    EvidenceKind.LINK: _l("Lien"),
    EvidenceKind.PAPER: _l("Preuve papier (consultable sur place)"),
}


class ReviewStatus(enum.StrEnum):
    DRAFT = "brouillon"
    TO_REVIEW = "a_valider"
    VALIDATED = "validee"
    REFUSED = "refusee"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(REVIEW_STATUS_LABELS[self])


REVIEW_STATUS_LABELS = {
    ReviewStatus.DRAFT: _l("Brouillon"),
    ReviewStatus.TO_REVIEW: _l("À valider"),
    ReviewStatus.VALIDATED: _l("Validée"),
    ReviewStatus.REFUSED: _l("Refusée"),
}


class ClaimStatus(enum.StrEnum):
    """A link proof → criterion is a claim: confirmed, or waiting for a reviewer's word."""

    CONFIRMED = "confirme"
    TO_CONFIRM = "a_confirmer"
    REFUSED = "refuse"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(CLAIM_STATUS_LABELS[self])


CLAIM_STATUS_LABELS = {
    ClaimStatus.CONFIRMED: _l("Confirmé"),
    ClaimStatus.TO_CONFIRM: _l("À confirmer"),
    ClaimStatus.REFUSED: _l("Refusé"),
}


class Evidence(TimestampMixin, Model):
    # Derived from the title, description and the file's text (which may hold learners'
    # personal data): never copied into the journal, which cannot forget.
    __journal_ignore__ = frozenset({"search_text"})
    __table_args__ = (
        CheckConstraint("kind <> 'lien' OR url IS NOT NULL", name="link_has_url"),
        CheckConstraint("kind <> 'papier' OR paper_location IS NOT NULL", name="paper_has_place"),
        CheckConstraint(
            "covers_to IS NULL OR covers_from IS NULL OR covers_to >= covers_from",
            name="covers_in_order",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[EvidenceKind] = enum_column(EvidenceKind)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str | None] = mapped_column(String(2000))
    paper_location: Mapped[str | None] = mapped_column(String(300))
    paper_custodian: Mapped[str | None] = mapped_column(String(200))
    # The period the proof is about (a year of minutes, a convention's term), not its upload date.
    covers_from: Mapped[date | None]
    covers_to: Mapped[date | None]
    valid_until: Mapped[date | None] = mapped_column(index=True)
    personal_data: Mapped[bool] = mapped_column(default=False)
    retention_until: Mapped[date | None]
    status: Mapped[ReviewStatus] = enum_column(ReviewStatus, default=ReviewStatus.DRAFT, index=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    # Title, description and the current version's text: what full-text search indexes.
    search_text: Mapped[str] = mapped_column(Text, default="", info={"max_chars": None})
    # Optimistic locking: a second editor working from a stale form gets a conflict, not a
    # silent overwrite.
    lock_version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School] = relationship()
    site: Mapped[Site | None] = relationship()
    owner: Mapped[User] = relationship()
    versions: Mapped[list[EvidenceVersion]] = relationship(
        back_populates="evidence", order_by="EvidenceVersion.number", cascade="all, delete-orphan"
    )
    links: Mapped[list[EvidenceLink]] = relationship(
        back_populates="evidence", cascade="all, delete-orphan"
    )
    reviews: Mapped[list[EvidenceReview]] = relationship(
        back_populates="evidence", order_by="EvidenceReview.id", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def current_version(self) -> EvidenceVersion | None:
        """The latest upload is what counts; None for a link or a paper proof, which has no file."""
        return self.versions[-1] if self.versions else None

    def __repr__(self) -> str:
        return f"<Evidence {self.id} {self.kind} {self.title!r}>"


class EvidenceVersion(Model):
    """One uploaded file, never modified: a new upload is a new version."""

    __journal_ignore__ = frozenset({"extracted_text"})  # the file's text: see Evidence
    __table_args__ = (UniqueConstraint("evidence_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    number: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(80), unique=True)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # "chiffre" (encrypted PDF) or "illisible" (corrupt PDF): accepted, but the reader is warned.
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    extracted_text: Mapped[str] = mapped_column(Text, default="", info={"max_chars": None})
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="versions")
    uploaded_by: Mapped[User] = relationship()


class EvidenceLink(Model):
    """A proof linked to a criterion, with what it demonstrates there."""

    __table_args__ = (UniqueConstraint("evidence_id", "criterion_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(ForeignKey("criterion.id"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A link added to an already validated proof is a claim someone else confirms; until then
    # the readiness rules count it « à valider » for this criterion.
    status: Mapped[ClaimStatus] = enum_column(
        ClaimStatus, default=ClaimStatus.CONFIRMED, server_default=ClaimStatus.CONFIRMED.value
    )
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refusal_reason: Mapped[str] = mapped_column(String(2000), default="", server_default="")

    evidence: Mapped[Evidence] = relationship(back_populates="links")
    criterion: Mapped[Criterion] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])


class EvidenceReview(Model):
    """The review trail: who sent, validated or refused which version, when and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    evidence_id: Mapped[int] = mapped_column(ForeignKey("evidence.id"), index=True)
    status: Mapped[ReviewStatus] = enum_column(ReviewStatus)
    version_number: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    evidence: Mapped[Evidence] = relationship(back_populates="reviews")
    reviewer: Mapped[User] = relationship()


# Full-text search lives beside the table, in each engine's own way: an FTS5 table on SQLite
# (accents folded, rowid = evidence id, filled by evidence.search), a French tsvector GIN index
# on PostgreSQL. Neither is a model, so both are created here and skipped by Alembic's compare.
SEARCH_TABLE = "evidence_search"
SEARCH_PG_INDEX = "ix_evidence_search_text_fts"

event.listen(
    Evidence.__table__,
    "after_create",
    DDL(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} "
        "USING fts5(body, tokenize = 'unicode61 remove_diacritics 2')"
    ).execute_if(dialect="sqlite"),
)
event.listen(
    Evidence.__table__,
    "before_drop",
    DDL(f"DROP TABLE IF EXISTS {SEARCH_TABLE}").execute_if(dialect="sqlite"),
)
event.listen(
    Evidence.__table__,
    "after_create",
    DDL(
        f"CREATE INDEX IF NOT EXISTS {SEARCH_PG_INDEX} ON evidence "
        "USING gin (to_tsvector('french', search_text))"
    ).execute_if(dialect="postgresql"),
)
