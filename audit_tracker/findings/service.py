"""Findings and corrective actions: plain functions over a session. Each mutating one flushes,
so a stale edit surfaces here as ``Conflict`` rather than in every caller; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from ..accounts.permissions import Permission, has_permission
from ..domain.errors import DomainError, check_fresh, flush_or_conflict
from ..models import (
    Action,
    ActionStatus,
    AuditSlot,
    Campaign,
    Criterion,
    Evidence,
    Finding,
    FindingStatus,
    Framework,
    Meeting,
    Milestone,
    Role,
    Site,
    User,
)
from ..models.base import utcnow
from .deadlines import (
    Deadline,
    Escalation,
    ScaleRules,
    add_months,
    compute_deadline,
    escalation,
    is_accompaniment,
    minors_as_majors,
    next_audit_after,
)


class FindingError(DomainError):
    """A user-facing reason why a finding or action operation was refused (French)."""


# ------------------------------------------------------------------------------------ findings


@dataclass
class FindingInput:
    framework: Framework
    type_code: str
    title: str
    description: str = ""
    root_cause: str = ""
    response: str = ""
    criteria: list[Criterion] = field(default_factory=list)
    site: Site | None = None
    due_override: date | None = None
    override_reason: str = ""
    slot: AuditSlot | None = None  # on creation only: the programme slot it was seen at


def milestones_leaving_findings(campaign: Campaign) -> list[Milestone]:
    """The campaign's milestones that leave findings: visits, audits, the commission."""
    return [m for m in campaign.milestones if m.kind.leaves_findings]


def deadline_for(finding: Finding) -> Deadline:
    """What the rule gives for this finding, whatever was overridden."""
    milestone = finding.milestone
    return compute_deadline(finding.finding_type, milestone,
                            next_audit_after(milestone.campaign.milestones, milestone),
                            ScaleRules.of(finding.framework.rules))


def escalation_of(finding: Finding, today: date) -> Escalation | None:
    """« Deviendra majeure » before the next audit, majeure from its first day (the clock)."""
    milestone = finding.milestone
    return escalation(finding.finding_type, milestone, finding.framework.finding_types,
                      next_audit_after(milestone.campaign.milestones, milestone),
                      finding.status.is_open, today)


def effective_type_label(finding: Finding, today: date) -> str:
    """The type the finding counts as today: its own, or the one it escalated to."""
    change = escalation_of(finding, today)
    return change.to_label if change and change.done else finding.finding_type.label


def counts_as_major(finding: Finding, today: date) -> bool:
    """An open non-conformity at the top of its scale, or a mineure escalated today."""
    if not finding.status.is_open or not finding.finding_type.is_nonconformity:
        return False
    change = escalation_of(finding, today)
    return bool(change and change.done) or not finding.finding_type.escalates_to


@dataclass(frozen=True)
class MinorsRule:
    milestone: Milestone
    minors: int
    majors: int  # how many majeures they count as
    rule: str


def minors_rule_hits(findings: list[Finding]) -> list[MinorsRule]:
    """Per audit, the open mineures that count as majeures under the scale's rule."""
    by_milestone: dict[tuple[int, int], list[Finding]] = {}
    for finding in findings:
        if finding.status.is_open and not is_accompaniment(finding.milestone):
            key = (finding.milestone_id, finding.framework_id)
            by_milestone.setdefault(key, []).append(finding)
    hits = []
    for group in by_milestone.values():
        rules = ScaleRules.of(group[0].framework.rules)
        codes = [f.finding_type.code for f in group]
        majors = minors_as_majors(codes, rules)
        if majors:
            hits.append(MinorsRule(group[0].milestone, codes.count(rules.minors_type), majors,
                                   rules.minors_rule))
    return hits


def refresh_deadlines(session: Session, campaign: Campaign) -> int:
    """Recompute the due dates the rules give (an event moved, a report was notified); a date
    a user overrode with a reason stays. Returns how many findings changed."""
    changed = 0
    for finding in findings_of(session, campaign):
        if finding.due_override_reason:
            continue
        rule = deadline_for(finding)
        if (finding.due_on, finding.verify_by) != (rule.due_on, rule.verify_by):
            finding.due_on, finding.verify_by = rule.due_on, rule.verify_by
            changed += 1
    flush_or_conflict(session)
    return changed


def _check_finding(milestone: Milestone, data: FindingInput) -> None:
    campaign = milestone.campaign
    if not milestone.kind.leaves_findings:
        raise FindingError(_("Seules les visites, les audits et la commission reçoivent des "
                             "constats."))
    if data.framework not in campaign.frameworks:
        raise FindingError(_("Ce référentiel n’est pas suivi par la campagne."))
    data.title = (data.title or "").strip()
    if not data.title:
        raise FindingError(_("Donnez un intitulé au constat."))
    if len(data.title) > 300:
        raise FindingError(_("L’intitulé ne doit pas dépasser 300 caractères."))
    finding_type = next((t for t in data.framework.finding_types if t.code == data.type_code),
                        None)
    if finding_type is None:
        labels = ", ".join(t.label for t in data.framework.finding_types)
        raise FindingError(_("Type de constat « %(code)s » absent de l’échelle de %(framework)s "
                             "(%(labels)s).", code=data.type_code,
                             framework=data.framework.name, labels=labels))
    for criterion in data.criteria:
        if criterion.framework_id != data.framework.id:
            raise FindingError(_("%(criterion)s n’appartient pas à %(framework)s.",
                                 criterion=criterion.label, framework=data.framework.name))
        allowed = criterion.finding_types
        if finding_type.is_nonconformity and allowed is not None \
                and finding_type.code not in allowed:
            names = ", ".join(t.label.lower() for t in data.framework.finding_types
                              if t.code in allowed)
            raise FindingError(_("%(criterion)s ne peut donner lieu qu’à une %(allowed)s : "
                                 "« %(type)s » est refusée.", criterion=criterion.label,
                                 allowed=names, type=finding_type.label.lower()))
    if data.site is not None and data.site.school_id != campaign.school_id:
        raise FindingError(_("Ce site n’appartient pas à votre école."))
    if data.due_override is not None:
        if data.due_override < milestone.starts_on:
            raise FindingError(_("L’échéance ne peut pas précéder l’audit (%(day)s).",
                                 day=milestone.starts_on.strftime("%d/%m/%Y")))
        if not (data.override_reason or "").strip():
            raise FindingError(_("Indiquez pourquoi l’échéance calculée est remplacée."))


def _apply_finding(finding: Finding, data: FindingInput) -> None:
    finding.framework = data.framework
    finding.finding_type = next(t for t in data.framework.finding_types
                                if t.code == data.type_code)
    finding.title = data.title
    finding.description = data.description or ""
    finding.root_cause = data.root_cause or ""
    finding.response = data.response or ""
    finding.criteria = list(data.criteria)
    finding.site = data.site
    # The version counts edits of the link tables too, which do not touch the row itself.
    flag_modified(finding, "title")
    rule = deadline_for(finding)
    if data.due_override is not None:
        finding.due_on = data.due_override
        finding.verify_by = add_months(data.due_override, finding.finding_type.verify_months) \
            if finding.finding_type.verify_months and rule.verify_by else None
        finding.due_override_reason = data.override_reason.strip()
    else:
        finding.due_on, finding.verify_by = rule.due_on, rule.verify_by
        finding.due_override_reason = ""


def create_finding(session: Session, milestone: Milestone, author: User,
                   data: FindingInput) -> Finding:
    """Record a finding of ``milestone``, numbered after the last one, its due dates computed."""
    _check_finding(milestone, data)
    # Two people entering findings on one audit at once would read the same last number: the
    # milestone's row is locked until the commit, so the second waits and numbers after the
    # first (PostgreSQL; SQLite has one writer at a time).
    session.execute(select(Milestone.id).where(Milestone.id == milestone.id).with_for_update())
    number = (session.scalar(select(func.max(Finding.number))
                             .where(Finding.milestone_id == milestone.id)) or 0) + 1
    finding = Finding(milestone=milestone, number=number, created_by=author)
    _apply_finding(finding, data)
    if data.slot is not None:
        if data.slot.milestone_id != milestone.id:
            raise FindingError(_("Ce créneau n’appartient pas au programme de cet audit."))
        finding.slot = data.slot
        if finding.site is None:
            finding.site = data.slot.site  # seen on the slot's site unless told otherwise
    session.add(finding)
    flush_or_conflict(session)
    return finding


def update_finding(session: Session, finding: Finding, data: FindingInput,
                   seen_lock_version: int | None) -> None:
    check_fresh(finding, seen_lock_version)
    _check_finding(finding.milestone, data)
    # Replacing the criteria loads the old ones: an autoflush there would write the half-applied
    # edit early (a second version bump) and raise a concurrent save's StaleDataError outside
    # flush_or_conflict, as a crash instead of a Conflict.
    with session.no_autoflush:
        _apply_finding(finding, data)
    flush_or_conflict(session)


def set_finding_slot(session: Session, finding: Finding, slot: AuditSlot | None,
                     seen_lock_version: int | None = None) -> None:
    """The programme slot a finding was seen at, moved or removed after its creation; a slot of
    another audit's programme is refused."""
    check_fresh(finding, seen_lock_version)
    if slot is not None and slot.milestone_id != finding.milestone_id:
        raise FindingError(_("Ce créneau n’appartient pas au programme de cet audit."))
    finding.slot = slot
    flush_or_conflict(session)


def set_finding_status(session: Session, finding: Finding, status: FindingStatus,
                       user: User, seen_lock_version: int | None = None) -> None:
    """A non-conformity is lifted only once every action answering it is verified effective."""
    check_fresh(finding, seen_lock_version)
    if not has_permission(user, Permission.EDIT_FINDINGS):
        raise FindingError(_("Seuls la direction et le responsable qualité changent le statut "
                             "d’un constat."))
    if status in {FindingStatus.LIFTED, FindingStatus.CLOSED} \
            and finding.finding_type.is_nonconformity:
        if not finding.actions:
            raise FindingError(_("Une non-conformité ne peut être levée sans action corrective."))
        pending = [a.title for a in finding.actions if a.status is not ActionStatus.VERIFIED]
        if pending:
            raise FindingError(_("Non-conformité encore ouverte : l’efficacité de ces actions "
                                 "n’est pas vérifiée : %(titles)s.", titles=", ".join(pending)))
        if not has_permission(user, Permission.REVIEW_EVIDENCE):
            raise FindingError(_("Seuls la direction et le responsable qualité lèvent une "
                                 "non-conformité."))
    finding.status = status
    flush_or_conflict(session)


def findings_of(session: Session, campaign: Campaign, open_only: bool = False,
                milestone_id: int | None = None) -> list[Finding]:
    """The campaign's findings by milestone date and number, with what the register shows."""
    statement = (
        select(Finding).join(Milestone).where(Milestone.campaign_id == campaign.id)
        .options(selectinload(Finding.finding_type), selectinload(Finding.criteria),
                 selectinload(Finding.actions), selectinload(Finding.site),
                 selectinload(Finding.milestone),
                 selectinload(Finding.slot).selectinload(AuditSlot.site))
        .order_by(Milestone.starts_on, Finding.number)
    )
    if open_only:
        statement = statement.where(Finding.status.in_([FindingStatus.OPEN,
                                                         FindingStatus.IN_PROGRESS]))
    if milestone_id:
        statement = statement.where(Finding.milestone_id == milestone_id)
    return list(session.scalars(statement))


# ------------------------------------------------------------------------------------- actions


@dataclass
class ActionInput:
    title: str
    owner: User
    due_on: date
    description: str = ""
    site: Site | None = None
    findings: list[Finding] = field(default_factory=list)
    criteria: list[Criterion] = field(default_factory=list)
    closing_evidence: Evidence | None = None


def _check_action(campaign: Campaign, data: ActionInput) -> None:
    data.title = (data.title or "").strip()
    if not data.title:
        raise FindingError(_("Donnez un intitulé à l’action."))
    if len(data.title) > 300:
        raise FindingError(_("L’intitulé ne doit pas dépasser 300 caractères."))
    if data.owner is None or data.owner.school_id != campaign.school_id:
        raise FindingError(_("Le responsable de l’action doit être un compte de votre école."))
    if data.owner.role is Role.AUDITOR:
        raise FindingError(_("L’auditeur lit le dossier ; il ne peut pas porter une action."))
    if data.due_on is None:
        raise FindingError(_("Indiquez l’échéance de l’action."))
    for finding in data.findings:
        if finding.milestone.campaign_id != campaign.id:
            raise FindingError(_("Ce constat n’appartient pas à la campagne."))
        if data.due_on < finding.milestone.starts_on:
            raise FindingError(_("L’échéance (%(due)s) précède l’audit qui a relevé le constat "
                                 "« %(title)s » (%(day)s).",
                                 due=data.due_on.strftime("%d/%m/%Y"), title=finding.title,
                                 day=finding.milestone.starts_on.strftime("%d/%m/%Y")))
    if data.site is not None and data.site.school_id != campaign.school_id:
        raise FindingError(_("Ce site n’appartient pas à votre école."))
    if data.closing_evidence is not None \
            and data.closing_evidence.school_id != campaign.school_id:
        raise FindingError(_("Cette preuve n’appartient pas à votre école."))
    for criterion in data.criteria:
        if criterion.framework_id not in {f.id for f in campaign.frameworks}:
            raise FindingError(_("%(criterion)s n’appartient pas aux référentiels de la "
                                 "campagne.", criterion=criterion.label))


def _apply_action(action: Action, data: ActionInput) -> None:
    for name in ("title", "description", "owner", "site", "due_on", "closing_evidence"):
        setattr(action, name, getattr(data, name))
    action.description = data.description or ""
    action.findings = list(data.findings)
    action.criteria = list(data.criteria)
    # The version counts edits of the link tables too, which do not touch the row itself.
    flag_modified(action, "title")
    for finding in data.findings:  # answering a finding puts it « en traitement »
        if finding.status is FindingStatus.OPEN:
            finding.status = FindingStatus.IN_PROGRESS


def create_action(session: Session, campaign: Campaign, author: User,
                  data: ActionInput) -> Action:
    _check_action(campaign, data)
    action = Action(campaign=campaign, created_by=author, status=ActionStatus.TODO)
    _apply_action(action, data)
    session.add(action)
    flush_or_conflict(session)
    return action


def update_action(session: Session, action: Action, data: ActionInput,
                  seen_lock_version: int | None) -> None:
    check_fresh(action, seen_lock_version)
    _check_action(action.campaign, data)
    if action.status is ActionStatus.VERIFIED and data.closing_evidence is None \
            and any(f.finding_type.is_nonconformity for f in data.findings):
        # Its verification rested on that proof: removing it would lift an NC on nothing.
        raise FindingError(_("Cette action vérifiée répond à une non-conformité : sa preuve "
                             "de clôture ne peut pas être retirée."))
    with session.no_autoflush:  # as in update_finding: one flush, in flush_or_conflict
        _apply_action(action, data)
    flush_or_conflict(session)


def set_action_status(session: Session, action: Action, status: ActionStatus, user: User,
                      today: date, note: str = "", seen_lock_version: int | None = None) -> None:
    """Move an action along; verifying effectiveness is for qualité or direction, after the
    action is done, and for an action answering a non-conformity it needs its closing proof."""
    check_fresh(action, seen_lock_version)
    if not can_update_action(user, action):
        raise FindingError(_("Vous ne pouvez pas faire avancer cette action."))
    if status is action.status:
        return  # nothing changes; in particular a verification keeps who verified and when
    if status is ActionStatus.VERIFIED:
        if not has_permission(user, Permission.REVIEW_EVIDENCE):
            raise FindingError(_("Seuls la direction et le responsable qualité vérifient "
                                 "l’efficacité d’une action."))
        if action.status not in {ActionStatus.DONE, ActionStatus.VERIFIED}:
            raise FindingError(_("L’action doit être réalisée avant que son efficacité soit "
                                 "vérifiée."))
        if action.answers_nonconformity and action.closing_evidence is None:
            raise FindingError(_("Cette action répond à une non-conformité : joignez la preuve "
                                 "de clôture avant de vérifier son efficacité."))
        action.verified_by, action.verified_at = user, utcnow()
        action.verification_note = (note or "").strip()
    elif action.status is ActionStatus.VERIFIED:
        if not has_permission(user, Permission.REVIEW_EVIDENCE):
            raise FindingError(_("Seuls la direction et le responsable qualité rouvrent une "
                                 "action vérifiée."))
        action.verified_by = action.verified_at = None
        action.verification_note = ""
    if status is ActionStatus.DONE and action.done_on is None:
        action.done_on = today
    if status in {ActionStatus.TODO, ActionStatus.IN_PROGRESS}:
        action.done_on = None
    action.status = status
    flush_or_conflict(session)


def can_update_action(user: User, action: Action) -> bool:
    """Qualité and direction move any action; a site manager their own or their site's."""
    if not has_permission(user, Permission.UPDATE_ACTIONS):
        return False
    if action.campaign.school_id != user.school_id:
        return False
    if user.role is Role.SITE_MANAGER:
        return action.owner_id == user.id or (action.site_id is not None
                                              and action.site_id == user.site_id)
    return True


@dataclass
class ActionFilters:
    mine_user_id: int | None = None
    late_on: date | None = None  # late as of this day
    site_id: int | None = None
    finding_id: int | None = None
    criterion_id: int | None = None
    open_only: bool = False


def actions_of(session: Session, campaign: Campaign, filters: ActionFilters) -> list[Action]:
    """The campaign's action plan, filtered, by due date."""
    statement = (
        select(Action).where(Action.campaign_id == campaign.id)
        .options(selectinload(Action.owner), selectinload(Action.site),
                 selectinload(Action.findings).selectinload(Finding.finding_type),
                 selectinload(Action.findings).selectinload(Finding.milestone),
                 selectinload(Action.criteria), selectinload(Action.closing_evidence))
        .order_by(Action.due_on, Action.id)
    )
    unfinished = Action.status.in_([ActionStatus.TODO, ActionStatus.IN_PROGRESS])
    if filters.mine_user_id:
        statement = statement.where(Action.owner_id == filters.mine_user_id)
    if filters.late_on:
        statement = statement.where(unfinished, Action.due_on < filters.late_on)
    if filters.open_only:
        statement = statement.where(unfinished)
    if filters.site_id:
        statement = statement.where(Action.site_id == filters.site_id)
    if filters.finding_id:
        statement = statement.where(Action.findings.any(Finding.id == filters.finding_id))
    if filters.criterion_id:
        statement = statement.where(or_(
            Action.criteria.any(Criterion.id == filters.criterion_id),
            Action.findings.any(Finding.criteria.any(Criterion.id == filters.criterion_id)),
        ))
    return list(session.scalars(statement))


# ------------------------------------------------------------------------------------ meetings


def meetings_without_minutes(campaign: Campaign, today: date) -> list[Meeting]:
    """Meetings already held that have no minutes among the proofs yet."""
    return [m for m in campaign.meetings if m.held_on < today and m.minutes_evidence_id is None]
