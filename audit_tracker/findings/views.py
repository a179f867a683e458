"""Findings pages: a milestone's findings with fast entry, finding detail, action plan, meetings.

Thin views over ``findings.service``: they turn form fields into records (ids into rows, criterion
codes into criteria) and show the service's French refusals without losing what was typed.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..evidence.service import visible_to
from ..extensions import db
from ..models import (
    Action,
    ActionStatus,
    AuditSlot,
    Campaign,
    CommissionDecision,
    Criterion,
    Evidence,
    Finding,
    FindingKind,
    FindingStatus,
    Framework,
    Meeting,
    MeetingKind,
    Milestone,
    MilestoneKind,
    Role,
    Site,
    User,
)
from ..web.history import render_history
from ..web.lookups import get_campaign_or_404, school_sites
from . import service
from .forms import (
    ActionFilterForm,
    ActionForm,
    FastFindingForm,
    FindingForm,
    MeetingForm,
    MinutesForm,
    ReportForm,
    StatusForm,
    split_codes,
)
from .programme import slots_of

bp = Blueprint("findings", __name__)

#: Badge colour of a finding type, by its kind on the framework's scale.
KIND_COLOURS = {
    FindingKind.STRENGTH: "success",
    FindingKind.NEUTRAL: "secondary",
    FindingKind.PROGRESS: "info",
    FindingKind.WATCH: "warning",
    FindingKind.NONCONFORMITY: "danger",
}


# ------------------------------------------------------------------------------------ loading


def get_findings_milestone_or_404(campaign: Campaign, milestone_id: int) -> Milestone:
    """A milestone of the campaign that leaves findings (visit, audit, commission); 404 else."""
    milestone = next((m for m in campaign.milestones if m.id == milestone_id), None)
    if milestone is None or not milestone.kind.leaves_findings:
        abort(404)
    return milestone


def get_finding_or_404(campaign: Campaign, finding_id: int) -> Finding:
    finding = db.session.scalar(
        select(Finding)
        .join(Milestone)
        .where(Finding.id == finding_id, Milestone.campaign_id == campaign.id)
        .options(
            selectinload(Finding.finding_type),
            selectinload(Finding.criteria),
            selectinload(Finding.site),
            selectinload(Finding.actions).selectinload(Action.owner),
            selectinload(Finding.actions).selectinload(Action.site),
        )
    )
    if finding is None:
        abort(404)
    return finding


def get_action_or_404(campaign: Campaign, action_id: int) -> Action:
    action = db.session.scalar(
        select(Action)
        .where(Action.id == action_id, Action.campaign_id == campaign.id)
        .options(
            selectinload(Action.owner),
            selectinload(Action.site),
            selectinload(Action.findings).selectinload(Finding.finding_type),
            selectinload(Action.findings).selectinload(Finding.milestone),
            selectinload(Action.criteria),
            selectinload(Action.closing_evidence),
            selectinload(Action.verified_by),
        )
    )
    if action is None:
        abort(404)
    return action


def _site_choices(sites: list[Site], first: str | None = None) -> list[SelectChoice]:
    return [SelectChoice(0, first or _("Toute l’école"))] + [
        SelectChoice(s.id, s.name) for s in sites
    ]


def _proof_choices() -> list[SelectChoice]:
    """The proofs of the library the user may see, by title (id and title only: a light query)."""
    rows = db.session.execute(
        select(Evidence.id, Evidence.title).where(visible_to(current_user))
        .order_by(Evidence.title, Evidence.id)
    )
    return [SelectChoice(0, _("— aucune —"))] + [SelectChoice(i, t) for i, t in rows]


def _owner_choices() -> list[SelectChoice]:
    """The school's active accounts that may carry an action (auditors read only)."""
    users = db.session.scalars(
        select(User)
        .where(User.school_id == current_user.school_id, User.role != Role.AUDITOR,
               User.active.is_(True))
        .order_by(User.full_name)
    )
    return [SelectChoice(0, _("— choisir —"))] + [
        SelectChoice(u.id, f"{u.full_name} ({u.role.label})") for u in users
    ]


def _site_or_none(site_id: int | None) -> Site | None:
    """The site by id, whoever's school: the service refuses another school's by name."""
    return db.session.get(Site, site_id) if site_id else None


def resolve_criteria(text: str | None, frameworks: list[Framework]) -> list[Criterion]:
    """Criterion codes typed as « 4, 5 » or « A1 B2 » → criteria of ``frameworks``.

    With several frameworks a code may be prefixed with the framework's code (« qualiopi-v9:4 »)
    when it exists in more than one. Refuses unknown or ambiguous codes, naming them.
    """
    tokens = split_codes(text)
    if not tokens:
        return []
    by_code = {f.code.lower(): f for f in frameworks}
    wanted: list[tuple[str, Framework | None, str]] = []
    for token in tokens:
        prefix, colon, code = token.rpartition(":")
        if colon and prefix.lower() not in by_code:
            raise service.FindingError(_("Référentiel « %(code)s » inconnu dans « %(token)s ».",
                                         code=prefix, token=token))
        wanted.append((token, by_code[prefix.lower()] if colon else None, code))
    rows = db.session.scalars(
        select(Criterion).where(
            Criterion.framework_id.in_([f.id for f in frameworks]),
            func.lower(Criterion.code).in_(sorted({code.lower() for _t, _f, code in wanted})),
        )
    )
    found: dict[str, list[Criterion]] = {}
    for criterion in rows:
        found.setdefault(criterion.code.lower(), []).append(criterion)
    criteria: list[Criterion] = []
    unknown: list[str] = []
    for token, framework, code in wanted:
        matches = [c for c in found.get(code.lower(), [])
                   if framework is None or c.framework_id == framework.id]
        if not matches:
            unknown.append(token)
        elif len(matches) > 1:
            example = f"{matches[0].framework.code}:{code}"
            raise service.FindingError(_("Le code « %(code)s » existe dans plusieurs référentiels "
                                         "de la campagne : précisez-le, par exemple "
                                         "« %(example)s ».", code=code, example=example))
        elif matches[0] not in criteria:
            criteria.append(matches[0])
    if unknown:
        where = frameworks[0].name if len(frameworks) == 1 else _("les référentiels de la "
                                                                    "campagne")
        raise service.FindingError(ngettext(
            "Code de critère inconnu dans %(where)s : %(codes)s. Rien n’a été enregistré.",
            "Codes de critère inconnus dans %(where)s : %(codes)s. Rien n’a été enregistré.",
            len(unknown), where=where, codes=", ".join(f"« {t} »" for t in unknown),
        ))
    return criteria


def codes_text(criteria: list[Criterion], frameworks: list[Framework]) -> str:
    """Criteria back to what a user types; prefixed only when the campaign has several
    frameworks and the code exists in another one too (rare: « 4 » vs « A1 »)."""
    return " ".join(
        f"{c.framework.code}:{c.code}" if len(frameworks) > 1 and _code_in_other(c, frameworks)
        else c.code
        for c in criteria
    )


def _code_in_other(criterion: Criterion, frameworks: list[Framework]) -> bool:
    return any(f.id != criterion.framework_id and any(c.code == criterion.code
                                                          for c in f.criteria)
               for f in frameworks)


def _seen(lock_version: str | None) -> int | None:
    try:
        return int(lock_version) if lock_version else None
    except ValueError:
        return None


# ------------------------------------------------------------------ milestones leaving findings


def _fast_form_choices(form: FastFindingForm, campaign: Campaign, sites: list[Site]) -> None:
    form.framework_id.choices = [SelectChoice(f.id, f.label) for f in campaign.frameworks]
    form.type_code.choices = [
        SelectChoice(t.code, t.label, optgroup=f.label)
        for f in campaign.frameworks for t in f.finding_types
    ]
    form.site_id.choices = _site_choices(sites)


def _slot_choices(form: FastFindingForm, milestone: Milestone) -> list[AuditSlot]:
    """The programme's slots, for a report typed against the audit day; empty without one."""
    slots = slots_of(db.session, milestone)
    form.slot_id.choices = [SelectChoice(0, _("— aucun —"))] + [
        SelectChoice(s.id, f"{s.day:%d/%m} {s.starts_at:%H:%M} · {s.topic}"[:120])
        for s in slots]
    return slots


def _render_milestone(campaign: Campaign, milestone: Milestone, form: FastFindingForm,
                      sites: list[Site], status: int = 200):
    findings = service.findings_of(db.session, campaign, milestone_id=milestone.id)
    can_edit = has_permission(current_user, Permission.EDIT_FINDINGS)
    report_form = None
    if can_edit:
        report_form = ReportForm(formdata=None)
        report_form.report_evidence_id.choices = _proof_choices()
        report_form.report_evidence_id.data = milestone.report_evidence_id or 0
        report_form.decision.choices = [SelectChoice("", _("— pas encore rendue —"))] + [
            SelectChoice(d.value, d.label) for d in CommissionDecision
        ]
        report_form.decision.data = milestone.decision.value if milestone.decision else ""
        report_form.report_notified_on.data = milestone.report_notified_on
    selected_framework = next(
        (f for f in campaign.frameworks if f.id == form.framework_id.data),
        campaign.frameworks[0] if campaign.frameworks else None,
    )
    slots = _slot_choices(form, milestone)
    return render_template(
        "findings/event.html",
        slots=slots,
        campaign=campaign,
        event=milestone,  # the template keeps the endpoint's word (docs/glossary.md)
        findings=findings,
        deadlines={f.id: service.deadline_for(f) for f in findings},
        escalations={f.id: service.escalation_of(f, local_today()) for f in findings},
        minors_rule=service.minors_rule_hits(findings),
        next_number=max((f.number for f in findings), default=0) + 1,
        form=form,
        report_form=report_form,
        selected_framework=selected_framework,
        report=milestone.report_evidence,
        can_edit=can_edit,
        kind_colours=KIND_COLOURS,
    ), status


@bp.get("/audits/<int:event_id>")
@requires(Permission.READ)
def event(campaign_id: int, event_id: int):
    """For typing a report's findings in a row: the form keeps the last framework, type, site."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_findings_milestone_or_404(campaign, event_id)
    sites = school_sites()
    form = FastFindingForm(formdata=None)
    _fast_form_choices(form, campaign, sites)
    # After a save the page comes back with the framework, type and site of the last finding.
    framework_id = request.args.get("framework", type=int)
    if framework_id not in {f.id for f in campaign.frameworks}:
        framework_id = campaign.frameworks[0].id if campaign.frameworks else 0
    form.framework_id.data = framework_id
    default_type = "preconisation" if milestone.kind is MilestoneKind.NATIONAL_COMMISSION \
        else ""
    form.type_code.data = request.args.get("type", default_type)
    form.site_id.data = request.args.get("site", 0, type=int)
    form.slot_id.data = request.args.get("slot", 0, type=int)
    return _render_milestone(campaign, milestone, form, sites)


@bp.post("/audits/<int:event_id>/constats")
@requires(Permission.EDIT_FINDINGS)
def add_finding(campaign_id: int, event_id: int):
    """Numbered after the milestone's last finding, its due dates computed from its type's rule."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_findings_milestone_or_404(campaign, event_id)
    sites = school_sites()
    form = FastFindingForm()
    _fast_form_choices(form, campaign, sites)
    if form.validate_on_submit():
        framework = next((f for f in campaign.frameworks if f.id == form.framework_id.data),
                         None)
        try:
            if framework is None:
                raise service.FindingError(_("Choisissez un référentiel suivi par la campagne."))
            data = service.FindingInput(
                framework=framework,
                type_code=form.type_code.data or "",
                title=form.title.data or "",
                description=form.description.data or "",
                criteria=resolve_criteria(form.criteria.data, [framework]),
                site=_site_or_none(form.site_id.data),
                slot=next((s for s in slots_of(db.session, milestone)
                           if s.id == form.slot_id.data), None),
            )
            finding = service.create_finding(db.session, milestone, current_user, data)
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            flash(_("Constat n°%(number)s enregistré : %(title)s", number=finding.number,
                    title=finding.title), "success")
            return redirect(url_for(
                "findings.event", campaign_id=campaign.id, event_id=milestone.id,
                framework=framework.id, type=data.type_code, site=form.site_id.data or None,
                slot=form.slot_id.data or None, _anchor="saisie",
            ))
    return _render_milestone(campaign, milestone, form, sites)


@bp.post("/audits/<int:event_id>/rapport")
@requires(Permission.EDIT_FINDINGS)
def event_report(campaign_id: int, event_id: int):
    """Attach the report (a proof of the library) and, for the commission, its decision."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_findings_milestone_or_404(campaign, event_id)
    form = ReportForm()
    back = redirect(url_for("findings.event", campaign_id=campaign.id, event_id=milestone.id))
    if "report_evidence_id" in request.form:
        evidence_id = form.report_evidence_id.data
        if evidence_id and _visible_evidence(evidence_id) is None:
            flash(_("Cette preuve n’existe pas dans votre bibliothèque."), "danger")
            return back
        milestone.report_evidence_id = evidence_id or None
    if "decision" in request.form:
        value = form.decision.data or ""
        if value and milestone.kind is not MilestoneKind.NATIONAL_COMMISSION:
            flash(_("Seule la commission nationale rend une décision."), "danger")
            return back
        if value and value not in {d.value for d in CommissionDecision}:
            flash(_("Décision inconnue."), "danger")
            return back
        milestone.decision = CommissionDecision(value) if value else None
    if "report_notified_on" in request.form:
        notified = form.report_notified_on.data
        if form.report_notified_on.raw_data and form.report_notified_on.raw_data[0] \
                and notified is None:
            flash(_("Indiquez une date valide (JJ/MM/AAAA)."), "danger")
            return back
        if notified is not None and notified < milestone.starts_on:
            flash(_("Le rapport ne peut pas être notifié avant le début de l’audit (%(day)s).",
                    day=milestone.starts_on.strftime("%d/%m/%Y")), "danger")
            return back
        milestone.report_notified_on = notified
        service.refresh_deadlines(db.session, campaign)
    db.session.commit()
    flash(_("Rapport enregistré."), "success")
    return back


def _visible_evidence(evidence_id: int) -> Evidence | None:
    return db.session.scalar(
        select(Evidence).where(Evidence.id == evidence_id, visible_to(current_user))
    )


# ------------------------------------------------------------------------------------ findings


def _finding_form_choices(form: FindingForm, finding: Finding, sites: list[Site]) -> None:
    form.type_code.choices = [SelectChoice(t.code, t.label)
                              for t in finding.framework.finding_types]
    form.site_id.choices = _site_choices(sites)


def _render_finding(campaign: Campaign, finding: Finding, form: FindingForm,
                    status: int = 200, conflict: bool = False):
    return render_template(
        "findings/finding.html",
        campaign=campaign,
        finding=finding,
        deadline=service.deadline_for(finding),
        change=service.escalation_of(finding, local_today()),
        form=form,
        status_form=StatusForm(formdata=None),
        statuses=list(FindingStatus),
        can_edit=has_permission(current_user, Permission.EDIT_FINDINGS),
        kind_colours=KIND_COLOURS,
        conflict=conflict,
        today=local_today(),
    ), status


@bp.get("/constats/<int:finding_id>")
@requires(Permission.READ)
def finding(campaign_id: int, finding_id: int):
    """The finding with its deadline as its rule gives it, beside any date overridden and why."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_finding_or_404(campaign, finding_id)
    form = FindingForm(formdata=None, obj=record)
    _finding_form_choices(form, record, school_sites())
    form.type_code.data = record.finding_type.code
    form.criteria.data = " ".join(c.code for c in record.criteria)
    form.site_id.data = record.site_id or 0
    form.lock_version.data = record.lock_version
    if record.due_override_reason:
        form.due_override.data = record.due_on
        form.override_reason.data = record.due_override_reason
    else:
        form.due_override.data = None
        form.override_reason.data = ""
    return _render_finding(campaign, record, form)


@bp.get("/constats/<int:finding_id>/historique")
@requires(Permission.VIEW_HISTORY)
def finding_history(campaign_id: int, finding_id: int):
    """Who changed this finding, when and from where, from the journal."""
    record = get_finding_or_404(get_campaign_or_404(campaign_id), finding_id)
    return render_history("finding", record.id, title=record.title,
                          back_url=url_for("findings.finding", campaign_id=campaign_id,
                                           finding_id=record.id))


@bp.post("/constats/<int:finding_id>")
@requires(Permission.EDIT_FINDINGS)
def edit_finding(campaign_id: int, finding_id: int):
    """A stale form is a 409 that keeps what was typed beside what changed meanwhile."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_finding_or_404(campaign, finding_id)
    form = FindingForm()
    _finding_form_choices(form, record, school_sites())
    if form.validate_on_submit():
        try:
            data = service.FindingInput(
                framework=record.framework,
                type_code=form.type_code.data or "",
                title=form.title.data or "",
                description=form.description.data or "",
                root_cause=form.root_cause.data or "",
                response=form.response.data or "",
                criteria=resolve_criteria(form.criteria.data, [record.framework]),
                site=_site_or_none(form.site_id.data),
                due_override=form.due_override.data,
                override_reason=form.override_reason.data or "",
            )
            service.update_finding(db.session, record, data, _seen(form.lock_version.data))
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
            if isinstance(error, Conflict):
                db.session.rollback()
                current = get_finding_or_404(campaign, finding_id)
                return _render_finding(campaign, current, form, status=409, conflict=True)
        else:
            flash(_("Constat enregistré."), "success")
            return redirect(url_for("findings.finding", campaign_id=campaign.id,
                                    finding_id=record.id))
    return _render_finding(campaign, record, form)


@bp.post("/constats/<int:finding_id>/statut")
@requires(Permission.EDIT_FINDINGS)
def finding_status(campaign_id: int, finding_id: int):
    """A non-conformity is lifted only once every action answering it is verified effective."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_finding_or_404(campaign, finding_id)
    form = StatusForm()
    try:
        status = FindingStatus(form.status.data or "")
    except ValueError:
        flash(_("Choisissez un statut."), "danger")
    else:
        try:
            service.set_finding_status(db.session, record, status, current_user)
            commit_or_conflict(db.session)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            flash(_("Constat « %(status)s ».", status=status.label), "success")
    return redirect(url_for("findings.finding", campaign_id=campaign.id, finding_id=finding_id))


# ------------------------------------------------------------------------------------- actions


def _criterion_choices(campaign: Campaign) -> list[SelectChoice]:
    criteria = db.session.scalars(
        select(Criterion)
        .where(Criterion.framework_id.in_([f.id for f in campaign.frameworks]))
        .order_by(Criterion.framework_id, Criterion.position)
    )
    labels = {f.id: f.label for f in campaign.frameworks}
    return [SelectChoice(0, _("Tous"))] + [
        SelectChoice(c.id, f"{c.code} · {c.title[:90]}", optgroup=labels[c.framework_id])
        for c in criteria
    ]


def _finding_choices(findings: list[Finding]) -> list[SelectChoice]:
    return [SelectChoice(f.id, f"{f.reference} · {f.title[:90]}") for f in findings]


@bp.get("/actions")
@requires(Permission.READ)
def actions(campaign_id: int):
    """The action plan, filtered (mine, late, site, finding, criterion) for the follow-up."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    form = ActionFilterForm(request.args)
    sites = school_sites()
    form.site.choices = _site_choices(sites, first=_("Tous"))
    form.finding.choices = [SelectChoice(0, _("Tous"))] + _finding_choices(
        service.findings_of(db.session, campaign))
    form.criterion.choices = _criterion_choices(campaign)
    filters = service.ActionFilters(
        mine_user_id=current_user.id if form.mine.data else None,
        late_on=today if form.late.data else None,
        site_id=form.site.data or None,
        finding_id=form.finding.data or None,
        criterion_id=form.criterion.data or None,
    )
    items = service.actions_of(db.session, campaign, filters)
    return render_template(
        "findings/actions.html",
        campaign=campaign,
        form=form,
        items=items,
        today=today,
        updatable={a.id for a in items if service.can_update_action(current_user, a)},
        can_verify=has_permission(current_user, Permission.REVIEW_EVIDENCE),
        can_plan=has_permission(current_user, Permission.EDIT_FINDINGS),
        back_url=request.full_path.rstrip("?"),
    )


def _action_form_choices(form: ActionForm, campaign: Campaign) -> None:
    form.owner_id.choices = _owner_choices()
    form.site_id.choices = _site_choices(school_sites())
    form.finding_ids.choices = _finding_choices(service.findings_of(db.session, campaign))
    form.closing_evidence_id.choices = _proof_choices()


def _action_input(form: ActionForm, campaign: Campaign) -> service.ActionInput:
    ids = {i for i in form.finding_ids.data or [] if i}
    findings = list(db.session.scalars(
        select(Finding).where(Finding.id.in_(ids)).options(selectinload(Finding.milestone))
    )) if ids else []
    if len(findings) != len(ids):
        raise service.FindingError(_("Un des constats choisis n’existe pas."))
    owner = db.session.get(User, form.owner_id.data) if form.owner_id.data else None
    evidence_id = form.closing_evidence_id.data
    return service.ActionInput(
        title=form.title.data or "",
        owner=owner,
        due_on=form.due_on.data,
        description=form.description.data or "",
        site=_site_or_none(form.site_id.data),
        findings=sorted(findings, key=lambda f: (f.milestone.starts_on, f.number)),
        criteria=resolve_criteria(form.criteria.data, campaign.frameworks),
        closing_evidence=db.session.get(Evidence, evidence_id) if evidence_id else None,
    )


def _render_action(campaign: Campaign, action: Action | None, form: ActionForm | None,
                   status: int = 200, conflict: bool = False):
    return render_template(
        "findings/action.html",
        campaign=campaign,
        action=action,
        form=form,
        status_form=StatusForm(formdata=None),
        today=local_today(),
        can_update=action is not None and service.can_update_action(current_user, action),
        can_verify=has_permission(current_user, Permission.REVIEW_EVIDENCE),
        conflict=conflict,
    ), status


@bp.route("/actions/nouvelle", methods=["GET", "POST"])
@requires(Permission.EDIT_FINDINGS)
def new_action(campaign_id: int):
    """From a finding, the action comes prefilled: that finding, its site, due date, criteria."""
    campaign = get_campaign_or_404(campaign_id)
    form = ActionForm()
    _action_form_choices(form, campaign)
    if not form.is_submitted():
        # « Ajouter une action » from a finding: answer it, on its site, by its due date.
        source = db.session.scalar(
            select(Finding).join(Milestone)
            .where(Finding.id == request.args.get("constat", 0, type=int),
                   Milestone.campaign_id == campaign.id)
            .options(selectinload(Finding.criteria))
        )
        form.owner_id.data = current_user.id if current_user.role is not Role.AUDITOR else 0
        form.site_id.data = 0
        if source is not None:
            form.finding_ids.data = [source.id]
            form.site_id.data = source.site_id or 0
            form.due_on.data = source.due_on
            form.criteria.data = codes_text(source.criteria, campaign.frameworks)
    if form.validate_on_submit():
        try:
            action = service.create_action(db.session, campaign, current_user,
                                           _action_input(form, campaign))
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
        else:
            flash(_("Action « %(title)s » ajoutée au plan.", title=action.title), "success")
            return redirect(url_for("findings.action", campaign_id=campaign.id,
                                    action_id=action.id))
    return _render_action(campaign, None, form)


@bp.get("/actions/<int:action_id>")
@requires(Permission.READ)
def action(campaign_id: int, action_id: int):
    """One action with its findings and closing proof; the edit form only for those who plan."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_action_or_404(campaign, action_id)
    form = None
    if has_permission(current_user, Permission.EDIT_FINDINGS):
        form = ActionForm(formdata=None, obj=record)
        _action_form_choices(form, campaign)
        form.site_id.data = record.site_id or 0
        form.finding_ids.data = [f.id for f in record.findings]
        form.criteria.data = codes_text(record.criteria, campaign.frameworks)
        form.closing_evidence_id.data = record.closing_evidence_id or 0
        form.lock_version.data = record.lock_version
    return _render_action(campaign, record, form)


@bp.get("/actions/<int:action_id>/historique")
@requires(Permission.VIEW_HISTORY)
def action_history(campaign_id: int, action_id: int):
    """Who changed this action, when and from where, from the journal."""
    record = get_action_or_404(get_campaign_or_404(campaign_id), action_id)
    return render_history("action", record.id, title=record.title,
                          back_url=url_for("findings.action", campaign_id=campaign_id,
                                           action_id=record.id))


@bp.post("/actions/<int:action_id>")
@requires(Permission.EDIT_FINDINGS)
def edit_action(campaign_id: int, action_id: int):
    """A stale form is a 409 that keeps what was typed beside what changed meanwhile."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_action_or_404(campaign, action_id)
    form = ActionForm()
    _action_form_choices(form, campaign)
    if form.validate_on_submit():
        try:
            service.update_action(db.session, record, _action_input(form, campaign),
                                  _seen(form.lock_version.data))
            commit_or_conflict(db.session)
        except DomainError as error:
            flash(str(error), "danger")
            if isinstance(error, Conflict):
                db.session.rollback()
                # What was typed stays in the form; the version saved meanwhile shows beside it.
                current = get_action_or_404(campaign, action_id)
                return _render_action(campaign, current, form, status=409, conflict=True)
        else:
            flash(_("Action enregistrée."), "success")
            return redirect(url_for("findings.action", campaign_id=campaign.id,
                                    action_id=record.id))
    return _render_action(campaign, record, form)


@bp.post("/actions/<int:action_id>/statut")
@requires(Permission.UPDATE_ACTIONS)
def action_status(campaign_id: int, action_id: int):
    """A site manager moves their own actions along; verifying effect stays with reviewers."""
    campaign = get_campaign_or_404(campaign_id)
    record = get_action_or_404(campaign, action_id)
    if not service.can_update_action(current_user, record):
        abort(403, _("Vous ne pouvez faire avancer que vos actions ou celles de votre site."))
    form = StatusForm()
    plan = url_for("findings.actions", campaign_id=campaign.id)
    target = form.next.data or ""
    back = target if target.startswith(plan) and "\\" not in target else url_for(
        "findings.action", campaign_id=campaign.id, action_id=record.id)
    try:
        status = ActionStatus(form.status.data or "")
    except ValueError:
        flash(_("Choisissez un statut."), "danger")
        return redirect(back)
    try:
        service.set_action_status(db.session, record, status, current_user, local_today(),
                                  note=form.note.data or "",
                                  seen_lock_version=_seen(form.lock_version.data))
        commit_or_conflict(db.session)
    except Conflict as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _render_action(campaign, get_action_or_404(campaign, action_id), None,
                              status=409, conflict=True)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
    else:
        flash(_("« %(title)s » : %(status)s.", title=record.title, status=status.label),
              "success")
    return redirect(back)


# ------------------------------------------------------------------------------------ meetings


def _meeting_form_choices(form: MeetingForm, sites: list[Site]) -> None:
    form.kind.choices = [SelectChoice(k.value, k.label) for k in MeetingKind]
    form.site_id.choices = _site_choices(sites)


def _render_meetings(campaign: Campaign, form: MeetingForm, sites: list[Site],
                     status: int = 200):
    today = local_today()
    can_edit = has_permission(current_user, Permission.EDIT_FINDINGS)
    minutes_ids = {m.minutes_evidence_id for m in campaign.meetings if m.minutes_evidence_id}
    minutes = {e.id: e for e in db.session.scalars(
        select(Evidence).where(Evidence.id.in_(minutes_ids), visible_to(current_user))
    )} if minutes_ids else {}
    groups: list[tuple[str, list[Meeting]]] = [
        (_("Toute l’école"), [m for m in campaign.meetings if m.site_id is None])
    ] + [(s.name, [m for m in campaign.meetings if m.site_id == s.id]) for s in sites]
    minutes_form = None
    if can_edit:
        minutes_form = MinutesForm(formdata=None)
        minutes_form.evidence_id.choices = _proof_choices()
    return render_template(
        "findings/meetings.html",
        campaign=campaign,
        groups=[(label, meetings) for label, meetings in groups if meetings],
        missing={m.id for m in service.meetings_without_minutes(campaign, today)},
        minutes=minutes,
        form=form,
        minutes_form=minutes_form,
        can_edit=can_edit,
        today=today,
    ), status


@bp.get("/instances")
@requires(Permission.READ)
def meetings(campaign_id: int):
    """Governance meetings by site; one held without minutes is flagged, its proof missing."""
    campaign = get_campaign_or_404(campaign_id)
    sites = school_sites()
    form = MeetingForm(formdata=None)
    _meeting_form_choices(form, sites)
    return _render_meetings(campaign, form, sites)


@bp.post("/instances")
@requires(Permission.EDIT_FINDINGS)
def add_meeting(campaign_id: int):
    """A meeting is dated first; its minutes are attached once written."""
    campaign = get_campaign_or_404(campaign_id)
    sites = school_sites()
    form = MeetingForm()
    _meeting_form_choices(form, sites)
    if form.validate_on_submit():
        site = next((s for s in sites if s.id == form.site_id.data), None)
        if form.site_id.data and site is None:
            flash(_("Ce site n’appartient pas à votre école."), "danger")
        else:
            campaign.meetings.append(Meeting(
                kind=MeetingKind(form.kind.data),
                title=form.title.data.strip(),
                site=site,
                held_on=form.held_on.data,
                starts_at=form.starts_at.data,
                ends_at=form.ends_at.data,
            ))
            db.session.commit()
            flash(_("Instance « %(title)s » ajoutée.", title=form.title.data.strip()),
                  "success")
            return redirect(url_for("findings.meetings", campaign_id=campaign.id))
    return _render_meetings(campaign, form, sites)


@bp.post("/instances/<int:meeting_id>/compte-rendu")
@requires(Permission.EDIT_FINDINGS)
def meeting_minutes(campaign_id: int, meeting_id: int):
    """The minutes are a proof of the library, chosen here, not a second upload."""
    campaign = get_campaign_or_404(campaign_id)
    meeting = next((m for m in campaign.meetings if m.id == meeting_id), None)
    if meeting is None:
        abort(404)
    form = MinutesForm()
    back = redirect(url_for("findings.meetings", campaign_id=campaign.id,
                            _anchor=f"instance-{meeting.id}"))
    evidence_id = form.evidence_id.data
    if "evidence_id" not in request.form:
        flash(_("Choisissez la preuve qui sert de compte rendu."), "danger")
        return back
    if evidence_id and _visible_evidence(evidence_id) is None:
        flash(_("Cette preuve n’existe pas dans votre bibliothèque."), "danger")
        return back
    meeting.minutes_evidence_id = evidence_id or None
    db.session.commit()
    if evidence_id:
        flash(_("Compte rendu joint à « %(title)s ».", title=meeting.title), "success")
    else:
        flash(_("Compte rendu retiré de « %(title)s ».", title=meeting.title), "info")
    return back
