"""Account services: authenticate, create users."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Role, School, Site, User
from ..models.base import utcnow

# Checked against when the e-mail is unknown, so both failures take the same time.
_DUMMY = User(email="", full_name="", role=Role.AUDITOR)
_DUMMY.set_password("not-a-real-password")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost whether the e-mail exists)."""
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        _DUMMY.check_password(password)
        return None
    if not user.check_password(password) or not user.active:
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
