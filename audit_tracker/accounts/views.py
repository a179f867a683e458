"""Login, logout, language, and the admin's list of accounts."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..clock import as_utc, utcnow
from ..extensions import db
from ..findings.reminders import ReminderError, mail_configured, send_message
from ..journal import service as journal
from ..journal.context import PAGE, Actor
from ..models import Role, School, Site, User
from ..referentiel.service import latest_versions
from ..templating import render_markdown
from ..web.choices import referentiel_choices
from ..web.reauth import mark_authenticated
from . import service as accounts
from . import throttle, totp
from .forms import (
    AccountForm,
    ActionForm,
    ApiTokenForm,
    ChangePasswordForm,
    LanguageForm,
    LoginForm,
    SchoolForm,
    SetPasswordForm,
    TotpForm,
    TotpOffForm,
    TotpPolicyForm,
    UserForm,
)
from .passwords import WeakPassword
from .permissions import Permission, public, requires
from .schools import NewSchool, SchoolError, create_school, parse_sites, schools_overview
from .service import (
    AccountError,
    account_named,
    authenticate,
    change_own_password,
    create_user,
    set_password_from_link,
    user_for_link,
)

bp = Blueprint("accounts", __name__)
MAX_ID = 2_147_483_647  # what the database holds: a larger ?ecole= is a 404, never a 500


def _safe_next(target: str | None) -> str:
    """Only same-site paths: ``next`` must not send a user to another host.

    Browsers read ``/\\host`` like ``//host``, so a backslash anywhere is refused too.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not urlsplit(target).netloc
    ):
        return target
    return url_for("campaigns.index")


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login():
    """The one door for people; ``next`` may only lead to a page of this site."""
    if current_user.is_authenticated:
        return redirect(url_for("campaigns.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email, address = form.email.data or "", (request.remote_addr or "")[:64]
        now = utcnow()
        until = throttle.blocked_until(db.session, email, address, now)
        if until is not None:
            journal.record_event(db.session, journal.LOGIN_THROTTLED,
                                 detail={"email": email.strip()[:254]})
            db.session.commit()
            minutes = max(1, math.ceil((until - now).total_seconds() / 60))
            flash(ngettext(
                "Trop de tentatives de connexion infructueuses : réessayez dans %(num)s minute.",
                "Trop de tentatives de connexion infructueuses : réessayez dans %(num)s minutes.",
                minutes), "danger")
            return render_template("accounts/login.html", form=form), 429
        user = authenticate(db.session, email, form.password.data)
        if user is None:
            target = account_named(db.session, email)
            throttle.record_failure(db.session, email, address, now, _limits())
            journal.record_event(db.session, journal.LOGIN_FAILED,
                                 table_name="user" if target else "",
                                 record_id=target.id if target else "",
                                 school_id=target.school_id if target else None,
                                 detail={"email": email.strip()[:254]})
            db.session.commit()
            flash(_("Adresse e-mail ou mot de passe incorrect."), "danger")
        elif user.totp_secret:
            # The password was right; the second factor decides. Nothing is logged in yet.
            db.session.commit()
            session["totp_pending"] = {"id": user.id, "at": int(now.timestamp()),
                                       "remember": bool(form.remember.data),
                                       "next": _safe_next(request.args.get("next"))}
            return redirect(url_for("accounts.login_code"))
        else:
            throttle.record_success(db.session, email, address)
            journal.record_event(db.session, journal.LOGIN, table_name="user", record_id=user.id,
                                 actor=Actor(origin=PAGE, user_id=user.id, email=user.email,
                                             school_id=user.school_id, address=address))
            db.session.commit()
            # Not permanent: the cookie ends with the browser, and Flask-Login's « strong »
            # protection drops a session seen from another browser (it spares permanent ones).
            session.permanent = False
            login_user(user, remember=form.remember.data)
            mark_authenticated()
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


TOTP_PENDING_SECONDS = 300


@bp.route("/connexion/code", methods=["GET", "POST"])
@public
def login_code():
    """The second step for an account with TOTP: the code of the authenticator app."""
    pending = session.get("totp_pending")
    now = utcnow()
    user = None
    if isinstance(pending, dict) and 0 <= now.timestamp() - int(pending.get("at", 0)) \
            <= TOTP_PENDING_SECONDS:
        user = db.session.get(User, int(pending.get("id", 0)))
    if user is None or not user.is_active or not user.totp_secret:
        session.pop("totp_pending", None)  # nothing pending, or too old: start again
        return render_template("accounts/login_code.html", form=None)
    form = TotpForm()
    if form.validate_on_submit():
        address = (request.remote_addr or "")[:64]
        until = throttle.blocked_until(db.session, user.email, address, now)
        if until is None and totp.code_matches(user.totp_secret, form.code.data or "", now):
            session.pop("totp_pending", None)
            throttle.record_success(db.session, user.email, address)
            journal.record_event(db.session, journal.LOGIN, table_name="user", record_id=user.id,
                                 actor=Actor(origin=PAGE, user_id=user.id, email=user.email,
                                             school_id=user.school_id, address=address))
            db.session.commit()
            session.permanent = False
            login_user(user, remember=bool(pending.get("remember")))
            mark_authenticated()
            return redirect(_safe_next(pending.get("next")))
        if until is None:
            throttle.record_failure(db.session, user.email, address, now, _limits())
        journal.record_event(db.session, journal.LOGIN_FAILED, table_name="user",
                             record_id=user.id, school_id=user.school_id,
                             detail={"email": user.email, "factor": "totp"})
        db.session.commit()
        flash(_("Code incorrect ou trop de tentatives : réessayez."), "danger")
    return render_template("accounts/login_code.html", form=form)


@bp.route("/compte/double-facteur", methods=["GET", "POST"])
@requires(Permission.READ)
def two_factor():
    """The direction and the admin turn on (or off) the second factor of their login."""
    if not totp.may_use(current_user):
        abort(404)
    form, off_form = TotpForm(), TotpOffForm()
    secret = session.get("totp_setup")
    if not current_user.totp_secret and not isinstance(secret, str):
        secret = session["totp_setup"] = totp.new_secret()
    if request.method == "POST":
        try:
            if current_user.totp_secret and off_form.validate_on_submit():
                totp.disable(db.session, current_user, off_form.password.data or "")
                message = _("Double facteur désactivé.")
            elif not current_user.totp_secret and form.validate_on_submit():
                totp.enable(db.session, current_user, str(secret), form.code.data or "",
                            utcnow())
                message = _("Double facteur activé : il sera demandé à chaque connexion.")
            else:
                raise totp.TotpError(_("Formulaire incomplet."))
        except totp.TotpError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            session.pop("totp_setup", None)
            login_user(current_user._get_current_object())  # this browser stays in
            flash(message, "success")
            return redirect(url_for("accounts.two_factor"))
    uri = None if current_user.totp_secret else totp.provisioning_uri(current_user, str(secret))
    return render_template("accounts/two_factor.html", form=form, off_form=off_form,
                           secret=None if current_user.totp_secret else secret, uri=uri,
                           required=totp.required_for(current_user))


def _limits() -> throttle.Limits:
    return throttle.limits_from(current_app.config)


@bp.route("/deconnexion", methods=["POST"])
@requires(Permission.READ)
def logout():
    """A POST with its CSRF token, so that a link elsewhere cannot sign a user out."""
    journal.record_event(db.session, journal.LOGOUT, table_name="user", record_id=current_user.id)
    current_user.end_sessions()  # every copy of this account's cookies stops working
    db.session.commit()
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/mot-de-passe/<token>", methods=["GET", "POST"])
@public
def set_password(token: str):
    """An invitation or reset link: choose a password, then log in with it (the link is spent)."""
    if user_for_link(db.session, token, utcnow()) is None:
        flash(_("Ce lien n’est plus valable : demandez-en un nouveau."), "danger")
        return render_template("accounts/set_password.html", form=None), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            flash(_("Les deux mots de passe diffèrent."), "danger")
        else:
            try:
                user = set_password_from_link(db.session, token, form.password.data or "",
                                              utcnow())
            except WeakPassword as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                db.session.commit()
                flash(_("Mot de passe enregistré : connectez-vous avec %(email)s.",
                        email=user.email), "success")
                return redirect(url_for("accounts.login"))
    return render_template("accounts/set_password.html", form=form)


@bp.route("/compte/mot-de-passe", methods=["GET", "POST"])
@requires(Permission.READ)
def password():
    """A user changes their own password; the current one is asked, other sessions end."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if form.password.data != form.confirm.data:
            flash(_("Les deux mots de passe diffèrent."), "danger")
        else:
            try:
                change_own_password(db.session, current_user, form.current.data or "",
                                    form.password.data or "")
            except WeakPassword as error:
                db.session.rollback()
                flash(str(error), "danger")
            else:
                db.session.commit()
                login_user(current_user._get_current_object())  # this browser stays in
                flash(_("Mot de passe changé : vos autres sessions sont fermées."), "success")
                return redirect(url_for("accounts.password"))
    return render_template("accounts/password.html", form=form)


@bp.route("/langue", methods=["POST"])
@public
def language():
    """Open to visitors too: the login page itself can be read in English."""
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/apercu", methods=["POST"])
@requires(Permission.READ)
def preview():
    """A formatted text field's « Aperçu »: the text as pages will show it, sanitised."""
    text = request.form.get("text", "")[:20000]
    return jsonify(html=str(render_markdown(text)))


@bp.route("/comptes", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def users():
    """The admin creates the school's accounts here; there is no self sign-up."""
    school = _school_chosen()
    form = UserForm()
    form.role.choices = [SelectChoice(r.value, r.label) for r in Role]
    sites = list(db.session.scalars(
        select(Site).where(Site.school_id == school.id).order_by(Site.name)))
    form.site_id.choices = [SelectChoice(0, "—")] + [SelectChoice(s.id, s.name) for s in sites]
    if form.validate_on_submit():
        site = next((s for s in sites if s.id == form.site_id.data), None)
        try:
            user = create_user(
                db.session,
                school,
                form.email.data,
                form.full_name.data,
                Role(form.role.data),
                form.password.data,
                site,
            )
        except AccountError as error:
            db.session.rollback()
            flash(
                {
                    "email_taken": _("Un compte existe déjà avec cette adresse."),
                    "site_required": _("Un responsable de site doit être rattaché à un site."),
                    "site_of_other_school": _("Ce site n’appartient pas à votre école."),
                }[str(error)],
                "danger",
            )
        else:
            db.session.commit()
            flash(_("Compte créé : %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.users",
                                    ecole=None if school.id == current_user.school_id
                                    else school.id))
    accounts = db.session.scalars(
        select(User).where(User.school_id == school.id).order_by(User.role, User.email)
    )
    policy_form = TotpPolicyForm(formdata=None, required=school.require_totp)
    return render_template("accounts/users.html", form=form, accounts=list(accounts),
                           school=school, policy_form=policy_form)


def _school_chosen() -> School:
    """The school whose accounts the admin runs: theirs, or ``?ecole=`` (the platform admin
    runs every school's accounts, a new school's first ones too)."""
    school = current_user.school
    chosen = request.args.get("ecole", type=int)
    if chosen is not None and chosen != school.id:
        school = db.session.get(School, chosen) if 0 < chosen <= MAX_ID else None
        if school is None:
            abort(404)
    return school


@bp.route("/comptes/double-facteur", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def totp_policy():
    """The admin makes TOTP compulsory (or optional) for the direction and admin accounts."""
    school = _school_chosen()
    form = TotpPolicyForm()
    if form.validate_on_submit():
        totp.set_required(db.session, school, bool(form.required.data))
        db.session.commit()
        flash(_("Double facteur obligatoire pour la direction et l’administrateur.")
              if school.require_totp else
              _("Double facteur au choix de chacun."), "success")
    return redirect(url_for("accounts.users",
                            ecole=None if school.id == current_user.school_id else school.id))


def _school_form(**kwargs) -> SchoolForm:
    """The new school's form, every référentiel of the instance ticked until the admin unticks
    one (an E2C follows the label and Qualiopi alike)."""
    form = SchoolForm(**kwargs)
    form.referentiels.choices = referentiel_choices()
    if not form.is_submitted() or kwargs.get("formdata", True) is None:
        form.referentiels.data = [choice.value for choice in form.referentiels.choices]
    return form


def _account_refusal(error: AccountError) -> str:
    return {
        "self": _("Vous ne pouvez ni désactiver votre propre compte ni lui retirer le rôle "
                  "d’administrateur."),
        "site_required": _("Un responsable de site doit être rattaché à un site."),
        "site_of_other_school": _("Ce site n’appartient pas à l’école du compte."),
        "inactive": _("Ce compte est désactivé : réactivez-le d’abord."),
        "token_days": _("Un jeton dure de 1 à 365 jours."),
        "token_unknown": _("Jeton inconnu."),
    }.get(str(error), _("Action refusée."))


def _managed_account_or_404(user_id: int) -> User:
    """An account the admin runs: any school's (the platform admin runs them all)."""
    user = db.session.get(User, user_id) if 0 < user_id <= MAX_ID else None
    if user is None:
        abort(404)
    return user


@bp.route("/comptes/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def account(user_id: int):
    """The admin changes an account's role, deactivates it or issues a reset link."""
    user = _managed_account_or_404(user_id)
    form = AccountForm(obj=None if request.method == "POST" else user)
    form.role.choices = [SelectChoice(r.value, r.label) for r in Role]
    sites = list(db.session.scalars(
        select(Site).where(Site.school_id == user.school_id).order_by(Site.name)))
    form.site_id.choices = [SelectChoice(0, "—")] + [SelectChoice(s.id, s.name) for s in sites]
    if request.method == "GET":
        form.role.data = user.role.value
        form.site_id.data = user.site_id or 0
    if form.validate_on_submit():
        site = next((s for s in sites if s.id == form.site_id.data), None)
        try:
            accounts.update_account(db.session, current_user, user, Role(form.role.data),
                                    bool(form.active.data), site)
        except AccountError as error:
            db.session.rollback()
            flash(_account_refusal(error), "danger")
        else:
            db.session.commit()
            flash(_("Compte mis à jour : %(email)s.", email=user.email), "success")
            return redirect(url_for("accounts.account", user_id=user.id))
    return render_template("accounts/account.html", user=user, form=form,
                           reset_form=ActionForm(), link=None)


@bp.route("/comptes/<int:user_id>/lien", methods=["POST"])
@requires(Permission.MANAGE_USERS)
def reset_link(user_id: int):
    """A one-use link to choose a new password, e-mailed to the account, shown once here."""
    user = _managed_account_or_404(user_id)
    link = None
    if ActionForm().validate_on_submit():
        try:
            token = accounts.issue_reset_link(db.session, user, utcnow())
        except AccountError as error:
            db.session.rollback()
            flash(_account_refusal(error), "danger")
        else:
            db.session.commit()
            link = url_for("accounts.set_password", token=token, _external=True)
            flash(_("Lien de réinitialisation émis pour %(email)s.", email=user.email), "success")
            if mail_configured(current_app.config):
                try:
                    send_message(current_app.config, accounts.reset_message(
                        user, link, current_app.config["MAIL_FROM"]))
                except ReminderError as error:
                    flash(_("L’e-mail n’a pas pu partir (%(reason)s) : transmettez le lien "
                            "ci-dessous.", reason=str(error)), "warning")
                else:
                    flash(_("Le lien lui a été envoyé par e-mail."), "info")
    form = AccountForm(formdata=None)
    form.role.choices = [SelectChoice(r.value, r.label) for r in Role]
    form.role.data = user.role.value
    form.site_id.choices = [SelectChoice(0, "—")] + [
        SelectChoice(s.id, s.name) for s in db.session.scalars(
            select(Site).where(Site.school_id == user.school_id).order_by(Site.name))]
    form.site_id.data = user.site_id or 0
    form.active.data = user.active
    return render_template("accounts/account.html", user=user, form=form,
                           reset_form=ActionForm(), link=link)


@bp.route("/compte/jetons", methods=["GET", "POST"])
@requires(Permission.READ)
def api_tokens():
    """A user's API tokens: issue one with an expiry (shown once), see when each was used."""
    form = ApiTokenForm()
    clear = None
    if form.validate_on_submit():
        try:
            clear = accounts.issue_api_token(db.session, current_user, form.label.data or "",
                                             form.days.data or 0, utcnow())
        except AccountError as error:
            db.session.rollback()
            flash(_account_refusal(error), "danger")
        else:
            db.session.commit()
            flash(_("Jeton créé : copiez-le maintenant, il ne sera plus affiché."), "success")
            form = ApiTokenForm(formdata=None)
    tokens = accounts.api_tokens_of(db.session, current_user)
    now = utcnow()
    expired = {t.id for t in tokens if t.expires_at and as_utc(t.expires_at) <= now}
    return render_template("accounts/api_tokens.html", form=form, clear=clear, tokens=tokens,
                           revoke_form=ActionForm(), expired_ids=expired)


@bp.route("/compte/jetons/<int:token_id>/revoquer", methods=["POST"])
@requires(Permission.READ)
def revoke_api_token(token_id: int):
    """Revoke one of one's own tokens: the API refuses it from the next request."""
    if not 0 < token_id <= MAX_ID:
        abort(404)
    if ActionForm().validate_on_submit():
        try:
            accounts.revoke_api_token(db.session, current_user, token_id, utcnow())
        except AccountError as error:
            db.session.rollback()
            flash(_account_refusal(error), "danger")
        else:
            db.session.commit()
            flash(_("Jeton révoqué."), "success")
    return redirect(url_for("accounts.api_tokens"))


@bp.route("/ecoles", methods=["GET", "POST"])
@requires(Permission.MANAGE_SCHOOLS)
def schools():
    """The network's schools; a new one with its sites, its référentiels and its director."""
    form = _school_form()
    created = None
    if form.validate_on_submit():
        try:
            created = create_school(db.session, NewSchool(
                name=form.name.data, short_name=form.short_name.data, city=form.city.data or "",
                sites=parse_sites(form.sites.data), director_email=form.director_email.data,
                director_name=form.director_name.data or "",
                referentiels=list(form.referentiels.data or [])))
        except SchoolError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            # Rendered, not redirected: the password is shown once and never put in the session.
            form = _school_form(formdata=None)
    return render_template("accounts/schools.html", form=form, created=created,
                           schools=schools_overview(db.session),
                           names={f.code: f.name for f in latest_versions(db.session)})
