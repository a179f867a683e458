"""Login, logout, language, and the admin's list of accounts."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..journal import service as journal
from ..journal.context import PAGE, Actor
from ..models import Role, User
from ..web.lookups import school_sites
from .forms import LanguageForm, LoginForm, UserForm
from .permissions import Permission, public, requires
from .service import AccountError, account_named, authenticate, create_user

bp = Blueprint("accounts", __name__)


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
    if current_user.is_authenticated:
        return redirect(url_for("campaigns.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            target = account_named(db.session, form.email.data or "")
            journal.record_event(db.session, journal.LOGIN_FAILED,
                                 table_name="user" if target else "",
                                 record_id=target.id if target else "",
                                 school_id=target.school_id if target else None,
                                 detail={"email": (form.email.data or "").strip()[:254]})
            db.session.commit()
            flash(_("Adresse e-mail ou mot de passe incorrect."), "danger")
        else:
            journal.record_event(db.session, journal.LOGIN, table_name="user", record_id=user.id,
                                 actor=Actor(origin=PAGE, user_id=user.id, email=user.email,
                                             school_id=user.school_id,
                                             address=(request.remote_addr or "")[:64]))
            db.session.commit()
            session.permanent = True
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
    return render_template("accounts/login.html", form=form)


@bp.route("/deconnexion", methods=["POST"])
@requires(Permission.READ)
def logout():
    journal.record_event(db.session, journal.LOGOUT, table_name="user", record_id=current_user.id)
    db.session.commit()
    logout_user()
    flash(_("Vous êtes déconnecté."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/langue", methods=["POST"])
@public
def language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.language.data
    return redirect(_safe_next(request.form.get("next")))


@bp.route("/comptes", methods=["GET", "POST"])
@requires(Permission.MANAGE_USERS)
def users():
    school = current_user.school
    form = UserForm()
    form.role.choices = [SelectChoice(r.value, r.label) for r in Role]
    sites = school_sites()
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
            return redirect(url_for("accounts.users"))
    accounts = db.session.scalars(
        select(User).where(User.school_id == school.id).order_by(User.role, User.email)
    )
    return render_template("accounts/users.html", form=form, accounts=list(accounts))
