"""Login, logout, language, and the admin's list of accounts."""

from __future__ import annotations

import math
from datetime import timedelta
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

from ..clock import utcnow
from ..extensions import db
from ..journal import service as journal
from ..journal.context import PAGE, Actor
from ..models import Role, School, Site, User
from ..templating import render_markdown
from . import throttle
from .forms import LanguageForm, LoginForm, SchoolForm, UserForm
from .permissions import Permission, public, requires
from .schools import NewSchool, SchoolError, create_school, parse_sites, schools_overview
from .service import AccountError, account_named, authenticate, create_user

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
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


def _limits() -> throttle.Limits:
    config = current_app.config
    return throttle.Limits(
        per_account=int(config["LOGIN_MAX_FAILURES"]),
        per_address=int(config["LOGIN_MAX_FAILURES_PER_ADDRESS"]),
        window=timedelta(minutes=int(config["LOGIN_WINDOW_MINUTES"])),
        block=timedelta(minutes=int(config["LOGIN_BLOCK_MINUTES"])))


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
    school = current_user.school
    chosen = request.args.get("ecole", type=int)
    if chosen is not None and chosen != school.id:
        # The platform admin runs every school's accounts (a new school's first ones too).
        school = db.session.get(School, chosen) if 0 < chosen <= MAX_ID else None
        if school is None:
            abort(404)
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
    return render_template("accounts/users.html", form=form, accounts=list(accounts),
                           school=school)


@bp.route("/ecoles", methods=["GET", "POST"])
@requires(Permission.MANAGE_SCHOOLS)
def schools():
    """The network's schools; a new one with its sites and its director's account."""
    form = SchoolForm()
    created = None
    if form.validate_on_submit():
        try:
            created = create_school(db.session, NewSchool(
                name=form.name.data, short_name=form.short_name.data, city=form.city.data or "",
                sites=parse_sites(form.sites.data), director_email=form.director_email.data,
                director_name=form.director_name.data or ""))
        except SchoolError as error:
            db.session.rollback()
            flash(str(error), "danger")
        else:
            db.session.commit()
            # Rendered, not redirected: the password is shown once and never put in the session.
            form = SchoolForm(formdata=None)
    return render_template("accounts/schools.html", form=form, created=created,
                           schools=schools_overview(db.session))
