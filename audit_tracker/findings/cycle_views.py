"""The label's life cycle: record the decision, open the next campaign from it."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..domain.errors import DomainError
from ..extensions import db
from ..models import CommissionDecision, MilestoneKind
from ..web.lookups import get_campaign_or_404
from . import commission
from . import cycle as service
from .forms import DecisionForm

bp = Blueprint("cycle", __name__)


@bp.route("/campagnes/<int:campaign_id>/decision", methods=["GET", "POST"])
@requires(Permission.EDIT_CAMPAIGN)
def decision(campaign_id: int):
    """The decision starts the label's four-year cycle: its validity and the audits it requires."""
    campaign = get_campaign_or_404(campaign_id)
    current = next((m for m in campaign.milestones if m.kind is MilestoneKind.DECISION), None)
    form = DecisionForm(obj=None)
    form.decision.choices = [SelectChoice(d.value, d.label) for d in CommissionDecision]
    if not form.is_submitted() and current is not None:
        form.decided_on.data = current.starts_on
        form.decision.data = current.decision.value if current.decision else None
        form.conditions.data = current.conditions
    framework = service.label_framework(campaign)
    if form.validate_on_submit():
        try:
            service.record_decision(db.session, campaign, service.DecisionInput(
                form.decided_on.data, CommissionDecision(form.decision.data),
                form.conditions.data or ""))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Décision enregistrée."), "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("findings/decision.html", campaign=campaign, form=form,
                           framework=framework, current=current)


@bp.post("/campagnes/<int:campaign_id>/campagne-suivante")
@requires(Permission.EDIT_CAMPAIGN)
def next_campaign(campaign_id: int):
    """Renewal starts from what stays true, not from an empty campaign."""
    campaign = get_campaign_or_404(campaign_id)
    try:
        result = service.open_next_campaign(db.session, campaign, local_today())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    db.session.commit()
    flash(ngettext("Campagne suivante ouverte : %(num)s preuve valable reprise",
                   "Campagne suivante ouverte : %(num)s preuves valables reprises",
                   len(result.proofs)) + ", " + ngettext(
        "%(num)s constat ouvert repris", "%(num)s constats ouverts repris",
        len(result.findings)) + ", " + ngettext(
        "%(num)s action reprise.", "%(num)s actions reprises.", len(result.actions)), "success")
    if result.not_carried:
        flash(_("Non repris : %(items)s", items=" ; ".join(result.not_carried)), "info")
    return redirect(url_for("campaigns.detail", campaign_id=result.campaign.id))


@bp.post("/campagnes/<int:campaign_id>/commission")
@requires(Permission.EDIT_CAMPAIGN)
def plan_commission(campaign_id: int):
    """One click puts the chosen commission session and its filing deadline on the campaign."""
    campaign = get_campaign_or_404(campaign_id)
    try:
        on = date.fromisoformat(request.form.get("seance", "")[:10])
    except ValueError:
        flash(_("Choisissez une séance de la commission."), "danger")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    try:
        filing, session_milestone = commission.plan_session(db.session, campaign, on,
                                                            local_today())
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    db.session.commit()
    flash(_("Commission du %(day)s et dépôt du dossier le %(deadline)s ajoutés au calendrier.",
            day=session_milestone.starts_on.strftime("%d/%m/%Y"),
            deadline=filing.starts_on.strftime("%d/%m/%Y")), "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id, _anchor="commission"))
