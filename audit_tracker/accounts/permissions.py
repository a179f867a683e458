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
    EDIT_EVIDENCE = "edit_evidence"  # upload proofs, new versions, links (site: own site only)
    REVIEW_EVIDENCE = "review_evidence"  # validate or refuse a proof; verify an action's effect
    EDIT_FINDINGS = "edit_findings"  # record findings, plan actions, governance meetings
    UPDATE_ACTIONS = "update_actions"  # move an action along (site: their own or their site's)
    IMPORT_FRAMEWORK = "import_referentiel"  # add frameworks shared by the whole network
    EDIT_INDICATORS = "edit_indicators"  # key indicators: counts and targets (site: own site)
    BUILD_DOSSIER = "build_dossier"  # build the evidence dossier (PDF and ZIP) for the auditor
    SIGN_OFF = "sign_off"  # sign the readiness at a date: the director's call alone
    EDIT_SCHOOL = "edit_school"  # the school's presentation: the director and the quality lead
    # The référentiels the school follows (its campaigns' default): the director's call, and the
    # platform admin's for any school
    CHOOSE_REFERENTIELS = "choose_referentiels"
    PREPARE_NOTE = "prepare_note"  # prepare and edit the monthly progress note's drafts
    ISSUE_NOTE = "issue_note"  # issue the monthly progress note: the director's call alone
    MANAGE_USERS = "manage_users"
    MANAGE_SCHOOLS = "manage_schools"  # create the network's schools (the platform admin)
    VIEW_NETWORK = "view_network"  # every school's campaigns on one page (référent réseau)
    # The findings of the visites conseil and pré-audits the référent leads, in any school
    RECORD_NETWORK_FINDINGS = "record_network_findings"
    VIEW_HISTORY = "view_history"  # a record's « Historique »: who changed what, when
    READ_JOURNAL = "read_journal"  # the whole journal, its filters and its CSV export
    ERASE_EVIDENCE = "erase_evidence"  # erase a proof or a version for good: the director's call
    INVITE_AUDITOR = "invite_auditor"  # invite an auditor for one campaign, end their access


_EVERYONE = {Permission.PUBLIC, Permission.READ}

_QUALITY_WORK = {
    Permission.VIEW_HISTORY,
    Permission.EDIT_CAMPAIGN,
    Permission.EDIT_INDICATORS,
    Permission.BUILD_DOSSIER,
    Permission.EDIT_EVIDENCE,
    Permission.REVIEW_EVIDENCE,
    Permission.EDIT_FINDINGS,
    Permission.UPDATE_ACTIONS,
    Permission.INVITE_AUDITOR,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    # The platform admin runs accounts and référentiels; judging a school's proofs and signing
    # its readiness are the quality lead's and the director's calls, so not the admin's.
    # How the school presents itself (legal entity, governance, funders) is the school's word;
    # the monthly note is the director's word to the school's bodies: the admin reads it issued.
    Role.ADMIN: frozenset(set(Permission) - {Permission.REVIEW_EVIDENCE, Permission.SIGN_OFF,
                                             Permission.EDIT_SCHOOL, Permission.PREPARE_NOTE,
                                             Permission.ISSUE_NOTE,
                                             Permission.ERASE_EVIDENCE}),
    Role.DIRECTOR: frozenset(_EVERYONE | _QUALITY_WORK | {Permission.SIGN_OFF,
                                                          Permission.EDIT_SCHOOL,
                                                          Permission.CHOOSE_REFERENTIELS,
                                                          Permission.PREPARE_NOTE,
                                                          Permission.ISSUE_NOTE,
                                                          Permission.READ_JOURNAL,
                                                          Permission.ERASE_EVIDENCE}),
    Role.QUALITY_LEAD: frozenset(_EVERYONE | _QUALITY_WORK | {Permission.EDIT_SCHOOL,
                                                              Permission.PREPARE_NOTE}),
    Role.SITE_MANAGER: frozenset(
        _EVERYONE
        | {Permission.EDIT_EVIDENCE, Permission.UPDATE_ACTIONS, Permission.EDIT_INDICATORS}
    ),
    Role.AUDITOR: frozenset(_EVERYONE),
    # The network's référent reads every school's state on the network page; in a school it
    # reads like an auditor, never edits proofs; it records the findings of the visites conseil
    # and pré-audits it leads.
    Role.NETWORK_REFERENT: frozenset(_EVERYONE | {Permission.VIEW_NETWORK,
                                                  Permission.RECORD_NETWORK_FINDINGS}),
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
