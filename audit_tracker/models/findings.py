"""Findings of visits and audits, and the corrective actions that answer them."""

from __future__ import annotations

import enum
from datetime import date, datetime

from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .accounts import User
from .base import Model, TimestampMixin, enum_column, utcnow
from .campaign import Campaign, Milestone
from .evidence import Evidence
from .programme import AuditSlot
from .referentiel import Criterion, FindingType, Framework
from .school import Site


class FindingStatus(enum.StrEnum):
    OPEN = "ouvert"
    IN_PROGRESS = "en_traitement"
    LIFTED = "leve"
    CLOSED = "clos"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(FINDING_STATUS_LABELS[self])

    @property
    def is_open(self) -> bool:
        """A finding still waiting for its answer, as opposed to lifted or closed."""
        return self in {FindingStatus.OPEN, FindingStatus.IN_PROGRESS}


FINDING_STATUS_LABELS = {
    FindingStatus.OPEN: _l("Ouvert"),
    FindingStatus.IN_PROGRESS: _l("En traitement"),
    FindingStatus.LIFTED: _l("Levé"),
    FindingStatus.CLOSED: _l("Clos"),
}


class ActionStatus(enum.StrEnum):
    TODO = "a_faire"
    IN_PROGRESS = "en_cours"
    DONE = "realisee"
    VERIFIED = "efficacite_verifiee"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(ACTION_STATUS_LABELS[self])

    @property
    def is_finished(self) -> bool:
        """Done or verified: an action that can no longer be late."""
        return self in {ActionStatus.DONE, ActionStatus.VERIFIED}


ACTION_STATUS_LABELS = {
    ActionStatus.TODO: _l("À faire"),
    ActionStatus.IN_PROGRESS: _l("En cours"),
    ActionStatus.DONE: _l("Réalisée"),
    ActionStatus.VERIFIED: _l("Efficacité vérifiée"),
}


finding_criterion = Table(
    "finding_criterion",
    db.metadata,
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_id", ForeignKey("criterion.id"), primary_key=True),
)

action_finding = Table(
    "action_finding",
    db.metadata,
    Column("action_id", ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    Column("finding_id", ForeignKey("finding.id", ondelete="CASCADE"), primary_key=True),
)

action_criterion = Table(
    "action_criterion",
    db.metadata,
    Column("action_id", ForeignKey("action.id", ondelete="CASCADE"), primary_key=True),
    Column("criterion_id", ForeignKey("criterion.id"), primary_key=True),
)


class Finding(TimestampMixin, Model):
    """One finding of a visit or an audit (or a préconisation of the commission)."""

    __table_args__ = (UniqueConstraint("milestone_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestone.id"), index=True)
    framework_id: Mapped[int] = mapped_column(ForeignKey("framework.id"))
    finding_type_id: Mapped[int] = mapped_column(ForeignKey("finding_type.id"))
    number: Mapped[int]  # 1, 2, 3… within its milestone, in the order of the report
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    root_cause: Mapped[str] = mapped_column(Text, default="")
    # The school's answer to the finding, as it goes into the dossier it sends back.
    response: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[FindingStatus] = enum_column(FindingStatus, default=FindingStatus.OPEN)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    # The programme's slot where the auditor saw it, when the report is typed against the day.
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("audit_slot.id"))  # nulled on delete
    # Computed from the type's rule and the audit's date; a user may override with a reason.
    due_on: Mapped[date | None]
    verify_by: Mapped[date | None]
    due_override_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    lock_version: Mapped[int] = mapped_column(default=1)

    milestone: Mapped[Milestone] = relationship()
    framework: Mapped[Framework] = relationship()
    finding_type: Mapped[FindingType] = relationship()
    site: Mapped[Site | None] = relationship()
    slot: Mapped[AuditSlot | None] = relationship()
    created_by: Mapped[User] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        secondary=finding_criterion, order_by="Criterion.position"
    )
    actions: Mapped[list[Action]] = relationship(
        secondary=action_finding, back_populates="findings", order_by="Action.due_on"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def reference(self) -> str:
        """How the report names it: « Pré-audit n°3 »."""
        return gettext("%(event)s n°%(number)s", event=self.milestone.kind.label,
                       number=self.number)


class Action(TimestampMixin, Model):
    """A corrective action of the plan, answering findings and serving criteria."""

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    due_on: Mapped[date] = mapped_column(index=True)
    status: Mapped[ActionStatus] = enum_column(ActionStatus, default=ActionStatus.TODO)
    closing_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    done_on: Mapped[date | None]
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verification_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    lock_version: Mapped[int] = mapped_column(default=1)

    campaign: Mapped[Campaign] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    site: Mapped[Site | None] = relationship()
    closing_evidence: Mapped[Evidence | None] = relationship()
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    findings: Mapped[list[Finding]] = relationship(
        secondary=action_finding, back_populates="actions", order_by="Finding.number"
    )
    criteria: Mapped[list[Criterion]] = relationship(
        secondary=action_criterion, order_by="Criterion.position"
    )

    __mapper_args__ = {"version_id_col": lock_version}

    @property
    def answers_nonconformity(self) -> bool:
        """Then its effect can be verified only once its closing proof is attached."""
        return any(f.finding_type.is_nonconformity for f in self.findings)

    def days_late(self, today: date) -> int:
        """Days past its due date while not done; 0 when on time or finished."""
        if self.status.is_finished or self.due_on >= today:
            return 0
        return (today - self.due_on).days
