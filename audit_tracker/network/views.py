"""The référent réseau's pages: every school of the instance, read only; the findings of the
visites conseil and pré-audits it leads."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..domain.errors import DomainError, commit_or_conflict
from ..extensions import db
from ..findings import service as findings
from ..findings.forms import FastFindingForm
from ..models import Campaign
from .service import (
    INDICATOR_MONTHS,
    NETWORK_INDICATORS,
    led_findings,
    led_milestone,
    network_overview,
    network_total,
)

bp = Blueprint("network", __name__)


@bp.route("/reseau")
@requires(Permission.VIEW_NETWORK)
def index():
    """The référent sees which school audits when and which is at risk, without opening each."""
    today = local_today()
    schools = network_overview(db.session, today)
    return render_template("network/index.html", schools=schools, today=today,
                           total=network_total(schools), indicators=NETWORK_INDICATORS,
                           months=INDICATOR_MONTHS)


@bp.route("/reseau/campagnes/<int:campaign_id>/jalons/<int:event_id>", methods=["GET", "POST"])
@requires(Permission.RECORD_NETWORK_FINDINGS)
def led_milestone_findings(campaign_id: int, event_id: int):
    """The référent enters what it found at a visite conseil or pré-audit it led, any school."""
    milestone = led_milestone(db.session, campaign_id, event_id)
    if milestone is None:
        abort(404)
    campaign: Campaign = milestone.campaign
    form = FastFindingForm()
    form.framework_id.choices = [SelectChoice(f.id, f.label) for f in campaign.frameworks]
    form.type_code.choices = [SelectChoice(t.code, t.label, optgroup=f.label)
                              for f in campaign.frameworks for t in f.finding_types]
    form.site_id.choices = [SelectChoice(0, _("Toute l’école"))] + [
        SelectChoice(site.id, site.name) for site in campaign.school.sites]
    status = 200
    if form.validate_on_submit():
        framework = next((f for f in campaign.frameworks if f.id == form.framework_id.data), None)
        site = next((s for s in campaign.school.sites if s.id == form.site_id.data), None)
        try:
            if framework is None:
                raise findings.FindingError(_("Choisissez un référentiel suivi par la campagne."))
            finding = findings.create_finding(db.session, milestone, current_user,
                                              findings.FindingInput(
                                                  framework=framework,
                                                  type_code=form.type_code.data or "",
                                                  title=form.title.data or "",
                                                  description=form.description.data or "",
                                                  site=site))
            commit_or_conflict(db.session)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "danger")
            status = 400
        else:
            flash(_("Constat n°%(number)s enregistré : %(title)s", number=finding.number,
                    title=finding.title), "success")
            return redirect(url_for(".led_milestone_findings", campaign_id=campaign.id,
                                    event_id=milestone.id))
    elif form.is_submitted():
        status = 400
    selected_framework = next(
        (f for f in campaign.frameworks if f.id == form.framework_id.data),
        campaign.frameworks[0] if campaign.frameworks else None)
    return render_template("network/milestone.html", campaign=campaign, milestone=milestone,
                           findings=led_findings(db.session, milestone), form=form,
                           selected_framework=selected_framework), status
