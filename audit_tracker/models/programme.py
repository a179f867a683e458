"""The audit day: the programme's slots per day and site, and the samples the auditor asks for."""

from __future__ import annotations

from datetime import date, time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .accounts import Role, User
from .base import Model
from .campaign import Milestone
from .school import Site

# The school's roles a slot may name among the people met: each reaches the feed of the accounts
# holding it (a site manager's only for a slot on their site or for the whole school). Anyone
# else met (partners, learners, trainers) is free text, on nobody's feed.
SLOT_ROLES = (Role.DIRECTOR, Role.QUALITY_LEAD, Role.SITE_MANAGER, Role.NETWORK_REFERENT)


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
    # The school's roles met (values of SLOT_ROLES, in that order), and the others met, as text.
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    people: Mapped[str] = mapped_column(Text, default="")
    auditor: Mapped[str] = mapped_column(String(200), default="")
    # On the day, per paper proof (its id as text): « shown », « missing » or « later ».
    checklist: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)

    milestone: Mapped[Milestone] = relationship()
    site: Mapped[Site | None] = relationship()

    @property
    def met_roles(self) -> list[Role]:
        """The school's roles met at the slot, in the order of ``SLOT_ROLES``."""
        named = set(self.roles or ())
        return [role for role in SLOT_ROLES if role.value in named]

    @property
    def people_met(self) -> str:
        """Everyone met, as the programme prints it: the roles, then the others."""
        return ", ".join([role.label for role in self.met_roles]
                         + ([self.people.strip()] if (self.people or "").strip() else []))


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
