"""Every school's campaigns on one page, for the référent réseau: which school audits when, how
much it can demonstrate (its latest daily snapshot: no readiness is computed here) and how many
actions are late. A fixed number of queries, whatever the number of schools."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Action, ActionStatus, Campaign, Milestone, ReadinessSnapshot, School
from ..readiness.snapshots import DAILY, TrendPoint

OPEN_ACTIONS = (ActionStatus.TODO, ActionStatus.IN_PROGRESS)


@dataclass(frozen=True)
class CampaignLine:
    campaign: Campaign
    next_milestone: Milestone | None
    days_left: int | None
    share_demonstrable: float | None  # from the latest daily snapshot; None without one
    snapshot_day: date | None
    late_actions: int


@dataclass(frozen=True)
class SchoolLine:
    school: School
    campaigns: list[CampaignLine]


def network_overview(session: Session, today: date) -> list[SchoolLine]:
    schools = session.scalars(select(School).order_by(School.name)).all()
    campaigns = session.scalars(select(Campaign).order_by(Campaign.name, Campaign.id)).all()
    upcoming: dict[int, Milestone] = {}
    for milestone in session.scalars(
            select(Milestone).where(Milestone.starts_on >= today)
            .order_by(Milestone.starts_on, Milestone.id)):
        upcoming.setdefault(milestone.campaign_id, milestone)
    latest = (select(ReadinessSnapshot.campaign_id,
                     func.max(ReadinessSnapshot.taken_on).label("day"))
              .where(ReadinessSnapshot.kind == DAILY)
              .group_by(ReadinessSnapshot.campaign_id).subquery())
    snapshots: dict[int, tuple[date, dict[str, int]]] = {}
    for campaign_id, day, counts in session.execute(
            select(ReadinessSnapshot.campaign_id, ReadinessSnapshot.taken_on,
                   ReadinessSnapshot.counts)
            .join(latest, (latest.c.campaign_id == ReadinessSnapshot.campaign_id)
                  & (latest.c.day == ReadinessSnapshot.taken_on))
            .where(ReadinessSnapshot.kind == DAILY)):
        snapshots[campaign_id] = (day, counts)
    late = {campaign_id: int(count) for campaign_id, count in session.execute(
        select(Action.campaign_id, func.count(Action.id))
        .where(Action.due_on < today, Action.status.in_(OPEN_ACTIONS))
        .group_by(Action.campaign_id))}
    by_school: dict[int, list[CampaignLine]] = defaultdict(list)
    for campaign in campaigns:
        milestone = upcoming.get(campaign.id)
        snapshot = snapshots.get(campaign.id)
        by_school[campaign.school_id].append(CampaignLine(
            campaign=campaign,
            next_milestone=milestone,
            days_left=(milestone.starts_on - today).days if milestone else None,
            share_demonstrable=TrendPoint(*snapshot).share_demonstrable if snapshot else None,
            snapshot_day=snapshot[0] if snapshot else None,
            late_actions=int(late.get(campaign.id, 0)),
        ))
    return [SchoolLine(school, by_school.get(school.id, [])) for school in schools]
