"""Who may do what. Every view declares one permission; a view that declares none is refused.

The check itself runs once, in ``enforce_permissions`` (a ``before_request`` hook), so a new route
cannot forget it: the permission-matrix test walks the URL map and fails on any undeclared view.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TypeVar

from ..models import Role, User


class Permission(enum.StrEnum):
    PUBLIC = "public"  # login page, static files: no account needed
    READ = "read"  # the school's campaigns, référentiels, proofs (read-only)
    EDIT_CAMPAIGN = "edit_campaign"  # campaigns, milestones, meetings
    IMPORT_REFERENTIEL = "import_referentiel"  # add frameworks shared by the whole network
    MANAGE_USERS = "manage_users"


_EVERYONE = {Permission.PUBLIC, Permission.READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.DIRECTION: frozenset(_EVERYONE | {Permission.EDIT_CAMPAIGN}),
    Role.QUALITE: frozenset(_EVERYONE | {Permission.EDIT_CAMPAIGN}),
    Role.SITE: frozenset(_EVERYONE),
    Role.AUDITEUR: frozenset(_EVERYONE),
}

F = TypeVar("F", bound=Callable)


def requires(permission: Permission) -> Callable[[F], F]:
    """Declare the permission a view needs; ``enforce_permissions`` checks it."""

    def mark(view: F) -> F:
        view.required_permission = permission  # type: ignore[attr-defined]
        return view

    return mark


def public(view: F) -> F:
    """Declare a view open without an account (the login page)."""
    return requires(Permission.PUBLIC)(view)


def has_permission(user: User | None, permission: Permission) -> bool:
    """True when ``user`` (None for an anonymous visitor) holds ``permission``."""
    if permission is Permission.PUBLIC:
        return True
    if user is None or not user.is_active:
        return False
    return permission in ROLE_PERMISSIONS[user.role]
