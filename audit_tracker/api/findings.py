"""API v1 for findings and corrective actions: the calls of ``findings.service``, in JSON.

The routes only translate: JSON in (codes, e-mails, ids of the user's school) to the service's
inputs, the service's refusals out as ``{"error": "..."}`` (400, 409 for a stale edit). A PATCH
that both edits fields and moves the status makes two service calls that succeed or fail
together (see ``_one_transaction``): a refused status leaves the fields unchanged too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import NoReturn

from flask import abort, jsonify, request
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
    ActionStatus,
    Campaign,
    Criterion,
    Evidence,
    Finding,
    FindingStatus,
    Framework,
    Milestone,
    User,
)
from ..web.lookups import get_campaign_or_404
from . import bp, inputs, serializers

_MISSING = object()

# What a PATCH of an action may carry besides its fields: moving it along is open to a site
# manager on their own actions (UPDATE_ACTIONS); every other key edits it (EDIT_FINDINGS).
_STATUS_KEYS = {"status", "note", "lock_version"}
_FINDING_FIELDS = {
    "event_id",
    "framework",
    "type",
    "title",
    "description",
    "root_cause",
    "criteria",
    "site",
    "due_on",
    "override_reason",
}
_ACTION_FIELDS = {
    "title",
    "description",
    "owner",
    "site",
    "due_on",
    "findings",
    "criteria",
    "closing_evidence_id",
}


# ------------------------------------------------------------------------------------ helpers


def _refuse(error: DomainError) -> NoReturn:
    db.session.rollback()
    abort(409 if isinstance(error, Conflict) else 400, str(error))


@contextmanager
def _one_transaction() -> Iterator[Session]:
    """Service calls (each only flushes) committed once at the end; any refusal undoes them
    all."""
    try:
        yield db.session
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    except BaseException:
        db.session.rollback()
        raise


def _status(raw, enum_type):
    try:
        return enum_type(raw)
    except ValueError:
        abort(
            400,
            _(
                "Statut inconnu : %(status)s ; valeurs possibles : %(values)s.",
                status=str(raw)[:40],
                values=", ".join(s.value for s in enum_type),
            ),
        )


def _campaigns_asked() -> list[Campaign]:
    """``?campaign_id=`` if given (404 for another school's), else all the school's campaigns."""
    raw = request.args.get("campaign_id")
    if raw:
        return [get_campaign_or_404(inputs.integer(raw, "campaign_id"))]
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


def _framework_of(campaign: Campaign, code) -> Framework:
    if not isinstance(code, str) or not code.strip():
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


def _criterion_by_id(raw) -> Criterion:
    criterion = db.session.get(Criterion, inputs.integer(raw, "criteria"))
    if criterion is None:
        abort(400, _("Critère inconnu : %(id)s.", id=raw))
    return criterion


def _criterion_by_code(framework: Framework, code) -> Criterion:
    code = str(code).strip()
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


def _finding_criteria(framework: Framework, items: list) -> list[Criterion]:
    """Codes of the finding's framework, or criterion ids, or objects with "id" or "code"."""
    criteria = []
    for item in items:
        if isinstance(item, dict):
            item = item.get("id") if item.get("id") is not None else item.get("code")
        if isinstance(item, str):
            criteria.append(_criterion_by_code(framework, item))
        else:
            criteria.append(_criterion_by_id(item))
    return criteria


def _action_criteria(campaign: Campaign, items: list) -> list[Criterion]:
    """Criterion ids, or {"framework": code, "code": code}, or {"id": id}; all of the
    campaign's frameworks (the service does not check that one: see the report)."""
    criteria = []
    for item in items:
        if isinstance(item, dict) and item.get("id") is not None:
            criterion = _criterion_by_id(item["id"])
        elif isinstance(item, dict):
            criterion = _criterion_by_code(
                _framework_of(campaign, item.get("framework")), item.get("code", "")
            )
        elif isinstance(item, str):
            abort(
                400,
                _(
                    'Un critère d’action s’écrit {"framework": code, "code": code} ou '
                    "par son identifiant : « %(code)s » est ambigu.",
                    code=item[:40],
                ),
            )
        else:
            criterion = _criterion_by_id(item)
        if criterion.framework_id not in {f.id for f in campaign.frameworks}:
            abort(400, _("Choisissez un critère des référentiels de la campagne."))
        criteria.append(criterion)
    return criteria


def _action_findings(items: list) -> list[Finding]:
    findings = []
    for raw in items:
        finding_id = inputs.integer(raw, "findings")
        finding = db.session.scalar(
            select(Finding)
            .join(Milestone, Finding.milestone_id == Milestone.id)
            .join(Campaign, Milestone.campaign_id == Campaign.id)
            .where(Finding.id == finding_id, Campaign.school_id == current_user.school_id)
        )
        if finding is None:
            abort(400, _("Constat introuvable : %(id)s.", id=finding_id))
        findings.append(finding)
    return findings


def _owner(raw) -> User | None:
    """The account with this e-mail; None when there is none, which the service refuses with
    the same words as another school's account (no way to probe who has an account)."""
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        abort(400, _("« %(field)s » doit être un texte.", field="owner"))
    return db.session.scalar(select(User).where(func.lower(User.email) == raw.strip().lower()))


def _closing_evidence(raw) -> Evidence | None:
    evidence_id = inputs.optional_integer(raw, "closing_evidence_id")
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


def _finding_json(finding: Finding) -> dict:
    return serializers.finding(finding)


def _action_json(action: Action) -> dict:
    return serializers.action(action, local_today())


# ------------------------------------------------------------------------------------ findings


def _finding_input(body: dict, campaign: Campaign, current: Finding | None) -> service.FindingInput:
    """Build the service's input; a key absent from a PATCH keeps the finding's value."""

    def given(name: str) -> bool:
        return current is None or name in body

    framework = (
        _framework_of(campaign, body.get("framework")) if given("framework") else current.framework
    )
    if given("type"):
        type_code = body.get("type")
        if not isinstance(type_code, str) or not type_code.strip():
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
        criteria = _finding_criteria(framework, inputs.listing(body, "criteria"))
    else:
        criteria = list(current.criteria)
    data = service.FindingInput(
        framework=framework,
        type_code=type_code,
        title=inputs.text(body, "title") if given("title") else current.title,
        description=inputs.text(body, "description")
        if given("description")
        else current.description,
        root_cause=inputs.text(body, "root_cause") if given("root_cause") else current.root_cause,
        criteria=criteria,
        site=inputs.site(body.get("site")) if given("site") else current.site,
    )
    due_on = inputs.day(body.get("due_on"), "due_on") if "due_on" in body else _MISSING
    reason = inputs.text(body, "override_reason") if "override_reason" in body else _MISSING
    if current is None:
        if due_on is not _MISSING and due_on is not None:
            data.due_override = due_on
            data.override_reason = "" if reason is _MISSING else reason
        return data
    # A PATCH: "due_on": null goes back to the computed deadline; an override stays one; the
    # computed date sent back unchanged without a reason (a GET's JSON) stays computed.
    overridden = bool(current.due_override_reason)
    new_due = current.due_on if due_on is _MISSING else due_on
    new_reason = current.due_override_reason if reason is _MISSING else reason
    if new_due is not None and (overridden or new_due != current.due_on or new_reason.strip()):
        data.due_override, data.override_reason = new_due, new_reason
    return data


def _event_or_404(raw) -> Milestone:
    event = db.session.scalar(
        select(Milestone)
        .join(Campaign, Milestone.campaign_id == Campaign.id)
        .where(
            Milestone.id == inputs.integer(raw, "event_id"),
            Campaign.school_id == current_user.school_id,
        )
    )
    if event is None:
        abort(404, _("Étape de campagne introuvable."))
    return event


@bp.get("/findings")
@requires(Permission.READ)
def finding_list():
    args = request.args
    event_id = inputs.integer(args["event_id"], "event_id") if args.get("event_id") else None
    open_only = inputs.boolean(args.get("open"), "open")
    items = []
    for campaign in _campaigns_asked():
        items += service.findings_of(db.session, campaign, open_only=open_only, event_id=event_id)
    return jsonify([_finding_json(f) for f in items])


@bp.post("/findings")
@requires(Permission.EDIT_FINDINGS)
def finding_create():
    body = inputs.json_body()
    if body.get("event_id") is None:
        abort(400, _("Indiquez l’étape de la campagne qui a relevé le constat (« event_id »)."))
    event = _event_or_404(body["event_id"])
    data = _finding_input(body, event.campaign, None)
    try:
        finding = service.create_finding(db.session, event, current_user, data)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return jsonify(_finding_json(finding)), 201


@bp.get("/findings/<int:finding_id>")
@requires(Permission.READ)
def finding_detail(finding_id: int):
    return jsonify(_finding_json(_finding_or_404(finding_id)))


@bp.patch("/findings/<int:finding_id>")
@requires(Permission.EDIT_FINDINGS)
def finding_update(finding_id: int):
    finding = _finding_or_404(finding_id)
    body = inputs.json_body()
    if "event_id" in body and inputs.integer(body["event_id"], "event_id") != finding.milestone_id:
        abort(400, _("Un constat ne change pas d’étape : enregistrez-le sur la bonne étape."))
    unknown = set(body) - _FINDING_FIELDS - {"status", "lock_version"}
    if unknown:
        abort(
            400,
            _(
                "Champs inconnus : %(fields)s ; champs acceptés : %(accepted)s.",
                fields=", ".join(sorted(unknown))[:200],
                accepted=", ".join(sorted(_FINDING_FIELDS | {"status", "lock_version"})),
            ),
        )
    seen = inputs.optional_integer(body.get("lock_version"), "lock_version")
    status = _status(body["status"], FindingStatus) if body.get("status") is not None else None
    edits = (_FINDING_FIELDS - {"event_id"}) & set(body)
    data = _finding_input(body, finding.milestone.campaign, finding) if edits else None
    with _one_transaction() as session:
        if data is not None:
            service.update_finding(session, finding, data, seen)
            seen = None  # the edit above checked it, and moved the version on
        if status is not None and status is not finding.status:
            service.set_finding_status(session, finding, status, current_user, seen)
        else:
            service.check_fresh(finding, seen)
    return jsonify(_finding_json(_finding_or_404(finding_id)))


# ------------------------------------------------------------------------------------- actions


def _action_input(body: dict, campaign: Campaign, current: Action | None) -> service.ActionInput:
    def given(name: str) -> bool:
        return current is None or name in body

    return service.ActionInput(
        title=inputs.text(body, "title") if given("title") else current.title,
        description=inputs.text(body, "description")
        if given("description")
        else current.description,
        owner=_owner(body.get("owner")) if given("owner") else current.owner,
        due_on=inputs.day(body.get("due_on"), "due_on") if given("due_on") else current.due_on,
        site=inputs.site(body.get("site")) if given("site") else current.site,
        findings=_action_findings(inputs.listing(body, "findings"))
        if given("findings")
        else list(current.findings),
        criteria=_action_criteria(campaign, inputs.listing(body, "criteria"))
        if given("criteria")
        else list(current.criteria),
        closing_evidence=_closing_evidence(body.get("closing_evidence_id"))
        if given("closing_evidence_id")
        else current.closing_evidence,
    )


@bp.get("/actions")
@requires(Permission.READ)
def action_list():
    args = request.args
    today = local_today()
    site_id = None
    if args.get("site"):
        site = inputs.site(args["site"])
        site_id = site.id if site else None
    statuses = None
    if args.get("status"):
        statuses = {_status(s.strip(), ActionStatus) for s in args["status"].split(",")}
    filters = service.ActionFilters(
        mine_user_id=current_user.id if inputs.boolean(args.get("mine"), "mine") else None,
        late_on=today if inputs.boolean(args.get("late"), "late") else None,
        site_id=site_id,
        finding_id=inputs.integer(args["finding_id"], "finding_id")
        if args.get("finding_id")
        else None,
        criterion_id=inputs.integer(args["criterion_id"], "criterion_id")
        if args.get("criterion_id")
        else None,
    )
    items = []
    for campaign in _campaigns_asked():
        items += service.actions_of(db.session, campaign, filters)
    if statuses:
        items = [a for a in items if a.status in statuses]
    return jsonify([serializers.action(a, today) for a in items])


@bp.post("/actions")
@requires(Permission.EDIT_FINDINGS)
def action_create():
    body = inputs.json_body()
    if body.get("campaign_id") is None:
        abort(400, _("Indiquez la campagne de l’action (« campaign_id »)."))
    campaign = get_campaign_or_404(inputs.integer(body["campaign_id"], "campaign_id"))
    data = _action_input(body, campaign, None)
    try:
        action = service.create_action(db.session, campaign, current_user, data)
        commit_or_conflict(db.session)
    except DomainError as error:
        _refuse(error)
    return jsonify(_action_json(action)), 201


@bp.get("/actions/<int:action_id>")
@requires(Permission.READ)
def action_detail(action_id: int):
    return jsonify(_action_json(_action_or_404(action_id)))


@bp.patch("/actions/<int:action_id>")
@requires(Permission.UPDATE_ACTIONS)
def action_update(action_id: int):
    action = _action_or_404(action_id)
    if not service.can_update_action(current_user, action):
        abort(403, _("Vous ne pouvez faire avancer que vos actions ou celles de votre site."))
    body = inputs.json_body()
    unknown = set(body) - _ACTION_FIELDS - _STATUS_KEYS
    if unknown:
        abort(
            400,
            _(
                "Champs inconnus : %(fields)s ; champs acceptés : %(accepted)s.",
                fields=", ".join(sorted(unknown))[:200],
                accepted=", ".join(sorted(_ACTION_FIELDS | _STATUS_KEYS)),
            ),
        )
    edits = set(body) - _STATUS_KEYS
    if edits and not has_permission(current_user, Permission.EDIT_FINDINGS):
        abort(
            403,
            _(
                "Vous pouvez faire avancer cette action (« status », « note ») mais pas "
                "la modifier : %(fields)s.",
                fields=", ".join(sorted(edits)),
            ),
        )
    seen = inputs.optional_integer(body.get("lock_version"), "lock_version")
    status = _status(body["status"], ActionStatus) if body.get("status") is not None else None
    note = inputs.text(body, "note")
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
    return jsonify(_action_json(_action_or_404(action_id)))
