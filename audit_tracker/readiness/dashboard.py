"""The director's screen and the go / no-go checklist, assembled from the readiness rules.

Each piece is one query (or one ``readiness_of``), whatever the campaign's size: the tests
count the statements for a small campaign and a ten-times larger one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import format_date, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, contains_eager, joinedload, subqueryload

from ..campaigns.service import TimelineEntry, timeline
from ..findings.service import (
    counts_as_major,
    escalation_of,
    meetings_without_minutes,
    minors_rule_hits,
)
from ..models import (
    Action,
    ActionStatus,
    Campaign,
    ClaimStatus,
    Criterion,
    Evidence,
    EvidenceLink,
    Finding,
    FindingKind,
    FindingStatus,
    FindingType,
    Meeting,
    Milestone,
    MilestoneKind,
    ReadinessSignOff,
    ReviewStatus,
)
from .rules import Readiness, State, readiness_of
from .signoff import latest_signoff
from .snapshots import StateChange, TrendPoint, changes_between, snapshot_on_or_before, thaw, trend

ANSWERABLE = {FindingKind.PROGRESS, FindingKind.WATCH, FindingKind.NONCONFORMITY}


@dataclass(frozen=True)
class ExpiringProof:
    evidence: Evidence
    fails: str  # "expiree", "audit" or "commission": the first date it will not reach


@dataclass(frozen=True)
class WeekChanges:
    since: date
    states: list[StateChange]
    new_proofs: int
    new_findings: int
    new_actions: int
    compared: bool  # False when no snapshot a week old exists yet


@dataclass
class Dashboard:
    campaign: Campaign
    as_of: date
    today: date
    readiness: Readiness
    timeline: list[TimelineEntry]
    late_by_owner: list[tuple[str, list[Action]]]
    expiring: list[ExpiringProof]
    open_pre_audit: list[Finding]
    meetings_without_minutes: list[Meeting]
    changes: WeekChanges
    trend: list[TrendPoint]
    signoff: ReadinessSignOff | None
    milestones: dict[str, Milestone] = field(default_factory=dict)


def key_milestones(campaign: Campaign, today: date) -> dict[str, Milestone]:
    """The next audit and the next commission (or the last ones once they are over)."""
    found: dict[str, Milestone] = {}
    for name, wanted in (("audit", lambda kind: kind.is_certification_audit),
                         ("commission", lambda kind: kind is MilestoneKind.NATIONAL_COMMISSION)):
        candidates = [m for m in campaign.milestones if wanted(m.kind)]
        coming = [m for m in candidates if m.last_day >= today]
        if coming or candidates:
            found[name] = (coming or candidates[-1:])[0]
    return found


def build_dashboard(session: Session, campaign: Campaign, as_of: date, today: date,
                    site_id: int | None = None) -> Dashboard:
    """The director's screen; ``site_id`` narrows the criteria's states to one site (its
    records and the school's), the lists around them stay the school's."""
    readiness = readiness_of(session, campaign, as_of, today=today, site_id=site_id)
    milestones = key_milestones(campaign, today)
    return Dashboard(
        campaign=campaign, as_of=as_of, today=today, readiness=readiness,
        timeline=timeline(campaign, today),
        late_by_owner=late_actions_by_owner(session, campaign, today),
        expiring=expiring_proofs(session, campaign, today,
                                 {name: m.starts_on for name, m in milestones.items()}),
        open_pre_audit=open_findings(session, campaign, MilestoneKind.PRE_AUDIT),
        meetings_without_minutes=meetings_without_minutes(campaign, today),
        changes=week_changes(session, campaign, readiness, today),
        trend=trend(session, campaign, today),
        signoff=latest_signoff(session, campaign),
        milestones=milestones,
    )


def late_actions(session: Session, campaign: Campaign, today: date) -> list[Action]:
    """Unfinished actions past their due date, the latest first, with their owner (one query:
    the dashboard needs neither their findings nor their criteria)."""
    return list(session.scalars(
        select(Action)
        .where(Action.campaign_id == campaign.id, Action.due_on < today,
               Action.status.in_([ActionStatus.TODO, ActionStatus.IN_PROGRESS]))
        .options(joinedload(Action.owner))
        .order_by(Action.due_on, Action.id)))


def late_actions_by_owner(session: Session, campaign: Campaign,
                          today: date) -> list[tuple[str, list[Action]]]:
    """Late actions grouped by owner, the owner with the most days late first."""
    grouped: dict[str, list[Action]] = defaultdict(list)
    for action in late_actions(session, campaign, today):
        grouped[action.owner.full_name].append(action)
    return sorted(grouped.items(),
                  key=lambda item: -sum(a.days_late(today) for a in item[1]))


def expiring_proofs(session: Session, campaign: Campaign, today: date,
                    deadlines: dict[str, date]) -> list[ExpiringProof]:
    """Proofs linked to the campaign's criteria that will not last to the last of
    ``deadlines`` (name → day: the audit, the commission), expired ones included."""
    horizon = max(deadlines.values(), default=today)
    serves_campaign = exists().where(
        EvidenceLink.evidence_id == Evidence.id,
        EvidenceLink.criterion_id == Criterion.id,
        EvidenceLink.status != ClaimStatus.REFUSED,
        Criterion.framework_id.in_([f.id for f in campaign.frameworks]),
    )
    proofs = session.scalars(
        select(Evidence)
        .where(Evidence.school_id == campaign.school_id, Evidence.status != ReviewStatus.REFUSED,
               Evidence.valid_until < horizon, serves_campaign)
        .options(joinedload(Evidence.owner))
        .order_by(Evidence.valid_until, Evidence.id))
    result = []
    for evidence in proofs:
        assert evidence.valid_until is not None, "the query keeps dated proofs only"
        if evidence.valid_until < today:
            fails = "expiree"
        else:
            fails = next(name for name, day in sorted(deadlines.items(), key=lambda i: i[1])
                         if evidence.valid_until < day)
        result.append(ExpiringProof(evidence, fails))
    return result


def open_findings(session: Session, campaign: Campaign,
                  milestone_kind: MilestoneKind | None = None) -> list[Finding]:
    """Open findings that call for an answer (not the points forts), optionally of one kind of
    milestone, with their actions. A fixed number of queries however many there are: the actions
    come by ``subqueryload``, which does not split a long list of ids as ``selectinload`` does."""
    statement = (
        select(Finding)
        .join(Milestone, Finding.milestone_id == Milestone.id)
        .join(FindingType, Finding.finding_type_id == FindingType.id)
        .where(Milestone.campaign_id == campaign.id, FindingType.kind.in_(ANSWERABLE),
               Finding.status.in_([FindingStatus.OPEN, FindingStatus.IN_PROGRESS]))
        .options(contains_eager(Finding.milestone), contains_eager(Finding.finding_type),
                 subqueryload(Finding.actions))
        .order_by(Milestone.starts_on, Finding.number)
    )
    if milestone_kind is not None:
        statement = statement.where(Milestone.kind == milestone_kind)
    return list(session.scalars(statement).unique())


def findings_on(session: Session, campaign: Campaign, criterion: Criterion) -> list[Finding]:
    """Every finding of the campaign on ``criterion``, open or not, in report order."""
    return list(session.scalars(
        select(Finding)
        .join(Milestone, Finding.milestone_id == Milestone.id)
        .where(Milestone.campaign_id == campaign.id,
               Finding.criteria.any(Criterion.id == criterion.id))
        .options(contains_eager(Finding.milestone), joinedload(Finding.finding_type))
        .order_by(Milestone.starts_on, Finding.number)))


def week_changes(session: Session, campaign: Campaign, readiness: Readiness,
                 today: date) -> WeekChanges:
    """What moved since a week ago: criteria's states, new proofs, findings and actions."""
    since = today - timedelta(days=7)
    snapshot = snapshot_on_or_before(session, campaign, since)
    states: list[StateChange] = []
    if snapshot is not None:  # snapshots are the whole school's: compare like with like
        same = snapshot.as_of == readiness.as_of and readiness.site_id is None
        now = readiness if same else readiness_of(session, campaign, snapshot.as_of, today=today)
        states = changes_between(thaw(snapshot), now)
    start = datetime.combine(since + timedelta(days=1), time.min, tzinfo=UTC)
    counts = session.execute(select(
        select(func.count(Evidence.id)).where(Evidence.school_id == campaign.school_id,
                                              Evidence.created_at >= start)
        .scalar_subquery(),
        select(func.count(Finding.id)).join(Milestone)
        .where(Milestone.campaign_id == campaign.id, Finding.created_at >= start)
        .scalar_subquery(),
        select(func.count(Action.id)).where(Action.campaign_id == campaign.id,
                                            Action.created_at >= start)
        .scalar_subquery(),
    )).one()
    return WeekChanges(since, states, *counts, compared=snapshot is not None)


# --- go / no-go -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckItem:
    code: str
    label: str
    ok: bool
    details: list[str]
    # What fixes each detail, in the same order: ("critere", id), ("constat", id),
    # ("action", id) or ("preuve", id); the pages turn them into links.
    refs: list[tuple[str, int]] = field(default_factory=list)

    @property
    def fixes(self) -> list[tuple[str, tuple[str, int] | None]]:
        refs = list(self.refs) + [None] * (len(self.details) - len(self.refs))
        return list(zip(self.details, refs, strict=True))


@dataclass(frozen=True)
class Checklist:
    milestone: Milestone
    as_of: date
    items: list[CheckItem]
    readiness: Readiness

    @property
    def go(self) -> bool:
        return all(item.ok for item in self.items)


CHECK_LABELS = {
    "indispensables": _l("Chaque critère indispensable est démontrable"),
    "nc_majeures": _l("Aucune non-conformité majeure ouverte"),
    "escalade": _l("Aucune non-conformité mineure encore ouverte au premier jour de l’audit "
                   "(elle y deviendrait majeure)"),
    "retards": _l("Aucune action en retard"),
    "pre_audit": _l("Chaque constat du pré-audit a sa réponse (action prévue, ou constat levé)"),
    "validite": _l("Chaque preuve reste valable jusqu’à la commission"),
}


def go_no_go(session: Session, campaign: Campaign, milestone: Milestone,
             today: date) -> Checklist:
    """The checklist for one audit or commission, at that milestone's first day."""
    as_of = milestone.starts_on
    readiness = readiness_of(session, campaign, as_of, today=today)
    findings = open_findings(session, campaign)
    commission = key_milestones(campaign, today).get("commission", milestone)
    horizon = max(commission.starts_on, as_of)

    items = []
    not_ready = [c for c in readiness.criteria
                 if c.indispensable and c.state not in {State.DEMONSTRABLE, State.NOT_APPLICABLE}]
    items.append(("indispensables",
                  [f"{c.code} · {c.title} : {c.state.label}" for c in not_ready],
                  [("critere", c.criterion_id) for c in not_ready]))
    majors = [f for f in findings if counts_as_major(f, today)]
    items.append(("nc_majeures", [f"{f.reference} · {f.title}" for f in majors] + [
        ngettext("%(event)s : %(minors)s NC mineures comptent comme une NC majeure",
                 "%(event)s : %(minors)s NC mineures comptent comme %(num)s NC majeures",
                 hit.majors, event=hit.milestone.title, minors=hit.minors)
        for hit in minors_rule_hits(findings)],
        [("constat", f.id) for f in majors]))
    # Judged at the milestone's first day: a mineure open then is majeure at that audit.
    escalating = [f for f in findings if f not in majors
                  and (change := escalation_of(f, as_of)) is not None and change.done]
    items.append(("escalade", [f"{f.reference} · {f.title} · {_escalation_words(f, today)}"
                               for f in escalating],
                  [("constat", f.id) for f in escalating]))
    late = late_actions(session, campaign, today)
    items.append(("retards", [_late_words(a, today) for a in late],
                  [("action", a.id) for a in late]))
    unanswered = [f for f in findings if f.milestone.kind is MilestoneKind.PRE_AUDIT
                  and not f.actions]
    items.append(("pre_audit", [f"{f.reference} · {f.title}" for f in unanswered],
                  [("constat", f.id) for f in unanswered]))
    expiring = expiring_proofs(session, campaign, today, {"commission": horizon})
    items.append(("validite", [_expiry_words(p) for p in expiring],
                  [("preuve", p.evidence.id) for p in expiring]))
    return Checklist(
        milestone=milestone, as_of=as_of, readiness=readiness,
        items=[CheckItem(code, str(CHECK_LABELS[code]), not details, details, refs)
               for code, details, refs in items],
    )


def _escalation_words(finding: Finding, today: date) -> str:
    change = escalation_of(finding, today)
    return change.words if change else ""


def _late_words(action: Action, today: date) -> str:
    return ngettext("%(title)s · %(owner)s · %(num)d jour de retard",
                    "%(title)s · %(owner)s · %(num)d jours de retard",
                    action.days_late(today), title=action.title, owner=action.owner.full_name)


def _expiry_words(proof: ExpiringProof) -> str:
    return gettext("%(title)s · valable jusqu’au %(day)s", title=proof.evidence.title,
                   day=format_date(proof.evidence.valid_until, "dd/MM/yyyy"))
