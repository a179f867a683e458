"""Campaign services: plain functions over a session, no request state inside."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..models import Campaign, Finding, Framework, Meeting, Milestone, MilestoneKind


class Phase(enum.StrEnum):
    DONE = "passe"
    ONGOING = "en_cours"
    COMING = "a_venir"


@dataclass(frozen=True)
class TimelineEntry:
    milestone: Milestone
    phase: Phase
    days_left: int  # negative once it is over; 0 while it is under way


def phase_of(milestone: Milestone, today: date) -> tuple[Phase, int]:
    """Where a milestone stands relative to ``today``, and the days until it starts."""
    if milestone.last_day < today:
        return Phase.DONE, (milestone.last_day - today).days
    if milestone.starts_on <= today:
        return Phase.ONGOING, 0
    return Phase.COMING, (milestone.starts_on - today).days


def timeline(campaign: Campaign, today: date) -> list[TimelineEntry]:
    """The campaign's milestones in date order with their phase and countdown."""
    return [TimelineEntry(m, *phase_of(m, today)) for m in campaign.milestones]


def next_milestone(
    campaign: Campaign, today: date, kinds: set[MilestoneKind] | None = None
) -> TimelineEntry | None:
    """The first milestone not yet over (optionally of the given kinds)."""
    for entry in timeline(campaign, today):
        if entry.phase is not Phase.DONE and (kinds is None or entry.milestone.kind in kinds):
            return entry
    return None


def campaigns_for_school(session: Session, school_id: int) -> list[Campaign]:
    return list(
        session.scalars(
            select(Campaign)
            .where(Campaign.school_id == school_id)
            .options(selectinload(Campaign.milestones), selectinload(Campaign.frameworks))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc())
        )
    )


def get_campaign(session: Session, school_id: int, campaign_id: int) -> Campaign | None:
    """A campaign of this school, or None: another school's campaign does not exist for you.
    With its milestones, référentiels and meetings."""
    return session.scalar(
        select(Campaign)
        .where(Campaign.id == campaign_id, Campaign.school_id == school_id)
        .options(
            selectinload(Campaign.milestones),
            selectinload(Campaign.frameworks),
            selectinload(Campaign.meetings).selectinload(Meeting.site),
        )
    )


def frameworks_by_ids(session: Session, ids: list[int]) -> list[Framework]:
    return list(session.scalars(select(Framework).where(Framework.id.in_(ids)))) if ids else []


def school_milestones(session: Session, school_id: int, since: date) -> list[Milestone]:
    """Every milestone of the school's campaigns from ``since`` on, in date order."""
    return list(session.scalars(
        select(Milestone).join(Campaign)
        .where(Campaign.school_id == school_id, Milestone.starts_on >= since)
        .order_by(Milestone.starts_on, Milestone.id)
    ))


def next_commission_day(milestones: list[Milestone]) -> date | None:
    """The date of the next national commission, the horizon proofs must stay valid to."""
    return next((m.starts_on for m in milestones
                 if m.kind is MilestoneKind.NATIONAL_COMMISSION), None)


def finding_counts(session: Session, campaign: Campaign) -> dict[int, int]:
    """Findings per milestone of the campaign, in one grouped query."""
    rows = session.execute(
        select(Finding.milestone_id, func.count())
        .join(Milestone)
        .where(Milestone.campaign_id == campaign.id)
        .group_by(Finding.milestone_id)
    )
    return {milestone_id: count for milestone_id, count in rows}


def findings_count(session: Session, milestone: Milestone) -> int:
    """How many findings a milestone holds (it cannot be deleted while it holds any)."""
    return session.scalar(select(func.count(Finding.id))
                          .where(Finding.milestone_id == milestone.id)) or 0


def has_next_campaign(session: Session, campaign: Campaign) -> bool:
    """Whether the next campaign was already opened from this one's decision."""
    return session.scalar(select(Campaign.id).where(Campaign.previous_id == campaign.id)
                          .limit(1)) is not None
