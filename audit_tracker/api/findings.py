"""API v1 for findings and corrective actions: the calls of ``findings.service``, in JSON.

The routes only translate: JSON in (codes, e-mails, ids of the user's school) to the service's
inputs, the service's refusals out as ``{"error": "..."}`` (400, 409 for a stale edit). A PATCH
that both edits fields and moves the status makes two service calls that succeed or fail
together (see ``_one_transaction``): a refused status leaves the fields unchanged too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..accounts.permissions import Permission, has_permission, requires
from ..campaigns import service as campaigns
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..extensions import db
from ..findings import service
from ..models import (
    Action,
    AuditSlot,
    Campaign,
    Criterion,
    Evidence,
    Finding,
    Framework,
    Milestone,
    User,
)
from ..web.lookups import get_campaign_or_404
from . import bp, inputs, schemas, serializers
from .declare import Reply, endpoint

# What a PATCH of an action may carry besides its fields: moving it along is open to a site
# manager on their own actions (UPDATE_ACTIONS); every other key edits it (EDIT_FINDINGS).
_STATUS_KEYS = {"status", "note", "lock_version"}
# The slot is moved by a call of its own (``set_finding_slot``): the service's edit keeps it.
_FINDING_FIELDS = set(schemas.FindingFields.model_fields) - {"slot_id"}
_ACTION_FIELDS = set(schemas.ActionFields.model_fields)


# ------------------------------------------------------------------------------------ helpers


def _refuse(error: DomainError) -> NoReturn:
    db.session.rollback()
    abort(409 if isinstance(error, Conflict) else 400, str(error))


@contextmanager
def _one_transaction() -> Iterator[Session]:
    """Service calls (each only flushes) committed once at the end; any refusal undoes them
    all."""
    try:
        yield db.session()  # the request's session itself, not its scoped proxy
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    except BaseException:
        db.session.rollback()
        raise


def _campaigns_asked(campaign_id: int | None) -> list[Campaign]:
    """``?campaign_id=`` if given (404 for another school's), else all the school's campaigns."""
    if campaign_id is not None:
        return [get_campaign_or_404(campaign_id)]
    return campaigns.campaigns_for_school(db.session, current_user.school_id)


def _finding_or_404(finding_id: int) -> Finding:
    """A finding of the user's school; another school's does not exist."""
    finding = db.session.scalar(
        select(Finding)
        .join(Milestone, Finding.milestone_id == Milestone.id)
        .join(Campaign, Milestone.campaign_id == Campaign.id)
        .where(Finding.id == finding_id, Campaign.school_id == current_user.school_id)
    )
    if finding is None:
        abort(404, _("Constat introuvable."))
    return finding


def _action_or_404(action_id: int) -> Action:
    action = db.session.scalar(
        select(Action)
        .join(Campaign, Action.campaign_id == Campaign.id)
        .where(Action.id == action_id, Campaign.school_id == current_user.school_id)
    )
    if action is None:
        abort(404, _("Action introuvable."))
    return action


def _framework_of(campaign: Campaign, code: str | None) -> Framework:
    if not code or not code.strip():
        abort(
            400,
            _(
                "Indiquez le référentiel (« framework ») : %(codes)s.",
                codes=", ".join(f.code for f in campaign.frameworks),
            ),
        )
    matches = [f for f in campaign.frameworks if f.code == code.strip()]
    if not matches:
        abort(
            400,
            _(
                "Le référentiel « %(code)s » n’est pas suivi par la campagne (%(codes)s).",
                code=code[:60],
                codes=", ".join(f.code for f in campaign.frameworks),
            ),
        )
    return max(matches, key=lambda f: f.id)


def _criterion_by_id(criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None:
        abort(400, _("Critère inconnu : %(id)s.", id=criterion_id))
    return criterion


def _criterion_by_code(framework: Framework, code: str | None) -> Criterion:
    code = (code or "").strip()
    criterion = next((c for c in framework.criteria if c.code == code), None)
    if criterion is None:
        abort(
            400,
            _(
                "Critère inconnu dans %(framework)s : %(code)s.",
                framework=framework.code,
                code=code[:40],
            ),
        )
    return criterion


def _finding_criteria(framework: Framework, items: list[schemas.CriterionRef]) -> list[Criterion]:
    """Codes of the finding's framework, or criterion ids, or objects with "id" or "code"."""
    criteria = []
    for item in items:
        if item.id is not None:
            criteria.append(_criterion_by_id(item.id))
        else:
            criteria.append(_criterion_by_code(framework, item.code))
    return criteria


def _action_criteria(campaign: Campaign, items: list[schemas.CriterionRef]) -> list[Criterion]:
    """Criterion ids, or {"framework": code, "code": code}, or {"id": id}; all of the
    campaign's frameworks (the service does not check that one: see the report)."""
    criteria = []
    for item in items:
        if item.id is not None:
            criterion = _criterion_by_id(item.id)
        else:
            criterion = _criterion_by_code(_framework_of(campaign, item.framework), item.code)
        if criterion.framework_id not in {f.id for f in campaign.frameworks}:
            abort(400, _("Choisissez un critère des référentiels de la campagne."))
        criteria.append(criterion)
    return criteria


def _under_a_milestone_of_the_school(model: type[Finding] | type[AuditSlot],
                                     record_id: int) -> Any:
    """The finding or programme slot ``record_id`` of one of the user's school's audits; None
    for another school's, which does not exist for this user."""
    return db.session.scalar(
        select(model)
        .join(Milestone, model.milestone_id == Milestone.id)
        .join(Campaign, Milestone.campaign_id == Campaign.id)
        .where(model.id == record_id, Campaign.school_id == current_user.school_id)
    )


def _action_findings(items: list[int]) -> list[Finding]:
    findings = []
    for finding_id in items:
        finding = _under_a_milestone_of_the_school(Finding, finding_id)
        if finding is None:
            abort(400, _("Constat introuvable : %(id)s.", id=finding_id))
        findings.append(finding)
    return findings


def _owner(email: str | None) -> User | None:
    """The account with this e-mail; None when there is none, which the service refuses with
    the same words as another school's account (no way to probe who has an account)."""
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def _closing_evidence(evidence_id: int | None) -> Evidence | None:
    if evidence_id is None:
        return None
    evidence = db.session.scalar(
        select(Evidence).where(
            Evidence.id == evidence_id, Evidence.school_id == current_user.school_id
        )
    )
    if evidence is None:
        abort(400, _("Preuve introuvable : %(id)s.", id=evidence_id))
    return evidence


def _slot(slot_id: int | None) -> AuditSlot | None:
    """A programme slot of the user's school; another school's does not exist. Whether it
    belongs to the finding's audit is the service's rule."""
    if slot_id is None:
        return None
    slot = _under_a_milestone_of_the_school(AuditSlot, slot_id)
    if slot is None:
        abort(400, _("Créneau du programme introuvable : %(id)s.", id=slot_id))
    return slot


def _finding_json(finding: Finding) -> dict:
    return serializers.finding(finding)


def _action_json(action: Action) -> dict:
    return serializers.action(action, local_today())


# ------------------------------------------------------------------------------------ findings


def _finding_input(
    body: schemas.FindingFields, campaign: Campaign, current: Finding | None
) -> service.FindingInput:
    """Build the service's input; a key absent from a PATCH keeps the finding's value."""
    sent = body.model_fields_set

    def given(name: str) -> bool:
        return current is None or name in sent

    framework = (
        _framework_of(campaign, body.framework) if given("framework") else current.framework
    )
    if given("type"):
        type_code = body.type
        if not type_code or not type_code.strip():
            abort(
                400,
                _(
                    "Indiquez le type de constat (« type ») : %(codes)s.",
                    codes=", ".join(t.code for t in framework.finding_types),
                ),
            )
        type_code = type_code.strip()
    else:
        type_code = current.finding_type.code
    if given("criteria"):
        criteria = _finding_criteria(framework, body.criteria or [])
    else:
        criteria = list(current.criteria)
    data = service.FindingInput(
        framework=framework,
        type_code=type_code,
        title=body.title if given("title") else current.title,
        description=body.description if given("description") else current.description,
        root_cause=body.root_cause if given("root_cause") else current.root_cause,
        response=body.response if given("response") else current.response,
        criteria=criteria,
        site=inputs.site(body.site) if given("site") else current.site,
    )
    due_sent, reason_sent = "due_on" in sent, "override_reason" in sent
    if current is None:
        data.slot = _slot(body.slot_id)
        if due_sent and body.due_on is not None:
            data.due_override = body.due_on
            data.override_reason = body.override_reason if reason_sent else ""
        return data
    # A PATCH: "due_on": null goes back to the computed deadline; an override stays one; the
    # computed date sent back unchanged without a reason (a GET's JSON) stays computed.
    overridden = bool(current.due_override_reason)
    new_due = body.due_on if due_sent else current.due_on
    new_reason = body.override_reason if reason_sent else current.due_override_reason
    if new_due is not None and (overridden or new_due != current.due_on or new_reason.strip()):
        data.due_override, data.override_reason = new_due, new_reason
    return data


def _milestone_or_404(milestone_id: int) -> Milestone:
    milestone = db.session.scalar(
        select(Milestone)
        .join(Campaign, Milestone.campaign_id == Campaign.id)
        .where(Milestone.id == milestone_id, Campaign.school_id == current_user.school_id)
    )
    if milestone is None:
        abort(404, _("Étape de campagne introuvable."))
    return milestone


@bp.get("/findings")
@requires(Permission.READ)
@endpoint(
    "Constats des campagnes de l’école, par date d’étape et numéro",
    query=schemas.FindingQuery,
    replies={200: list[schemas.Finding]},
    errors=(404,),
)
def finding_list(query: schemas.FindingQuery):
    """Every campaign of the school at once, so that a client needs no loop of its own."""
    items = []
    for campaign in _campaigns_asked(query.campaign_id):
        items += service.findings_of(db.session, campaign, open_only=query.open,
                                     milestone_id=query.event_id)
    return [_finding_json(f) for f in items]


@bp.post("/findings")
@requires(Permission.EDIT_FINDINGS)
@endpoint(
    "Enregistrer un constat d’une visite, d’un audit ou de la commission",
    description="L’échéance est calculée d’après le type et la date de l’étape ; `due_on` la "
    "remplace, avec `override_reason`. `slot_id` : le créneau du programme de cet audit où il "
    "a été relevé (son site devient celui du constat s’il n’en a pas).",
    body=schemas.NewFinding,
    replies={201: Reply(schemas.Finding, "Constat créé")},
    errors=(404, 409),
)
def finding_create(body: schemas.NewFinding):
    """Codes as the auditor's report writes them; the deadline is the service's rule."""
    milestone = _milestone_or_404(body.event_id)
    data = _finding_input(body, milestone.campaign, None)
    try:
        finding = service.create_finding(db.session, milestone, current_user, data)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return _finding_json(finding), 201


@bp.get("/findings/<int:finding_id>")
@requires(Permission.READ)
@endpoint("Un constat", replies={200: schemas.Finding})
def finding_detail(finding_id: int):
    """Its ``lock_version`` is what a later PATCH sends back."""
    return _finding_json(_finding_or_404(finding_id))


@bp.patch("/findings/<int:finding_id>")
@requires(Permission.EDIT_FINDINGS)
@endpoint(
    "Modifier un constat ou changer son statut",
    description="Un champ absent garde sa valeur. Tout ou rien : un statut refusé "
    "(non-conformité levée sans action vérifiée…) n’enregistre pas les autres champs. "
    "`slot_id` : un créneau du programme de l’étape du constat, ou null. "
    "`lock_version` périmé : 409.",
    body=schemas.FindingPatch,
    replies={200: schemas.Finding},
    errors=(409,),
)
def finding_update(finding_id: int, body: schemas.FindingPatch):
    """Fields and status in one request, all or nothing, as a client expects of one PATCH."""
    finding = _finding_or_404(finding_id)
    sent = body.model_fields_set
    if "event_id" in sent and body.event_id != finding.milestone_id:
        abort(400, _("Un constat ne change pas d’étape : enregistrez-le sur la bonne étape."))
    seen: int | None = body.lock_version
    status = body.status
    edits = _FINDING_FIELDS & sent
    data = _finding_input(body, finding.milestone.campaign, finding) if edits else None
    slot = _slot(body.slot_id) if "slot_id" in sent else None
    with _one_transaction() as session:
        if data is not None:
            service.update_finding(session, finding, data, seen)
            seen = None  # the edit above checked it, and moved the version on
        if "slot_id" in sent and slot is not finding.slot:
            service.set_finding_slot(session, finding, slot, seen)
            seen = None
        if status is not None and status is not finding.status:
            service.set_finding_status(session, finding, status, current_user, seen)
        else:
            service.check_fresh(finding, seen)
    return _finding_json(_finding_or_404(finding_id))


# ------------------------------------------------------------------------------------- actions


def _action_input(
    body: schemas.ActionFields, campaign: Campaign, current: Action | None
) -> service.ActionInput:
    sent = body.model_fields_set

    def given(name: str) -> bool:
        return current is None or name in sent

    return service.ActionInput(
        title=body.title if given("title") else current.title,
        description=body.description if given("description") else current.description,
        owner=_owner(body.owner) if given("owner") else current.owner,
        due_on=body.due_on if given("due_on") else current.due_on,
        site=inputs.site(body.site) if given("site") else current.site,
        findings=_action_findings(body.findings or [])
        if given("findings")
        else list(current.findings),
        criteria=_action_criteria(campaign, body.criteria or [])
        if given("criteria")
        else list(current.criteria),
        closing_evidence=_closing_evidence(body.closing_evidence_id)
        if given("closing_evidence_id")
        else current.closing_evidence,
    )


@bp.get("/actions")
@requires(Permission.READ)
@endpoint(
    "Plan d’actions, par échéance",
    query=schemas.ActionQuery,
    replies={200: list[schemas.Action]},
    errors=(404,),
)
def action_list(query: schemas.ActionQuery):
    """The plan's filters of the page (mine, late, site, finding, criterion, status)."""
    today = local_today()
    site_id = None
    if query.site:
        site = inputs.site(query.site)
        site_id = site.id if site else None
    statuses = set(query.status or ())
    filters = service.ActionFilters(
        mine_user_id=current_user.id if query.mine else None,
        late_on=today if query.late else None,
        site_id=site_id,
        finding_id=query.finding_id,
        criterion_id=query.criterion_id,
    )
    items = []
    for campaign in _campaigns_asked(query.campaign_id):
        items += service.actions_of(db.session, campaign, filters)
    if statuses:
        items = [a for a in items if a.status in statuses]
    return [serializers.action(a, today) for a in items]


@bp.post("/actions")
@requires(Permission.EDIT_FINDINGS)
@endpoint(
    "Planifier une action corrective",
    body=schemas.NewAction,
    replies={201: Reply(schemas.Action, "Action créée (à faire)")},
    errors=(404, 409),
)
def action_create(body: schemas.NewAction):
    """Owner by e-mail and criteria by code: what a plan written elsewhere holds."""
    campaign = get_campaign_or_404(body.campaign_id)
    data = _action_input(body, campaign, None)
    try:
        action = service.create_action(db.session, campaign, current_user, data)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return _action_json(action), 201


@bp.get("/actions/<int:action_id>")
@requires(Permission.READ)
@endpoint("Une action", replies={200: schemas.Action})
def action_detail(action_id: int):
    """Its ``lock_version`` is what a later PATCH sends back."""
    return _action_json(_action_or_404(action_id))


@bp.patch("/actions/<int:action_id>")
@requires(Permission.UPDATE_ACTIONS)
@endpoint(
    "Faire avancer ou modifier une action",
    description="`status` (et `note` pour la vérification d’efficacité) : direction, qualité, "
    "ou le responsable de site pour ses actions et celles de son site. Les autres champs : "
    "direction et qualité. Vérifier l’efficacité d’une action qui répond à une "
    "non-conformité demande sa preuve de clôture. Tout ou rien ; `lock_version` périmé : 409.",
    body=schemas.ActionPatch,
    replies={200: schemas.Action},
    errors=(409,),
)
def action_update(action_id: int, body: schemas.ActionPatch):
    """A site manager moves their actions along; editing them stays the quality lead's."""
    action = _action_or_404(action_id)
    if not service.can_update_action(current_user, action):
        abort(403, _("Vous ne pouvez faire avancer que vos actions ou celles de votre site."))
    edits = body.model_fields_set - _STATUS_KEYS
    if edits and not has_permission(current_user, Permission.EDIT_FINDINGS):
        abort(
            403,
            _(
                "Vous pouvez faire avancer cette action (« status », « note ») mais pas "
                "la modifier : %(fields)s.",
                fields=", ".join(sorted(edits)),
            ),
        )
    seen: int | None = body.lock_version
    status = body.status
    note = body.note
    data = _action_input(body, action.campaign, action) if edits else None
    with _one_transaction() as session:
        if data is not None:
            service.update_action(session, action, data, seen)
            seen = None  # checked; the flush has moved the version on
        if status is not None and status is not action.status:
            service.set_action_status(
                session,
                action,
                status,
                current_user,
                local_today(),
                note=note,
                seen_lock_version=seen,
            )
        else:
            service.check_fresh(action, seen)
    return _action_json(_action_or_404(action_id))
