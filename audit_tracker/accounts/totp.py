"""A second factor for the accounts that sign and administer: TOTP (RFC 6238) with pyotp.

The direction and the admin may turn it on from *Double facteur*; once on, a login asks for the
six-digit code of their authenticator app after the password. A school may require it
(``School.require_totp``): then a director or admin without it is sent to enrol at their next
login and may open nothing else until they have.
"""

from __future__ import annotations

from datetime import datetime

import pyotp
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..domain.errors import DomainError
from ..models import Role, School, User

TOTP_ROLES = frozenset({Role.DIRECTOR, Role.ADMIN})
ISSUER = "audit_tracker"


class TotpError(DomainError):
    """A code or a request the second factor refuses (French message)."""


def may_use(user: User) -> bool:
    """Only the accounts that sign or administer get a second factor."""
    return user.role in TOTP_ROLES


def required_for(user: User) -> bool:
    """Whether the person's school requires the second factor of them (direction, admin)."""
    return may_use(user) and bool(user.school.require_totp)


def must_enrol(user: User) -> bool:
    """Required of them but not turned on yet: they may do nothing else until they do."""
    return required_for(user) and not user.totp_secret


def set_required(session: Session, school: School, required: bool) -> None:
    """The admin makes the second factor compulsory (or optional again) for the school."""
    school.require_totp = required
    session.flush()


def new_secret() -> str:
    """A fresh base32 secret, kept in the person's session until they confirm a first code."""
    return pyotp.random_base32()


def provisioning_uri(user: User, secret: str) -> str:
    """The ``otpauth://`` address an authenticator app reads (typed or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def code_matches(secret: str, code: str, now: datetime) -> bool:
    """Whether ``code`` is the current one (or the one just before or after: clocks drift)."""
    code = "".join(code.split())
    if not (code.isdigit() and len(code) == 6):
        return False
    return bool(pyotp.TOTP(secret).verify(code, for_time=now, valid_window=1))


def enable(session: Session, user: User, secret: str, code: str, now: datetime) -> None:
    """Turn the second factor on once the person proved their app gives the right code."""
    if not may_use(user):
        raise TotpError(_("Le double facteur est réservé à la direction et à l’administrateur."))
    if not code_matches(secret, code, now):
        raise TotpError(_("Code incorrect : vérifiez l’heure de votre téléphone et réessayez."))
    user.totp_secret = secret
    user.end_sessions()
    session.flush()


def disable(session: Session, user: User, password: str) -> None:
    """Turn it off: the password is asked again."""
    if required_for(user):
        raise TotpError(_("Votre école rend le double facteur obligatoire : il ne peut pas être "
                          "désactivé."))
    if not user.check_password(password):
        raise TotpError(_("Le mot de passe actuel est incorrect."))
    user.totp_secret = None
    user.end_sessions()
    session.flush()
