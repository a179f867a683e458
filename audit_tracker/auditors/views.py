"""Invite an auditor for one campaign; the invited auditor's page of what the school sends."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.permissions import Permission, requires
from ..clock import local_today, utcnow
from ..evidence.service import can_download, get_visible
from ..extensions import db
from ..findings.reminders import ReminderError, mail_configured, send_message
from ..web.lookups import get_campaign_or_404
from . import service
from .forms import EndAccessForm, InviteAuditorForm, SentSearchForm

bp = Blueprint("auditors", __name__)


@bp.route("/campagnes/<int:campaign_id>/auditeurs", methods=["GET", "POST"])
@requires(Permission.INVITE_AUDITOR)
def invite(campaign_id: int):
    """The quality lead invites an auditor for this campaign between two dates."""
    campaign = get_campaign_or_404(campaign_id)
    form = InviteAuditorForm()
    link = None
    if form.validate_on_submit():
        try:
            invitation = service.invite(
                db.session, campaign, form.email.data or "", form.full_name.data or "",
                form.starts_on.data, form.ends_on.data, local_today(), utcnow())
        except service.InvitationError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            link = url_for("accounts.set_password", token=invitation.token, _external=True)
            flash(_("Auditeur invité : %(email)s.", email=invitation.user.email), "success")
            if mail_configured(current_app.config):
                try:
                    send_message(current_app.config, service.invitation_message(
                        invitation.user, campaign, link, current_app.config["MAIL_FROM"]))
                except ReminderError as error:
                    flash(_("L’e-mail n’a pas pu partir (%(reason)s) : transmettez le lien "
                            "ci-dessous.", reason=str(error)), "warning")
                else:
                    flash(_("Le lien lui a été envoyé par e-mail."), "info")
            form = InviteAuditorForm(formdata=None)
    return render_template("auditors/invite.html", campaign=campaign, form=form, link=link,
                           auditors=service.invited_auditors(db.session, campaign),
                           end_form=EndAccessForm(), today=local_today())


@bp.route("/campagnes/<int:campaign_id>/auditeurs/<int:user_id>/fin", methods=["POST"])
@requires(Permission.INVITE_AUDITOR)
def end_access(campaign_id: int, user_id: int):
    """End an auditor's access today rather than at its planned date."""
    campaign = get_campaign_or_404(campaign_id)
    if EndAccessForm().validate_on_submit():
        try:
            user = service.end_access(db.session, campaign, user_id, local_today())
        except service.InvitationError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            flash(_("Accès de %(email)s terminé.", email=user.email), "success")
    return redirect(url_for("auditors.invite", campaign_id=campaign.id))


@bp.route("/auditeur")
@requires(Permission.READ)
def home():
    """The invited auditor's one page: the sent edition, the arguments, the findings, proofs."""
    form = SentSearchForm(request.args)
    query = (form.q.data or "")[:200] if form.validate() else ""
    sent = service.what_is_sent(db.session, current_user, query)
    if sent is None:
        abort(404)
    return render_template("auditors/home.html", sent=sent, form=form, query=query,
                           claims=service.confirmed_claims)


@bp.route("/auditeur/preuves/<int:evidence_id>")
@requires(Permission.READ)
def proof(evidence_id: int):
    """One sent proof: its description, its versions to download, the criteria it serves."""
    if not current_user.is_invited_auditor:
        abort(404)
    evidence = get_visible(db.session, current_user, evidence_id)
    if evidence is None:
        abort(404)
    return render_template("auditors/proof.html", evidence=evidence,
                           criteria=service.confirmed_claims(evidence),
                           can_download=can_download(current_user, evidence))
