"""Campaign pages: list, timeline with countdown, campaign and milestone editing."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..findings import commission, cycle
from ..findings.service import refresh_deadlines
from ..models import Campaign, Milestone, MilestoneKind, Role
from ..readiness import home
from ..referentiel.service import latest_versions, list_frameworks
from ..web.history import render_history
from ..web.lookups import get_campaign_or_404, get_milestone_or_404
from . import service
from .forms import CampaignForm, MilestoneForm

bp = Blueprint("campaigns", __name__)



def _framework_choices() -> list[SelectChoice]:
    return [
        SelectChoice(
            s.framework.id,
            s.framework.label + (" — " + _("provisoire") if s.framework.provisional else ""),
        )
        for s in list_frameworks(db.session)
    ]


def _category_choices() -> list[SelectChoice]:
    """Categories of action of the référentiels (Qualiopi's AF, BC, VAE, CFA), one per code."""
    seen: dict[str, str] = {}
    for summary in list_frameworks(db.session):
        for category in summary.framework.categories:
            seen.setdefault(category.code, f"{category.code} — {category.label}")
    return [SelectChoice(code, label) for code, label in seen.items()]


@bp.route("/")
@requires(Permission.READ)
def index():
    """Each role lands on its work: the director's verdict, the quality lead's to-do, the list."""
    today = local_today()
    if current_user.role in {Role.DIRECTOR, Role.QUALITY_LEAD}:
        campaign = home.home_campaign(db.session, current_user.school_id, today)
        if campaign is not None and current_user.role is Role.DIRECTOR:
            return render_template(
                "campaigns/home_director.html",
                home=home.director_home(db.session, campaign, current_user, today))
        if campaign is not None:
            return render_template(
                "campaigns/home_quality.html",
                home=home.quality_home(db.session, campaign, current_user, today))
    return campaign_list()


@bp.route("/campagnes")
@requires(Permission.READ)
def campaign_list():
    """Every campaign of the school with the next date it must be ready for."""
    today = local_today()
    campaigns = service.campaigns_for_school(db.session, current_user.school_id)
    cards = [(c, service.next_milestone(c, today)) for c in campaigns]
    return render_template("campaigns/index.html", cards=cards, today=today)


@bp.route("/campagnes/<int:campaign_id>")
@requires(Permission.READ)
def detail(campaign_id: int):
    """Where a campaign is followed: timeline with countdowns, next audit, findings."""
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    return render_template(
        "campaigns/detail.html",
        campaign=campaign,
        today=today,
        timeline=service.timeline(campaign, today),
        next_audit=service.next_milestone(
            campaign, today, {kind for kind in MilestoneKind if kind.is_certification_audit}),
        finding_counts=service.finding_counts(db.session, campaign),
        cycle=cycle.cycle_line(campaign, today),
        granted=cycle.is_granted(campaign),
        has_next=service.has_next_campaign(db.session, campaign),
        sessions=commission.upcoming_sessions(campaign, today),
        planned_session=commission.planned_on(campaign),
    )


@bp.get("/campagnes/<int:campaign_id>/historique")
@requires(Permission.VIEW_HISTORY)
def history(campaign_id: int):
    """Who changed this campaign, when and from where, from the journal."""
    campaign = get_campaign_or_404(campaign_id)
    return render_history("campaign", campaign.id, title=campaign.name,
                          back_url=url_for("campaigns.detail", campaign_id=campaign.id))


@bp.route("/campagnes/nouvelle", methods=["GET", "POST"])
@requires(Permission.EDIT_CAMPAIGN)
def create():
    """A campaign names its frameworks first; its milestones are added next, on its page."""
    form = CampaignForm()
    form.framework_ids.choices = _framework_choices()
    form.categories.choices = _category_choices()
    if not form.is_submitted():
        # Proposed on the latest version of each référentiel the school follows.
        form.framework_ids.data = [f.id for f in latest_versions(
            db.session, current_user.school.referentiel_codes)]
    if form.validate_on_submit():
        campaign = Campaign(
            school_id=current_user.school_id,
            name=form.name.data.strip(),
            description=form.description.data or "",
            frameworks=service.frameworks_by_ids(db.session, form.framework_ids.data),
            categories=list(form.categories.data or []),
            certifying=bool(form.certifying.data),
        )
        db.session.add(campaign)
        db.session.commit()
        flash(_("Campagne créée. Ajoutez maintenant ses échéances."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None)


@bp.route("/campagnes/<int:campaign_id>/modifier", methods=["GET", "POST"])
@requires(Permission.EDIT_CAMPAIGN)
def edit(campaign_id: int):
    """A campaign outlives a framework version or a new category of action: both can change."""
    campaign = get_campaign_or_404(campaign_id)
    form = CampaignForm(obj=campaign)
    form.framework_ids.choices = _framework_choices()
    form.categories.choices = _category_choices()
    if not form.is_submitted():
        form.framework_ids.data = [f.id for f in campaign.frameworks]
    if form.validate_on_submit():
        campaign.name = form.name.data.strip()
        campaign.description = form.description.data or ""
        campaign.frameworks = service.frameworks_by_ids(db.session, form.framework_ids.data)
        campaign.categories = list(form.categories.data or [])
        campaign.certifying = bool(form.certifying.data)
        db.session.commit()
        flash(_("Campagne enregistrée."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign)


@bp.route("/campagnes/<int:campaign_id>/echeances/nouvelle", methods=["GET", "POST"])
@requires(Permission.EDIT_CAMPAIGN)
def add_milestone(campaign_id: int):
    """Visits, audits and the commission are dated here; findings and deadlines hang on them."""
    campaign = get_campaign_or_404(campaign_id)
    form = MilestoneForm()
    if form.validate_on_submit():
        milestone = Milestone(campaign=campaign)
        _fill_milestone(milestone, form)
        db.session.add(milestone)
        db.session.commit()
        flash(_("Échéance ajoutée."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template(
        "campaigns/milestone_form.html", form=form, campaign=campaign, milestone=None
    )


@bp.route(
    "/campagnes/<int:campaign_id>/echeances/<int:milestone_id>/modifier", methods=["GET", "POST"]
)
@requires(Permission.EDIT_CAMPAIGN)
def edit_milestone(campaign_id: int, milestone_id: int):
    """An audit moved by the certifier is edited, not deleted, so its findings stay attached."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_milestone_or_404(campaign, milestone_id)
    form = MilestoneForm(obj=milestone)
    if not form.is_submitted():
        form.kind.data = milestone.kind.value
    if form.validate_on_submit():
        _fill_milestone(milestone, form)
        refresh_deadlines(db.session, campaign)  # findings counted from its dates follow it
        db.session.commit()
        flash(_("Échéance enregistrée."), "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template(
        "campaigns/milestone_form.html", form=form, campaign=campaign, milestone=milestone
    )


@bp.route("/campagnes/<int:campaign_id>/echeances/<int:milestone_id>/supprimer", methods=["POST"])
@requires(Permission.EDIT_CAMPAIGN)
def delete_milestone(campaign_id: int, milestone_id: int):
    """Refused once findings hang on it: they are the school's history with the auditor."""
    campaign = get_campaign_or_404(campaign_id)
    milestone = get_milestone_or_404(campaign, milestone_id)
    findings = service.findings_count(db.session, milestone)
    if findings:
        # Its findings and their actions are the school's history with the auditor: keep them.
        flash(ngettext("« %(title)s » porte %(num)s constat : l’échéance ne peut pas être "
                       "supprimée ; modifiez ses dates si elle a été déplacée.",
                       "« %(title)s » porte %(num)s constats : l’échéance ne peut pas être "
                       "supprimée ; modifiez ses dates si elle a été déplacée.",
                       findings, title=milestone.title), "danger")
        return redirect(url_for("campaigns.edit_milestone", campaign_id=campaign.id,
                                milestone_id=milestone.id))
    db.session.delete(milestone)
    db.session.commit()
    flash(_("Échéance « %(title)s » supprimée.", title=milestone.title), "info")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


def _fill_milestone(milestone: Milestone, form: MilestoneForm) -> None:
    milestone.kind = MilestoneKind(form.kind.data)
    milestone.title = form.title.data.strip()
    milestone.starts_on = form.starts_on.data
    milestone.ends_on = form.ends_on.data
    milestone.place = (form.place.data or "").strip()
    milestone.notes = form.notes.data or ""
