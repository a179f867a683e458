"""Re-authentication before a signature: the password typed again (and the TOTP code of an
account that has one), so that a session left open on a desk cannot sign in the director's name.

A login or a re-authentication less than ``RECENT`` ago spares it: the person has just proved
who they are at this keyboard, and asking again within minutes adds friction, not proof (a
stolen cookie is old by the time it is used; five minutes bounds that window).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..journal import service as journal
from ..models import User
from . import totp

RECENT = timedelta(minutes=5)


class ReauthError(DomainError):
    """The password or the code did not confirm who signs; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def is_recent(authenticated_at: object, now: datetime) -> bool:
    """Whether ``authenticated_at`` (a UNIX time) lies less than ``RECENT`` before ``now``."""
    if not isinstance(authenticated_at, int | float):
        return False
    age = now.timestamp() - float(authenticated_at)
    return 0 <= age < RECENT.total_seconds()


def confirm(session: Session, user: User, password: str, code: str, now: datetime,
            purpose: str) -> None:
    """Check the password and, for an account with TOTP, the code; a failure is journaled in
    the caller's transaction (which commits it though nothing else is done)."""
    if not password:
        error = ReauthError("password", _("Ressaisissez votre mot de passe pour signer."))
    elif not user.check_password(password):
        error = ReauthError("password", _("Mot de passe incorrect : rien n’a été signé."))
    elif user.totp_secret and not totp.code_matches(user.totp_secret, code or "", now):
        error = ReauthError("code", _("Code incorrect : rien n’a été signé."))
    else:
        return
    journal.record_event(session, journal.REAUTH_FAILED, table_name="user", record_id=user.id,
                         detail={"purpose": purpose, "factor": error.field})
    session.flush()
    raise error
