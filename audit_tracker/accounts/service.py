"""Account services: authenticate, create users."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from email.message import EmailMessage

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import as_utc
from ..models import ApiToken, Role, School, Site, User
from ..models.base import utcnow
from .passwords import WeakPassword, check_password_rule

# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY = User(email="", full_name="", role=Role.AUDITOR)
_DUMMY.set_password("not-a-real-password")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost whether the e-mail exists)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        _DUMMY.check_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    user.last_login_at = utcnow()
    if not user.session_token:  # the first login since the account was made or upgraded
        user.end_sessions()
    return user


def account_named(session: Session, email: str) -> User | None:
    """The account an e-mail names, active or not (to file a refused login under it)."""
    return session.scalar(select(User).where(User.email == email.strip().lower()))


class AccountError(ValueError):
    """A user-facing reason why an account cannot be created."""


def create_user(
    session: Session,
    school: School,
    email: str,
    full_name: str,
    role: Role,
    password: str,
    site: Site | None = None,
) -> User:
    email = email.strip().lower()
    if session.scalar(select(User.id).where(User.email == email)):
        raise AccountError("email_taken")
    if role is Role.SITE_MANAGER and site is None:
        raise AccountError("site_required")
    if site is not None and site.school_id != school.id:
        raise AccountError("site_of_other_school")
    user = User(
        email=email,
        full_name=full_name.strip(),
        role=role,
        school=school,
        site=site if role is Role.SITE_MANAGER else None,
    )
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def user_for_link(session: Session, token: str, now: datetime) -> User | None:
    """The account a password link names, if the link is still valid (one use, a deadline)."""
    if not token or len(token) > 100:
        return None
    user = session.scalar(select(User).where(User.password_link_hash == _link_hash(token)))
    if user is None or user.password_link_expires_at is None:
        return None
    if as_utc(user.password_link_expires_at) <= now or not user.active:
        return None
    return user


def set_password_from_link(session: Session, token: str, password: str, now: datetime) -> User:
    """Set the password a valid link allows, then spend the link; ``AccountError`` otherwise."""
    user = user_for_link(session, token, now)
    if user is None:
        raise AccountError("link_invalid")
    check_password_rule(password, user.email)
    user.set_password(password)
    user.password_link_hash = None
    user.password_link_expires_at = None
    session.flush()
    return user


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """A user changes their password: the current one first; every other session ends."""
    if not user.check_password(current):
        raise WeakPassword(_("Le mot de passe actuel est incorrect."))
    check_password_rule(new, user.email)
    user.set_password(new)
    session.flush()


def _link_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


RESET_LINK_HOURS = 24


def update_account(session: Session, admin: User, user: User, role: Role, active: bool,
                   site: Site | None) -> None:
    """The admin changes an account's role or (de)activates it; a change ends its sessions.
    An admin cannot shut themselves out, and a site manager needs a site of their school."""
    if user.id == admin.id and (not active or role is not Role.ADMIN):
        raise AccountError("self")
    if role is Role.SITE_MANAGER and site is None:
        raise AccountError("site_required")
    if site is not None and site.school_id != user.school_id:
        raise AccountError("site_of_other_school")
    changed = user.role is not role or user.active != active
    user.role = role
    user.site = site if role is Role.SITE_MANAGER else None
    user.active = active
    if changed:
        user.end_sessions()
    session.flush()


def issue_reset_link(session: Session, user: User, now: datetime) -> str:
    """A one-use link for ``user`` to choose a new password (valid RESET_LINK_HOURS); the old
    password keeps working until the link is used."""
    if not user.active:
        raise AccountError("inactive")
    token = user.issue_password_link(now + timedelta(hours=RESET_LINK_HOURS))
    session.flush()
    return token


def reset_message(user: User, link: str, sender: str) -> EmailMessage:
    """The reset link's e-mail, plain text in French, in the invitation's style."""
    message = EmailMessage()
    message["Subject"] = "Réinitialisation de votre mot de passe"
    message["From"] = sender
    message["To"] = user.email
    message.set_content(
        f"Bonjour {user.full_name},\n\nL’administrateur de votre école a émis un lien pour "
        f"choisir un nouveau mot de passe pour le compte {user.email}.\nOuvrez-le (valable "
        f"{RESET_LINK_HOURS} heures, une seule fois) :\n\n{link}\n\nVotre mot de passe "
        f"actuel reste valable tant que le lien n’a pas servi. Si vous n’avez rien demandé, "
        f"prévenez l’administrateur.\n")
    return message


def api_tokens_of(session: Session, user: User) -> list[ApiToken]:
    """The user's API tokens, the newest first, revoked and expired ones included."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


MAX_TOKEN_DAYS = 365


def issue_api_token(session: Session, user: User, label: str, days: int,
                    now: datetime) -> str:
    """A new API token of ``user`` that expires after ``days`` (1 to 365); the clear token is
    returned once, only its hash is kept."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError("token_days")
    token, clear = ApiToken.issue(user, label.strip()[:120])
    token.expires_at = now + timedelta(days=days)
    session.add(token)
    session.flush()
    return clear


def revoke_api_token(session: Session, user: User, token_id: int, now: datetime) -> ApiToken:
    """Revoke one of the user's own tokens (someone else's is refused as unknown)."""
    token = session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id:
        raise AccountError("token_unknown")
    if token.revoked_at is None:
        token.revoked_at = now
    session.flush()
    return token
