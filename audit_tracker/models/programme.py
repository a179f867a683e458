"""The audit day: the programme's slots per day and site, and the samples the auditor asks for."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import User
from .base import Model
from .campaign import Milestone
from .school import Site


class AuditSlot(Model):
    """One slot of an audit's programme: when, where, what, whom the auditor meets."""

    __table_args__ = (
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"),
                                              index=True)
    day: Mapped[date]
    starts_at: Mapped[time]
    ends_at: Mapped[time | None]
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    place: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str] = mapped_column(String(300))
    criteria: Mapped[str] = mapped_column(String(300), default="")  # codes, « A1, B2 »
    people: Mapped[str] = mapped_column(Text, default="")  # people met, by role
    auditor: Mapped[str] = mapped_column(String(200), default="")
    # On the day, per paper proof (its id as text): « shown », « missing » or « later ».
    checklist: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    milestone: Mapped[Milestone] = relationship()
    site: Mapped[Site | None] = relationship()


class AuditSample(Model):
    """A learner's file the auditor asks for, pseudonymised: an identifier and the fields checked,
    never a name."""

    __table_args__ = (UniqueConstraint("milestone_id", "reference"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id", ondelete="CASCADE"),
                                              index=True)
    reference: Mapped[str] = mapped_column(String(40))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    entered_on: Mapped[date | None]
    qpv: Mapped[bool | None]
    diploma_level: Mapped[str] = mapped_column(String(40), default="")
    exit_kind: Mapped[str] = mapped_column(String(100), default="")
    exited_on: Mapped[date | None]
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ready: Mapped[bool] = mapped_column(default=False)

    milestone: Mapped[Milestone] = relationship()
    site: Mapped[Site | None] = relationship()
    prepared_by: Mapped[User | None] = relationship()
