"""Authentication (session for pages, bearer token for the API) and the permission gate."""

from __future__ import annotations

import hmac

from flask import (
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from ..clock import utcnow
from ..extensions import db, login_manager
from ..journal import service as journal
from ..journal.context import API, PAGE, Actor, set_request_actor
from ..models import ApiToken, User
from . import auditors, totp
from .permissions import Permission, has_permission

# Endpoints served by extensions, not by us: static files only.
_STATIC_ENDPOINTS = {"static", "bootstrap.static"}
# What a director or admin whose school requires TOTP may open before enrolling.
_ENROLMENT_ENDPOINTS = {"accounts.two_factor", "accounts.logout", "accounts.language"}


def is_api_request() -> bool:
    return request.blueprint == "api" or request.path.startswith("/api/")


def init_security(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.session_protection = "strong"
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)
    login_manager.unauthorized_handler(unauthorized)
    app.before_request(enforce_permissions)


def load_session_user(user_id: str) -> User | None:
    """The user of a page session or remember-me cookie, checked against the database on every
    request: the account's current session token (a logout or a new password changes it), its
    being active, and the login's age (REMEMBER_DAYS at most). The API never honours the cookie,
    so it needs no CSRF token."""
    if is_api_request():
        return None
    ident, _sep, rest = str(user_id).partition(":")
    token, _sep, stamp = rest.partition(":")
    if not (ident.isdigit() and len(ident) <= 9 and token and stamp.isdigit()
            and len(stamp) <= 12):
        return None  # an id from before revocable sessions, or forged: log in again
    # With the school (its two-factor rule, checked on every page of a director) and the site
    # (the page header): one statement for what every page reads of its user.
    user = db.session.get(User, int(ident),
                          options=[joinedload(User.school), joinedload(User.site)])
    if user is None or not user.is_active or not user.session_token:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    age = utcnow().timestamp() - int(stamp)
    if not -300 <= age <= current_app.config["REMEMBER_COOKIE_DURATION"].total_seconds():
        return None
    return user


def load_token_user(req) -> User | None:
    """The user behind ``Authorization: Bearer <token>``, for the API only."""
    if not is_api_request():
        return None
    scheme, _sep, token = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    row = db.session.execute(
        select(User, ApiToken.id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(ApiToken.token_hash == ApiToken.hash(token.strip()), ApiToken.revoked_at.is_(None),
               or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > utcnow()))
    ).first()
    if row is None or not row[0].is_active:
        return None
    g.api_token_id = row[1]  # the journal says which token acted
    return row[0]


def unauthorized():
    if is_api_request():
        message = _(
            "Authentification requise : fournissez un jeton d’API valide "
            "(en-tête Authorization: Bearer …)."
        )
        return jsonify(error=message), 401
    if "_user_id" in session:  # a session this server no longer honours
        for key in ("_user_id", "_fresh", "_id"):
            session.pop(key, None)
        flash(_("Votre session a pris fin (déconnexion, nouveau mot de passe ou durée "
                "dépassée) : veuillez vous reconnecter."), "warning")
    else:
        flash(_("Veuillez vous connecter."), "info")
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def request_actor() -> Actor:
    """Who acts in this request, for the journal: the user, the page or the API and its token,
    the client's address."""
    address = (request.remote_addr or "")[:64]
    origin = API if is_api_request() else PAGE
    if not current_user.is_authenticated:
        return Actor(origin=origin, address=address)
    return Actor(origin=origin, user_id=current_user.id, email=current_user.email,
                 school_id=current_user.school_id, token_id=g.get("api_token_id"),
                 address=address)


def enforce_permissions():
    """Refuse any request whose view is undeclared or needs a permission the user lacks."""
    endpoint = request.endpoint
    if endpoint is None or endpoint in _STATIC_ENDPOINTS:
        return None  # 404 or a static file
    view = current_app.view_functions[endpoint]
    set_request_actor(request_actor())
    permission = getattr(view, "required_permission", None)
    if permission is None:
        current_app.logger.error("View %s declares no permission: refused.", endpoint)
        abort(403)
    if permission is Permission.PUBLIC:
        return None
    if not current_user.is_authenticated:
        return unauthorized()
    if not has_permission(current_user, permission):
        abort(403)
    if current_user.is_invited_auditor:
        return _auditor_gate(endpoint)
    if endpoint not in _ENROLMENT_ENDPOINTS and not is_api_request() \
            and totp.must_enrol(current_user):
        flash(_("Votre école exige le double facteur pour votre compte : activez-le pour "
                "continuer."), "warning")
        return redirect(url_for("accounts.two_factor"))
    return None


def _auditor_gate(endpoint: str):
    """An invited auditor opens only the pages of what the school sends, of their campaign,
    never the API; each page read is journaled (and committed: the record must outlive the
    response)."""
    if is_api_request():
        return jsonify(error=_("Un auditeur invité n’a pas accès à l’API.")), 403
    if endpoint == "campaigns.index":
        return redirect(url_for("auditors.home"))
    if not auditors.may_open(current_user, endpoint, request.view_args or {}):
        abort(403)
    if request.method == "GET":
        journal.record_event(db.session, journal.PAGE_READ, table_name="campaign",
                             record_id=current_user.access_campaign_id,
                             school_id=current_user.school_id,
                             detail={"path": request.full_path.rstrip("?")[:500],
                                     "endpoint": endpoint})
        db.session.commit()
    return None
