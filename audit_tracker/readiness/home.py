"""The landing pages of the two daily users, assembled from the readiness services.

The director's: the verdict for the next audit or commission (go / no-go and its failing rules,
the share démontrable, the days left) and what waits for her. The quality lead's: a to-do list,
each line a link to where it is fixed. Each piece is a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..campaigns.service import campaigns_for_school
from ..evidence.queue import QueueItem, review_queue
from ..evidence.service import visible_to
from ..findings.service import meetings_without_minutes
from ..models import (
    Action,
    ActionStatus,
    Campaign,
    Evidence,
    Meeting,
    Milestone,
    ReadinessSignOff,
    ReviewStatus,
    User,
)
from .dashboard import (
    Checklist,
    ExpiringProof,
    expiring_proofs,
    go_no_go,
    key_milestones,
    late_actions_by_owner,
)
from .rules import CriterionReadiness, State, default_reference_date, readiness_of
from .signoff import latest_signoff

SOON = timedelta(days=14)


def home_campaign(session: Session, school_id: int, today: date) -> Campaign | None:
    """The campaign the landing page speaks of: the first with a coming audit or commission,
    else the first one."""
    campaigns = campaigns_for_school(session, school_id)
    for campaign in campaigns:
        if any(m.last_day >= today for m in key_milestones(campaign, today).values()):
            return campaign
    return campaigns[0] if campaigns else None


def next_verdict_milestone(campaign: Campaign, today: date) -> Milestone | None:
    """The next audit, or else the next commission, still to come."""
    coming = [m for m in key_milestones(campaign, today).values() if m.last_day >= today]
    return min(coming, key=lambda m: m.starts_on) if coming else None


@dataclass
class DirectorHome:
    campaign: Campaign
    today: date
    milestone: Milestone | None
    checklist: Checklist | None
    proofs_waiting: list[QueueItem]
    claims_waiting: list[QueueItem]
    signoff: ReadinessSignOff | None
    late_by_owner: list[tuple[str, list[Action]]]

    @property
    def days_left(self) -> int | None:
        return (self.milestone.starts_on - self.today).days if self.milestone else None

    @property
    def signoff_due(self) -> bool:
        """No signature for this milestone yet."""
        if self.milestone is None:
            return False
        return self.signoff is None or self.signoff.milestone_id != self.milestone.id


def director_home(session: Session, campaign: Campaign, user: User, today: date) -> DirectorHome:
    milestone = next_verdict_milestone(campaign, today)
    checklist = go_no_go(session, campaign, milestone, today) if milestone else None
    queue = review_queue(session, user)
    return DirectorHome(
        campaign=campaign, today=today, milestone=milestone, checklist=checklist,
        proofs_waiting=[item for item in queue if item.link is None],
        claims_waiting=[item for item in queue if item.link is not None],
        signoff=latest_signoff(session, campaign),
        late_by_owner=late_actions_by_owner(session, campaign, today),
    )


@dataclass
class QualityHome:
    campaign: Campaign
    today: date
    as_of: date
    audit: Milestone | None
    indispensable: list[CriterionReadiness]
    refused: list[Evidence]
    drafts: list[Evidence]
    waiting: list[QueueItem]
    actions: list[Action]
    meetings: list[Meeting]
    expiring: list[ExpiringProof]
    share: float | None = None

    @property
    def total(self) -> int:
        return (len(self.indispensable) + len(self.refused) + len(self.drafts)
                + len(self.waiting) + len(self.actions) + len(self.meetings)
                + len(self.expiring))


def quality_home(session: Session, campaign: Campaign, user: User, today: date) -> QualityHome:
    as_of = default_reference_date(campaign, today)
    readiness = readiness_of(session, campaign, as_of, today=today)
    audit = key_milestones(campaign, today).get("audit")
    audit = audit if audit and audit.last_day >= today else None
    proofs = session.scalars(
        select(Evidence)
        .where(visible_to(user),
               Evidence.status.in_([ReviewStatus.REFUSED, ReviewStatus.DRAFT]))
        .options(joinedload(Evidence.owner))
        .order_by(Evidence.updated_at, Evidence.id)).all()
    actions = session.scalars(
        select(Action)
        .where(Action.campaign_id == campaign.id, Action.due_on <= today + SOON,
               Action.status.in_([ActionStatus.TODO, ActionStatus.IN_PROGRESS]))
        .options(joinedload(Action.owner))
        .order_by(Action.due_on, Action.id)).all()
    return QualityHome(
        campaign=campaign, today=today, as_of=as_of, audit=audit,
        indispensable=[c for c in readiness.criteria if c.indispensable
                       and c.state not in {State.DEMONSTRABLE, State.NOT_APPLICABLE}],
        refused=[e for e in proofs if e.status is ReviewStatus.REFUSED],
        drafts=[e for e in proofs if e.status is ReviewStatus.DRAFT],
        waiting=review_queue(session, user),
        actions=list(actions),
        meetings=meetings_without_minutes(campaign, today),
        expiring=expiring_proofs(session, campaign, today, {"audit": audit.starts_on})
        if audit else [],
        share=readiness.share_demonstrable,
    )
