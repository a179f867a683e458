"""A label campaign: its frameworks, milestones (visits, audits, commission) and meetings."""

from __future__ import annotations

import enum
from datetime import date, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, CheckConstraint, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Model, TimestampMixin, enum_column
from .evidence import Evidence
from .referentiel import Framework
from .school import School, Site

campaign_framework = Table(
    "campaign_framework",
    db.metadata,
    Column("campaign_id", ForeignKey("campaign.id", ondelete="CASCADE"), primary_key=True),
    Column("framework_id", ForeignKey("framework.id"), primary_key=True),
)


class MilestoneKind(enum.StrEnum):
    ADVISORY_VISIT = "visite_conseil"
    PRE_AUDIT = "pre_audit"
    INITIAL_AUDIT = "audit_initial"
    SURVEILLANCE_AUDIT = "audit_suivi"
    NATIONAL_COMMISSION = "commission_nationale"
    DECISION = "decision"
    OTHER = "autre"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(MILESTONE_KIND_LABELS[self])

    @property
    def is_certification_audit(self) -> bool:
        """The certifier's audits: what readiness aims at and what an NC mineure escalates at."""
        return self in {MilestoneKind.INITIAL_AUDIT, MilestoneKind.SURVEILLANCE_AUDIT}

    @property
    def leaves_findings(self) -> bool:
        """Visits, audits and the commission leave findings; a decision or other date does not."""
        return self not in {MilestoneKind.DECISION, MilestoneKind.OTHER}


MILESTONE_KIND_LABELS = {
    MilestoneKind.ADVISORY_VISIT: _l("Visite conseil"),
    MilestoneKind.PRE_AUDIT: _l("Pré-audit"),
    MilestoneKind.INITIAL_AUDIT: _l("Audit initial"),
    MilestoneKind.SURVEILLANCE_AUDIT: _l("Audit de suivi"),
    MilestoneKind.NATIONAL_COMMISSION: _l("Commission nationale"),
    MilestoneKind.DECISION: _l("Décision"),
    MilestoneKind.OTHER: _l("Autre échéance"),
}


class CommissionDecision(enum.StrEnum):
    GRANTED = "label_accorde"
    GRANTED_WITH_RECOMMENDATIONS = "accorde_avec_preconisations"
    ADJOURNED = "ajourne"
    REFUSED = "refuse"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(COMMISSION_DECISION_LABELS[self])


COMMISSION_DECISION_LABELS = {
    CommissionDecision.GRANTED: _l("Label accordé"),
    CommissionDecision.GRANTED_WITH_RECOMMENDATIONS: _l("Label accordé avec préconisations"),
    CommissionDecision.ADJOURNED: _l("Ajourné"),
    CommissionDecision.REFUSED: _l("Refusé"),
}

class MeetingKind(enum.StrEnum):
    LOCAL_COMMITTEE = "comite_operationnel_local"
    TRAINEE_REVIEW = "commission_suivi_stagiaires"
    STRATEGY_COMMITTEE = "comite_strategique"
    FINANCE_SUBCOMMITTEE = "sous_comite_financier"
    OTHER = "autre"

    @property
    def label(self) -> str:
        """What users read, translated; the stored value stays put when the wording changes."""
        return str(MEETING_KIND_LABELS[self])


MEETING_KIND_LABELS = {
    MeetingKind.LOCAL_COMMITTEE: _l("Comité opérationnel local"),
    MeetingKind.TRAINEE_REVIEW: _l("Commission de suivi des stagiaires"),
    MeetingKind.STRATEGY_COMMITTEE: _l("Comité stratégique"),
    MeetingKind.FINANCE_SUBCOMMITTEE: _l("Sous-comité financier"),
    MeetingKind.OTHER: _l("Autre instance"),
}


class Campaign(TimestampMixin, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # Categories of action the school runs (Qualiopi's AF, CFA…); a criterion reserved to other
    # categories does not apply. Empty means every criterion applies.
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Whether the actions the school runs lead to a certification (a diploma, a RNCP title):
    # when they do not, the indicators reserved to certifying actions do not apply.
    certifying: Mapped[bool] = mapped_column(default=True)
    # The campaign this one was opened from, after its decision (the next cycle).
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))

    school: Mapped[School] = relationship()
    previous: Mapped[Campaign | None] = relationship(remote_side="Campaign.id")
    frameworks: Mapped[list[Framework]] = relationship(
        secondary=campaign_framework, order_by="Framework.code"
    )
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="campaign",
        order_by="(Milestone.starts_on, Milestone.id)",
        cascade="all, delete-orphan",
    )
    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="campaign",
        order_by="(Meeting.held_on, Meeting.starts_at, Meeting.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Campaign {self.name}>"


class Milestone(Model):
    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    kind: Mapped[MilestoneKind] = enum_column(MilestoneKind)
    title: Mapped[str] = mapped_column(String(200))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    # The report of a milestone that leaves findings is a proof of the library; the commission
    # also records a decision.
    report_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    decision: Mapped[CommissionDecision | None] = enum_column(CommissionDecision)
    # When the certifier notified the report: findings count from it (the last day until known).
    report_notified_on: Mapped[date | None]
    # A decision's conditions; a date set by an assumed rule (« règle supposée »), to be moved.
    conditions: Mapped[str] = mapped_column(Text, default="")
    assumed: Mapped[bool] = mapped_column(default=False)

    campaign: Mapped[Campaign] = relationship(back_populates="milestones")
    report_evidence: Mapped[Evidence | None] = relationship()

    @property
    def last_day(self) -> date:
        """A one-day milestone has no end date; deadlines and "in progress" count from this day."""
        return self.ends_on or self.starts_on


class Meeting(Model):
    """A governance meeting; each one should leave minutes, which are a proof."""

    __table_args__ = (
        CheckConstraint(
            "ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at", name="ends_after_start"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("site.id"))
    kind: Mapped[MeetingKind] = enum_column(MeetingKind)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    starts_at: Mapped[time | None]
    ends_at: Mapped[time | None]
    place: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    minutes_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))

    campaign: Mapped[Campaign] = relationship(back_populates="meetings")
    site: Mapped[Site | None] = relationship()
    minutes_evidence: Mapped[Evidence | None] = relationship()
