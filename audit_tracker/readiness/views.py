"""Readiness pages: the director's dashboard, each criterion's state and why, the go / no-go
checklist, and the signatures. Thin views over ``readiness.rules`` and its companions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, has_permission, requires
from ..charts import to_svg
from ..clock import local_today
from ..domain.errors import Conflict, DomainError, commit_or_conflict
from ..evidence.forms import NewEvidenceForm
from ..evidence.service import picker_search, visible_to
from ..extensions import db
from ..findings.service import ActionFilters, actions_of
from ..models import Campaign, Evidence, EvidenceKind, EvidenceLink, Role, Site
from ..web import page_cache
from ..web.lookups import get_campaign_or_404, get_milestone_or_404, school_site, school_sites
from ..web.reauth import identity_confirmed, recently_authenticated
from . import decisions
from .charts import readiness_bars, trend_chart
from .dashboard import build_dashboard, findings_on, go_no_go, key_milestones
from .forms import DecisionForm, ExemptionForm, ReferenceForm, SignOffForm
from .rules import CriterionReadiness, State, default_reference_date, readiness_of
from .signoff import SignOffError, get_signoff, seal_state, sign, signoffs_of
from .snapshots import changes_between, thaw

bp = Blueprint("readiness", __name__)

@bp.app_context_processor
def readiness_helpers() -> dict:
    return {"State": State}


def asked_date(form: ReferenceForm) -> date | None:
    """The date asked for in ``?date=``, or None (with a warning when it cannot be read)."""
    asked = (request.args.get("date") or "").strip()  # « ?date=%20 » asks for nothing
    if asked and form.validate() and form.date.data:
        return form.date.data
    if asked:
        flash(_("Date de référence illisible : la date du prochain audit est utilisée."),
              "warning")
    return None


def reference_date(campaign: Campaign, today: date) -> tuple[date, ReferenceForm]:
    """The date asked for in ``?date=``, or the default: the next audit. The form's site
    choices are added by ``offer_sites`` when the form is shown."""
    form = ReferenceForm(request.args)
    as_of = asked_date(form) or default_reference_date(campaign, today)
    form.date.data = as_of
    return as_of, form


def offer_sites(form: ReferenceForm) -> ReferenceForm:
    """The site select's choices: the whole school, then each site (one query, which the
    dashboard served from its cache does not need)."""
    form.site.choices = [SelectChoice("", _("Toute l’école"))] + [
        SelectChoice(s.code, s.name) for s in school_sites()]
    return form


def viewed_site(form: ReferenceForm) -> Site | None:
    """The site asked for in ``?site=`` (its records and the school's count), or None."""
    code = (form.site.data or "").strip()
    site = school_site(code) if code else None
    if code and site is None:
        flash(_("Site inconnu : %(code)s ; toute l’école est affichée.", code=code[:40]),
              "warning")
        form.site.data = ""
    return site


def other_sites_notes(criteria: Sequence[CriterionReadiness]) -> dict[int, tuple[int, str]]:
    """For a site manager, each criterion's counted proofs of another site, worded: they are
    counted in the reasons but hidden from the proof list, which would otherwise contradict."""
    if current_user.role is not Role.SITE_MANAGER or current_user.site_id is None:
        return {}
    wanted = {evidence_id for c in criteria for evidence_id in c.evidence_ids}
    if not wanted:
        return {}
    sites = dict(db.session.execute(
        select(Evidence.id, Site.name).join(Site, Evidence.site_id == Site.id)
        .where(Evidence.id.in_(wanted), Evidence.site_id != current_user.site_id)).all())
    notes: dict[int, tuple[int, str]] = {}
    for c in criteria:
        names = [sites[i] for i in c.evidence_ids if i in sites]
        if names:
            notes[c.criterion_id] = (len(names), ngettext(
                "%(num)d preuve d’un autre site (%(sites)s), comptée ici",
                "%(num)d preuves d’autres sites (%(sites)s), comptées ici",
                len(names), sites=", ".join(sorted(set(names)))))
    return notes


@bp.route("")
@requires(Permission.READ)
def dashboard(campaign_id: int):
    """The director's answer to « are we ready for the next audit? », at a chosen date and site."""
    # Computed once per state of the school's record (``web.page_cache``): served again, the page
    # reads the revision and no campaign (the key names the school, so a stored page proves the
    # campaign is this school's; the default date, the next audit, is the record's and the day's).
    record = page_cache.revision(current_user.school_id)  # first: never older than its key
    today = local_today()
    form = ReferenceForm(request.args)
    asked = asked_date(form)
    site = viewed_site(form)
    # Who asks: the role decides the buttons, a site manager's site the notes on other sites.
    viewer = (current_user.role, current_user.site_id
              if current_user.role is Role.SITE_MANAGER else None)
    page = page_cache.fragment(
        record, "readiness.dashboard", (campaign_id, asked, site.id if site else None, *viewer),
        lambda: _dashboard_content(campaign_id, asked, today, form, site))
    return render_template("readiness/dashboard.html", **page)


def _dashboard_content(campaign_id: int, asked: date | None, today: date, form: ReferenceForm,
                       site: Site | None) -> dict[str, str]:
    """The dashboard computed (404 for a campaign of another school): the campaign's
    référentiels and meetings loaded first, in one statement each; its name for the title."""
    campaign = get_campaign_or_404(campaign_id)
    as_of = form.date.data = asked or default_reference_date(campaign, today)
    board = build_dashboard(db.session, campaign, as_of, today,
                            site_id=site.id if site else None)
    # The content is the template's output, escaped when rendered: it is HTML already.
    return {"title": campaign.name, "content": Markup(render_template(  # noqa: S704
        "readiness/_dashboard.html", campaign=campaign, board=board, form=offer_sites(form),
        bars=to_svg(readiness_bars(board.readiness),
                    _("État de préparation par référentiel et par section")),
        trend=to_svg(trend_chart(board.trend), _("Part des critères démontrables, jour par jour")),
        can_sign=has_permission(current_user, Permission.SIGN_OFF),
        can_build=has_permission(current_user, Permission.BUILD_DOSSIER),
        site=site, elsewhere=other_sites_notes(board.readiness.criteria),
    ))}


@bp.route("/criteres")
@requires(Permission.READ)
def criteria(campaign_id: int):
    """Every criterion's state with its reasons, filtered by state to work through the gaps."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    as_of, form = reference_date(campaign, today)
    site = viewed_site(form)
    readiness = readiness_of(db.session, campaign, as_of, today=today,
                             site_id=site.id if site else None)
    wanted = request.args.get("etat")
    shown = [c for c in readiness.criteria if not wanted or c.state.value == wanted]
    return render_template("readiness/criteria.html", campaign=campaign, form=offer_sites(form),
                           readiness=readiness, shown=shown, wanted=wanted, site=site,
                           elsewhere=other_sites_notes(shown))


def _criterion_or_404(campaign: Campaign, criterion_id: int):
    criterion = decisions.criterion_in_campaign(db.session, campaign, criterion_id)
    if criterion is None:
        abort(404)
    return criterion


def _render_criterion(campaign, criterion, decision_form=None, exemption_form=None,
                      status=200):
    today = local_today()
    as_of, form = reference_date(campaign, today)
    site = viewed_site(form)
    result = readiness_of(db.session, campaign, as_of, today=today,
                          site_id=site.id if site else None).of(criterion.id)
    decision = decisions.decision_for(db.session, campaign, criterion)
    if decision_form is None:
        decision_form = DecisionForm(
            formdata=None, argument=decision.argument if decision else "",
            applicable=decision.applicable if decision else True,
            reason=decision.not_applicable_reason if decision else "",
            self_assessment=decision.self_assessment or "" if decision else "",
            lock_version=decision.lock_version if decision else "")
    decision_form.self_assessment.choices = _level_choices(criterion)
    exemption_form = exemption_form or ExemptionForm(formdata=None)
    exemption_form.site_id.choices = _site_choices()
    links = db.session.execute(
        select(Evidence, EvidenceLink).join(EvidenceLink)
        .where(EvidenceLink.criterion_id == criterion.id, visible_to(current_user))
        .options(selectinload(Evidence.owner), selectinload(Evidence.versions))
        .order_by(EvidenceLink.id)).all()
    proofs = [evidence for evidence, _link in links]
    claims = {evidence.id: link for evidence, link in links}
    findings = findings_on(db.session, campaign, criterion)
    actions = actions_of(db.session, campaign, ActionFilters(criterion_id=criterion.id))
    return render_template(
        "readiness/criterion.html", campaign=campaign, criterion=criterion, result=result,
        form=offer_sites(form), decision=decision, decision_form=decision_form,
        exemption_form=exemption_form,
        exemptions=decisions.exemptions_for(db.session, campaign, criterion),
        proofs=proofs, claims=claims, findings=findings, actions=actions, today=today,
        as_of=as_of, can_decide=has_permission(current_user, Permission.EDIT_CAMPAIGN),
        elsewhere=other_sites_notes([result]),
        **_workspace(campaign, criterion, {p.id for p in proofs}),
    ), status


def _workspace(campaign: Campaign, criterion, linked_ids: set[int]) -> dict:
    """The criterion page's « Ajouter une preuve »: a new proof linked here in one step, or an
    existing one found by the picker (``?chercher=`` without JavaScript)."""
    if not has_permission(current_user, Permission.EDIT_EVIDENCE):
        return {"add_form": None}
    back = url_for(".criterion", campaign_id=campaign.id, criterion_id=criterion.id)
    add_form = NewEvidenceForm(formdata=None, criterion_id=criterion.id, next=back,
                               kind=EvidenceKind.FILE.value)
    add_form.kind.choices = [SelectChoice(k.value, k.label) for k in EvidenceKind]
    add_form.site_id.choices = [SelectChoice(0, _("Toute l’école"))] + [
        SelectChoice(s.id, s.name) for s in school_sites()]
    add_form.site_id.data = current_user.site_id or 0
    query = (request.args.get("chercher") or "").strip()[:200]
    picked = picker_search(db.session, current_user, query) if query else []
    return {"add_form": add_form, "back": back, "picked": picked, "picked_query": query,
            "linked_ids": linked_ids}


def _site_choices() -> list[SelectChoice]:
    return [SelectChoice(s.id, s.name) for s in school_sites()]


@bp.route("/criteres/<int:criterion_id>")
@requires(Permission.READ)
def criterion(campaign_id: int, criterion_id: int):
    """Why one criterion is in its state: proofs, findings, actions, the school's argument."""
    campaign = get_campaign_or_404(campaign_id)
    return _render_criterion(campaign, _criterion_or_404(campaign, criterion_id))


def _level_choices(criterion) -> list[tuple[str, str]]:
    """« not rated » then the framework's self-assessment levels, lowest first."""
    scale = criterion.framework.self_assessment_scale or []
    return [("", _("— non évalué —"))] + [(level["code"], level["label"]) for level in scale]


@bp.route("/criteres/<int:criterion_id>", methods=["POST"])
@requires(Permission.EDIT_CAMPAIGN)
def save_decision(campaign_id: int, criterion_id: int):
    """The school's own argument, or why the criterion does not apply; a stale form is a 409."""
    campaign = get_campaign_or_404(campaign_id)
    criterion = _criterion_or_404(campaign, criterion_id)
    form = DecisionForm()
    if not form.validate():
        return _render_criterion(campaign, criterion, decision_form=form, status=400)
    seen = int(form.lock_version.data) if (form.lock_version.data or "").isdigit() else None
    try:
        decisions.save_decision(db.session, campaign, criterion, current_user,
                                argument=form.argument.data, applicable=form.applicable.data,
                                reason=form.reason.data, seen_lock_version=seen,
                                self_assessment=form.self_assessment.data or None)
        commit_or_conflict(db.session)
    except DomainError as error:
        flash(str(error), "danger")
        status = 409 if isinstance(error, Conflict) else 400
        return _render_criterion(campaign, criterion, decision_form=form, status=status)
    flash(_("Critère %(code)s enregistré.", code=criterion.code), "success")
    return redirect(url_for(".criterion", campaign_id=campaign.id, criterion_id=criterion.id))


@bp.route("/criteres/<int:criterion_id>/sites", methods=["POST"])
@requires(Permission.EDIT_CAMPAIGN)
def add_exemption(campaign_id: int, criterion_id: int):
    """A criterion may not apply to one of the sites; the reason is kept for the auditor."""
    campaign = get_campaign_or_404(campaign_id)
    criterion = _criterion_or_404(campaign, criterion_id)
    form = ExemptionForm()
    form.site_id.choices = _site_choices()
    if not form.validate():
        return _render_criterion(campaign, criterion, exemption_form=form, status=400)
    try:
        decisions.exempt_site(db.session, campaign, criterion,
                              db.session.get(Site, form.site_id.data), form.reason.data)
        commit_or_conflict(db.session)
    except DomainError as error:
        flash(str(error), "danger")
        return _render_criterion(campaign, criterion, exemption_form=form, status=400)
    flash(_("Exemption de site enregistrée."), "success")
    return redirect(url_for(".criterion", campaign_id=campaign.id, criterion_id=criterion.id))


@bp.route("/criteres/<int:criterion_id>/sites/<int:exemption_id>/supprimer", methods=["POST"])
@requires(Permission.EDIT_CAMPAIGN)
def delete_exemption(campaign_id: int, criterion_id: int, exemption_id: int):
    """An exemption given by mistake goes, so the site counts again for that criterion."""
    campaign = get_campaign_or_404(campaign_id)
    criterion = _criterion_or_404(campaign, criterion_id)
    if not decisions.remove_exemption(db.session, campaign, exemption_id):
        abort(404)
    db.session.commit()
    flash(_("Exemption de site retirée."), "success")
    return redirect(url_for(".criterion", campaign_id=campaign.id, criterion_id=criterion.id))


@bp.route("/go-no-go/<int:milestone_id>")
@requires(Permission.READ)
def checklist(campaign_id: int, milestone_id: int):
    """Go or no-go for one audit or commission, judged as of that milestone's first day."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_milestone_or_404(campaign, milestone_id)
    today = local_today()
    return render_template("readiness/checklist.html", campaign=campaign,
                           checklist=go_no_go(db.session, campaign, milestone, today),
                           today=today)


def _signoff_form(campaign: Campaign, today: date, formdata=None) -> SignOffForm:
    form = SignOffForm(formdata=formdata)
    form.milestone_id.choices = [SelectChoice(0, _("Aucune en particulier"))] + [
        SelectChoice(m.id, f"{m.title} ({m.starts_on:%d/%m/%Y})") for m in campaign.milestones]
    if formdata is None:
        form.as_of.data = default_reference_date(campaign, today)
        audit = key_milestones(campaign, today).get("audit")
        form.milestone_id.data = audit.id if audit else 0
    return form


@bp.route("/signatures")
@requires(Permission.READ)
def signoffs(campaign_id: int):
    """The signatures given so far, and the form for those who may sign."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    return render_template("readiness/signoffs.html", campaign=campaign,
                           signoffs=signoffs_of(db.session, campaign),
                           form=_signoff_form(campaign, today),
                           can_sign=has_permission(current_user, Permission.SIGN_OFF),
                           reauth_needed=not recently_authenticated())


@bp.route("/signatures", methods=["POST"])
@requires(Permission.SIGN_OFF)
def sign_readiness(campaign_id: int):
    """Only the director signs: the readiness at that date is frozen with its hash."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    form = _signoff_form(campaign, today, formdata=request.form)
    if form.validate() and identity_confirmed(form, "readiness_signoff"):
        milestone = None
        if form.milestone_id.data:
            milestone = get_milestone_or_404(campaign, form.milestone_id.data)
        try:
            signoff = sign(db.session, campaign, current_user, form.as_of.data, today,
                           comment=form.comment.data, milestone=milestone)
            db.session.commit()
        except SignOffError as error:
            flash(str(error), "danger")
        else:
            flash(_("État de préparation signé au %(day)s.",
                    day=signoff.as_of.strftime("%d/%m/%Y")), "success")
            return redirect(url_for(".signoff", campaign_id=campaign.id, signoff_id=signoff.id))
    return render_template("readiness/signoffs.html", campaign=campaign,
                           signoffs=signoffs_of(db.session, campaign), form=form,
                           can_sign=True, reauth_needed=not recently_authenticated()), 400


@bp.route("/signatures/<int:signoff_id>")
@requires(Permission.READ)
def signoff(campaign_id: int, signoff_id: int):
    """A signature beside today's readiness: what changed since, and whether it is intact."""
    campaign = get_campaign_or_404(campaign_id)
    found = get_signoff(db.session, campaign, signoff_id)
    if found is None:
        abort(404)
    frozen = thaw(found.snapshot)
    today = local_today()
    now = readiness_of(db.session, campaign, found.as_of, today=today)
    return render_template("readiness/signoff.html", campaign=campaign, signoff=found,
                           readiness=frozen, seal=seal_state(found),
                           changes=changes_between(frozen, now))
