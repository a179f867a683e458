"""The password rule: at least 12 characters, not one of the common ones (a small data file)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from flask_babel import gettext as _

from ..domain.errors import DomainError

MIN_LENGTH = 12
MAX_LENGTH = 200
_COMMON = Path(__file__).with_name("data") / "common-passwords.txt"


class WeakPassword(DomainError):
    """A password the rule refuses (French message)."""


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, lower case; read once."""
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines
                     if line.strip() and not line.startswith("#"))


def check_password_rule(password: str, email: str = "") -> None:
    """Raise ``WeakPassword`` unless ``password`` is long enough and not a common one."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(_("Le mot de passe doit compter au moins %(num)s caractères.",
                             num=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        raise WeakPassword(_("Le mot de passe ne peut dépasser %(num)s caractères.",
                             num=MAX_LENGTH))
    lowered = password.strip().lower()
    local_part = email.partition("@")[0].lower()
    if lowered in common_passwords() or (local_part and lowered.startswith(local_part)
                                         and len(local_part) >= 4):
        raise WeakPassword(_("Ce mot de passe est trop courant ou trop proche de votre adresse : "
                             "choisissez-en un autre."))
