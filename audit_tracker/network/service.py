"""Every school's campaigns on one page, for the référent réseau: which school audits when, how
much it can demonstrate (its latest daily snapshot: no readiness is computed here) and how many
actions are late. A fixed number of queries, whatever the number of schools."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from ..indicators.service import INDICATORS, Counts, month_start
from ..models import (
    COUNT_COLUMNS,
    Action,
    ActionStatus,
    Campaign,
    Finding,
    IndicatorEntry,
    Milestone,
    MilestoneKind,
    ReadinessSnapshot,
    School,
)
from ..readiness.snapshots import DAILY, TrendPoint

OPEN_ACTIONS = (ActionStatus.TODO, ActionStatus.IN_PROGRESS)
# The milestones the network's référent leads in a school: their findings are its to record.
LED_KINDS = frozenset({MilestoneKind.ADVISORY_VISIT, MilestoneKind.PRE_AUDIT})


@dataclass(frozen=True)
class CampaignLine:
    campaign: Campaign
    next_milestone: Milestone | None
    days_left: int | None
    share_demonstrable: float | None  # from the latest daily snapshot; None without one
    snapshot_day: date | None
    late_actions: int
    led: list[Milestone]  # its visites conseil and pré-audits, whose findings the référent enters


@dataclass(frozen=True)
class SchoolLine:
    school: School
    campaigns: list[CampaignLine]
    counts: Counts  # key figures summed over the last INDICATOR_MONTHS months


INDICATOR_MONTHS = 12
# The network's indicators beside each school: rates over counts, weighted by construction.
NETWORK_INDICATORS = [INDICATORS[code] for code in
                      ("qpv_rate", "without_diploma_rate", "positive_exit_rate")]


def first_month(today: date, months: int = INDICATOR_MONTHS) -> date:
    """The first day of the window of ``months`` months ending with today's month."""
    start = month_start(today)
    index = start.year * 12 + start.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1)


def network_total(lines: list[SchoolLine]) -> Counts:
    """Every school's counts added up: the network's rates are weighted, never a mean of rates."""
    total = Counts()
    for line in lines:
        total.add(line.counts)
    return total


def network_overview(session: Session, today: date) -> list[SchoolLine]:
    schools = session.scalars(select(School).order_by(School.name)).all()
    campaigns = session.scalars(select(Campaign).order_by(Campaign.name, Campaign.id)).all()
    upcoming: dict[int, Milestone] = {}
    for milestone in session.scalars(
            select(Milestone).where(Milestone.starts_on >= today)
            .order_by(Milestone.starts_on, Milestone.id)):
        upcoming.setdefault(milestone.campaign_id, milestone)
    led: dict[int, list[Milestone]] = defaultdict(list)
    for milestone in session.scalars(
            select(Milestone).where(Milestone.kind.in_(sorted(LED_KINDS)))
            .order_by(Milestone.starts_on, Milestone.id)):
        led[milestone.campaign_id].append(milestone)
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
    columns = [func.sum(getattr(IndicatorEntry, name)) for name in COUNT_COLUMNS]
    figures: dict[int, Counts] = {}
    for school_id, months, *sums in session.execute(
            select(IndicatorEntry.school_id, func.count(func.distinct(IndicatorEntry.period)),
                   *columns)
            .where(IndicatorEntry.period >= first_month(today),
                   IndicatorEntry.period <= month_start(today))
            .group_by(IndicatorEntry.school_id)):
        figures[school_id] = Counts(**dict(zip(COUNT_COLUMNS, (int(v or 0) for v in sums),
                                              strict=True)), months=int(months))
    by_school: dict[int, list[CampaignLine]] = defaultdict(list)
    for campaign in campaigns:
        coming = upcoming.get(campaign.id)
        snapshot = snapshots.get(campaign.id)
        by_school[campaign.school_id].append(CampaignLine(
            campaign=campaign,
            next_milestone=coming,
            days_left=(coming.starts_on - today).days if coming else None,
            share_demonstrable=TrendPoint(*snapshot).share_demonstrable if snapshot else None,
            snapshot_day=snapshot[0] if snapshot else None,
            late_actions=int(late.get(campaign.id, 0)),
            led=led.get(campaign.id, []),
        ))
    return [SchoolLine(school, by_school.get(school.id, []), figures.get(school.id, Counts()))
            for school in schools]


def network_counts(session: Session, start: date | None, end: date | None
                   ) -> tuple[Counts, int]:
    """Every school's counts added up over the months ``start`` to ``end`` (None: open), and how
    many schools reported: what a school's own table shows beside its total. One statement."""
    statement = select(func.count(func.distinct(IndicatorEntry.school_id)),
                       *[func.sum(getattr(IndicatorEntry, name)) for name in COUNT_COLUMNS])
    if start is not None:
        statement = statement.where(IndicatorEntry.period >= month_start(start))
    if end is not None:
        statement = statement.where(IndicatorEntry.period <= month_start(end))
    schools, *sums = session.execute(statement).one()
    return Counts(**dict(zip(COUNT_COLUMNS, (int(v or 0) for v in sums), strict=True))), int(
        schools)


def led_milestone(session: Session, campaign_id: int, milestone_id: int) -> Milestone | None:
    """A visite conseil or pré-audit of that campaign, any school's; None for any other."""
    milestone = session.get(Milestone, milestone_id)
    if milestone is None or milestone.campaign_id != campaign_id:
        return None
    return milestone if milestone.kind in LED_KINDS else None


def led_findings(session: Session, milestone: Milestone) -> list[Finding]:
    """The milestone's findings by number, with their type, for the référent's list."""
    return list(session.scalars(
        select(Finding).where(Finding.milestone_id == milestone.id)
        .options(selectinload(Finding.finding_type)).order_by(Finding.number)))
