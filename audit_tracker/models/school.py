"""Schools and their sites: every other record belongs to a school, directly or through a parent."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, TimestampMixin, utcnow

if TYPE_CHECKING:
    from .accounts import User
    from .evidence import Evidence


class School(TimestampMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    short_name: Mapped[str] = mapped_column(String(60), unique=True)
    city: Mapped[str | None] = mapped_column(String(120))
    # Four-eyes review: nobody decides on a proof or a claim they submitted themselves.
    four_eyes: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Two-factor required: the direction and the admin log in with a TOTP code (they enrol at
    # their next login); off, the second factor stays each person's choice.
    require_totp: Mapped[bool] = mapped_column(default=False, server_default=false())

    sites: Mapped[list[Site]] = relationship(
        back_populates="school", order_by="Site.opened_on", cascade="all, delete-orphan"
    )
    profile: Mapped[SchoolProfile | None] = relationship(
        back_populates="school", cascade="all, delete-orphan", uselist=False
    )
    referentiels: Mapped[list[SchoolReferentiel]] = relationship(
        back_populates="school", order_by="SchoolReferentiel.code", cascade="all, delete-orphan"
    )

    @property
    def referentiel_codes(self) -> list[str]:
        """The codes of the référentiels the school follows, in order: its campaigns' default."""
        return [followed.code for followed in self.referentiels]

    def __repr__(self) -> str:
        return f"<School {self.short_name}>"


class SchoolReferentiel(Model):
    """A référentiel the school follows, named by its code (« e2c-label », « qualiopi-v9 »).

    The code, not a version: a school follows the label or Qualiopi, and each new version
    imported for the network is what it follows from then on. A campaign keeps the versions it
    was set on (``campaign_framework``), so a new version moves nothing already under way.
    """

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"),
                                           primary_key=True)
    code: Mapped[str] = mapped_column(String(60), primary_key=True)

    school: Mapped[School] = relationship(back_populates="referentiels")

    def __repr__(self) -> str:
        return f"<SchoolReferentiel {self.school_id} {self.code}>"


class Site(TimestampMixin, Model):
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(120))
    opened_on: Mapped[date | None]
    # The school presentation of the dossier: where the site is, how many trainees it can take
    # at once, and its staff in full-time equivalents (ETP).
    address: Mapped[str | None] = mapped_column(String(300))
    capacity: Mapped[int | None] = mapped_column(CheckConstraint("capacity >= 0",
                                                                 name="capacity_positive"))
    staff_fte: Mapped[Decimal | None] = mapped_column(
        Numeric(6, 1), CheckConstraint("staff_fte >= 0", name="staff_fte_positive"))

    school: Mapped[School] = relationship(back_populates="sites")

    def __repr__(self) -> str:
        return f"<Site {self.code}>"


class SchoolProfile(Model):
    """How the school presents itself to the auditor and the funders: its legal entity, its
    governance bodies, its funders and partners, the co-funding mention its documents carry,
    the coordination team's staff and the proof holding its organigramme."""

    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"),
                                           primary_key=True)
    legal_name: Mapped[str] = mapped_column(String(200), default="")
    legal_form: Mapped[str] = mapped_column(String(120), default="")
    head_office: Mapped[str] = mapped_column(String(300), default="")
    # One body, funder or partner a line: short lists the school edits as text.
    governance: Mapped[str] = mapped_column(Text, default="")
    funders: Mapped[str] = mapped_column(Text, default="")
    partners: Mapped[str] = mapped_column(Text, default="")
    cofunding_statement: Mapped[str] = mapped_column(Text, default="")
    staff_fte: Mapped[Decimal | None] = mapped_column(
        Numeric(6, 1), CheckConstraint("staff_fte >= 0", name="profile_staff_fte_positive"))
    organigramme_evidence_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    lock_version: Mapped[int] = mapped_column(default=1)

    school: Mapped[School] = relationship(back_populates="profile")
    organigramme: Mapped[Evidence | None] = relationship()
    updated_by: Mapped[User | None] = relationship()

    __mapper_args__ = {"version_id_col": lock_version}

    @staticmethod
    def lines(text: str) -> list[str]:
        """The non-blank lines of a one-item-a-line field."""
        return [line.strip() for line in (text or "").splitlines() if line.strip()]

    def __repr__(self) -> str:
        return f"<SchoolProfile {self.school_id}>"
