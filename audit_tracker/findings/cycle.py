"""The label's life cycle after the Commission: the decision, the validity it opens, the cycle's
milestones (from the framework's ``rules.cycle``), the next campaign carrying over what stays
true, and the cycle on one line. Plain functions over a session; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..domain.errors import DomainError, flush_or_conflict
from ..models import (
    Action,
    Campaign,
    CampaignCriterion,
    CommissionDecision,
    Evidence,
    Finding,
    Framework,
    Milestone,
    MilestoneKind,
    ReviewStatus,
)
from .deadlines import add_months

GRANTED = frozenset({CommissionDecision.GRANTED, CommissionDecision.GRANTED_WITH_RECOMMENDATIONS})
RENEWAL = "audit_renouvellement"


class CycleError(DomainError):
    """Why a decision or the next campaign was refused (French)."""


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def validity_end(decided_on: date, years: int) -> date:
    """The last day a label granted on ``decided_on`` is valid: 14/06/2018, 4 years → 13/06/2022."""
    return add_months(decided_on, 12 * years) - timedelta(days=1)


def label_framework(campaign: Campaign) -> Framework | None:
    """The framework whose label the decision grants: the first with a cycle of its own."""
    with_cycle = [f for f in campaign.frameworks if f.cycle_years]
    return next((f for f in with_cycle if (f.rules or {}).get("cycle")),
                with_cycle[0] if with_cycle else None)


def decision_of(campaign: Campaign) -> Milestone | None:
    return next((m for m in reversed(campaign.milestones)
                 if m.kind is MilestoneKind.DECISION and m.decision is not None), None)


def is_granted(campaign: Campaign) -> bool:
    decision = decision_of(campaign)
    return decision is not None and decision.decision in GRANTED


@dataclass(frozen=True)
class PlannedStep:
    kind: MilestoneKind
    title: str
    starts_on: date
    notes: str
    assumed: bool


def cycle_steps(framework: Framework, decided_on: date) -> list[PlannedStep]:
    """The milestones a granted decision opens, from the framework's data: its audits between,
    the renewal before expiry, and the end of validity."""
    years = framework.cycle_years or 0
    if not years:
        return []
    expiry = validity_end(decided_on, years)
    steps = []
    for step in (framework.rules or {}).get("cycle") or []:
        rule = str(step.get("rule") or "")
        if step.get("months_before_expiry") is not None:
            day = add_months(expiry + timedelta(days=1), -int(step["months_before_expiry"]))
        elif step.get("between_months"):
            first, last = (int(m) for m in step["between_months"])
            window = (add_months(decided_on, first), add_months(decided_on, last))
            day = add_months(decided_on, (first + last) // 2)
            rule = f"{rule} " + _("Fenêtre : du %(start)s au %(end)s.", start=_day(window[0]),
                                  end=_day(window[1]))
        else:
            day = add_months(decided_on, int(step.get("months") or 0))
        kind = MilestoneKind.INITIAL_AUDIT if step.get("kind") == RENEWAL \
            else MilestoneKind.SURVEILLANCE_AUDIT
        assumed = bool(step.get("assumed"))
        if assumed and "supposée" not in rule:
            rule = f"{rule} " + _("Règle supposée : date à déplacer dès qu’elle est connue.")
        steps.append(PlannedStep(kind, str(step.get("title") or kind.label), day, rule.strip(),
                                 assumed))
    steps.append(PlannedStep(MilestoneKind.OTHER, _("Fin de validité : %(name)s",
                                                     name=framework.name), expiry,
                             _("Label accordé le %(day)s pour %(years)s ans.",
                               day=_day(decided_on), years=years), False))
    return steps


@dataclass
class DecisionInput:
    decided_on: date
    decision: CommissionDecision
    conditions: str = ""


def record_decision(session: Session, campaign: Campaign, data: DecisionInput) -> Milestone:
    """Record (or correct) the decision; a granted label gets its cycle's milestones, once."""
    commission = next((m for m in campaign.milestones
                       if m.kind is MilestoneKind.NATIONAL_COMMISSION), None)
    if commission is not None and data.decided_on < commission.starts_on:
        raise CycleError(_("La décision ne peut pas précéder la commission (%(day)s).",
                           day=_day(commission.starts_on)))
    if len(data.conditions or "") > 5000:
        raise CycleError(_("Les conditions ne doivent pas dépasser 5000 caractères."))
    milestone = next((m for m in campaign.milestones if m.kind is MilestoneKind.DECISION), None)
    if milestone is None:
        milestone = Milestone(campaign=campaign, kind=MilestoneKind.DECISION,
                              title=_("Décision de labellisation"), starts_on=data.decided_on)
        session.add(milestone)
    milestone.starts_on, milestone.ends_on = data.decided_on, None
    milestone.decision = data.decision
    milestone.conditions = (data.conditions or "").strip()
    if data.decision in GRANTED:
        _plan_cycle(campaign, data.decided_on)
    flush_or_conflict(session)
    return milestone


def _plan_cycle(campaign: Campaign, decided_on: date) -> None:
    framework = label_framework(campaign)
    if framework is None:
        return
    existing = {(m.kind, m.title) for m in campaign.milestones}
    for step in cycle_steps(framework, decided_on):
        if (step.kind, step.title) in existing:
            continue
        campaign.milestones.append(Milestone(kind=step.kind, title=step.title,
                                             starts_on=step.starts_on, notes=step.notes,
                                             assumed=step.assumed))


# --------------------------------------------------------------------------- the next campaign


@dataclass
class CarryOver:
    campaign: Campaign
    proofs: list[Evidence] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)  # what stayed behind, and why


def open_next_campaign(session: Session, campaign: Campaign, today: date) -> CarryOver:
    """A new campaign from a granted decision: the cycle's milestones move to it, the school's
    presentation and criterion decisions are copied, the open findings are copied with their
    unfinished actions; the proofs (the school's library) stay linked and are listed."""
    decision = decision_of(campaign)
    if decision is None or decision.decision not in GRANTED:
        raise CycleError(_("Enregistrez d’abord une décision accordant le label."))
    if session.scalar(select(Campaign.id).where(Campaign.previous_id == campaign.id)):
        raise CycleError(_("La campagne suivante a déjà été ouverte."))
    framework = label_framework(campaign)
    expiry = validity_end(decision.starts_on, framework.cycle_years or 0) \
        if framework is not None and framework.cycle_years else None
    name = _("%(name)s · cycle %(start)s–%(end)s", name=campaign.name,
             start=decision.starts_on.year, end=expiry.year if expiry else "…")[:200]
    new = Campaign(school_id=campaign.school_id, name=name, description=campaign.description,
                   frameworks=list(campaign.frameworks), categories=list(campaign.categories),
                   certifying=campaign.certifying, previous=campaign)
    session.add(new)
    result = CarryOver(new)

    for milestone in list(campaign.milestones):
        if milestone.starts_on > decision.starts_on:
            milestone.campaign = new
            result.milestones.append(milestone)

    for row in session.scalars(select(CampaignCriterion)
                               .where(CampaignCriterion.campaign_id == campaign.id)):
        session.add(CampaignCriterion(campaign=new, criterion_id=row.criterion_id,
                                      argument=row.argument, applicable=row.applicable,
                                      not_applicable_reason=row.not_applicable_reason))

    proofs = session.scalars(select(Evidence).where(Evidence.school_id == campaign.school_id)
                             .order_by(Evidence.title))
    for proof in proofs:
        if proof.status is ReviewStatus.REFUSED:
            result.not_carried.append(_("Preuve « %(title)s » : refusée.", title=proof.title))
        elif proof.valid_until is not None and proof.valid_until < today:
            result.not_carried.append(_("Preuve « %(title)s » : expirée le %(day)s.",
                                        title=proof.title, day=_day(proof.valid_until)))
        else:
            result.proofs.append(proof)

    events: dict[int, Milestone] = {}
    copies: dict[int, Finding] = {}
    findings = list(session.scalars(select(Finding).join(Milestone)
                                    .where(Milestone.campaign_id == campaign.id)
                                    .order_by(Milestone.starts_on, Finding.number)))
    for finding in findings:
        if not finding.status.is_open:
            result.not_carried.append(_("%(reference)s « %(title)s » : %(status)s, reste dans "
                                        "la campagne précédente.", reference=finding.reference,
                                        title=finding.title, status=finding.status.label.lower()))
            continue
        source = finding.milestone
        if source.id not in events:
            events[source.id] = Milestone(
                campaign=new, kind=source.kind, title=source.title, starts_on=source.starts_on,
                ends_on=source.ends_on, place=source.place,
                report_evidence_id=source.report_evidence_id,
                report_notified_on=source.report_notified_on,
                notes=_("Reprise de la campagne « %(name)s » : ses constats encore ouverts.",
                        name=campaign.name))
            session.add(events[source.id])
        copy = Finding(milestone=events[source.id], framework=finding.framework,
                       finding_type=finding.finding_type, number=finding.number,
                       title=finding.title, description=finding.description,
                       root_cause=finding.root_cause, status=finding.status,
                       site=finding.site, due_on=finding.due_on, verify_by=finding.verify_by,
                       due_override_reason=finding.due_override_reason,
                       created_by_id=finding.created_by_id, criteria=list(finding.criteria))
        session.add(copy)
        copies[finding.id] = copy
        result.findings.append(copy)

    actions = list(session.scalars(select(Action).where(Action.campaign_id == campaign.id)
                                   .order_by(Action.due_on, Action.id)))
    for action in actions:
        if action.status.is_finished:
            result.not_carried.append(_("Action « %(title)s » : %(status)s.", title=action.title,
                                        status=action.status.label.lower()))
            continue
        answered = [copies[f.id] for f in action.findings if f.id in copies]
        if action.findings and not answered:
            result.not_carried.append(_("Action « %(title)s » : ses constats sont levés ou "
                                        "clos.", title=action.title))
            continue
        copy_action = Action(campaign=new, title=action.title, description=action.description,
                             owner_id=action.owner_id, site_id=action.site_id,
                             due_on=action.due_on, status=action.status,
                             closing_evidence_id=action.closing_evidence_id,
                             created_by_id=action.created_by_id, findings=answered,
                             criteria=list(action.criteria))
        session.add(copy_action)
        result.actions.append(copy_action)
    for milestone in campaign.milestones:
        if milestone.starts_on <= decision.starts_on and milestone.id not in events:
            result.not_carried.append(_("Échéance « %(title)s » du %(day)s : passée.",
                                        title=milestone.title, day=_day(milestone.starts_on)))
    flush_or_conflict(session)
    return result


# ----------------------------------------------------------------------------- on one line


@dataclass(frozen=True)
class CycleStep:
    milestone: Milestone
    state: str  # "done", "current", "next", "later"


@dataclass(frozen=True)
class CycleLine:
    steps: list[CycleStep]
    expiry: date | None
    next_step: Milestone | None


def cycle_line(campaign: Campaign, today: date) -> CycleLine:
    """Where the campaign stands in its cycle and what comes next, for one line on its page."""
    steps = []
    next_step = None
    for milestone in campaign.milestones:
        if milestone.last_day < today:
            state = "done"
        elif milestone.starts_on <= today:
            state = "current"
        elif next_step is None:
            state, next_step = "next", milestone
        else:
            state = "later"
        steps.append(CycleStep(milestone, state))
    decision = decision_of(campaign)
    framework = label_framework(campaign)
    expiry = None
    if decision is not None and decision.decision in GRANTED and framework is not None \
            and framework.cycle_years:
        expiry = validity_end(decision.starts_on, framework.cycle_years)
    elif campaign.previous is not None:
        previous = decision_of(campaign.previous)
        previous_framework = label_framework(campaign.previous)
        if previous is not None and previous.decision in GRANTED and previous_framework \
                is not None and previous_framework.cycle_years:
            expiry = validity_end(previous.starts_on, previous_framework.cycle_years)
    return CycleLine(steps, expiry, next_step)

