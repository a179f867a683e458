"""The views' side of re-authentication before signing: when this browser last proved who it
is (kept in the signed session cookie), and the form's password and code checked in place."""

from __future__ import annotations

from flask import current_app, request, session
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts import reauth, throttle
from ..accounts.forms import ReauthForm
from ..clock import utcnow
from ..extensions import db

AUTHENTICATED_AT = "authenticated_at"


def mark_authenticated() -> None:
    """A login, or a re-authentication, just proved who uses this browser."""
    session[AUTHENTICATED_AT] = int(utcnow().timestamp())


def recently_authenticated() -> bool:
    """Whether the form may spare the password: proved less than five minutes ago."""
    return reauth.is_recent(session.get(AUTHENTICATED_AT), utcnow())


def identity_confirmed(form: ReauthForm, purpose: str) -> bool:
    """True when the person authenticated recently or typed the right password (and code);
    otherwise the error sits on the field, the failure is journaled and committed, and the
    caller signs nothing."""
    password, code = form.reauth_password.data or "", form.reauth_code.data or ""
    if recently_authenticated() and not password:
        return True
    now, address = utcnow(), (request.remote_addr or "")[:64]
    # The login's brake holds here too: a session must not become a way to guess the password.
    if throttle.blocked_until(db.session, current_user.email, address, now) is not None:
        form.reauth_password.errors = [*form.reauth_password.errors, _(
            "Trop de tentatives infructueuses : réessayez dans quelques minutes.")]
        return False
    try:
        reauth.confirm(db.session, current_user, password, code, now, purpose)
    except reauth.ReauthError as error:
        if password:
            throttle.record_failure(db.session, current_user.email, address, now,
                                    throttle.limits_from(current_app.config))
        db.session.commit()  # the refusal stays in the journal; nothing was signed
        field = form.reauth_code if error.field == "code" else form.reauth_password
        field.errors = [*field.errors, str(error)]
        return False
    mark_authenticated()
    return True
