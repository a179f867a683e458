"""What an invited auditor may open: a short list of pages, all of their one campaign.

Checked by the permission gate (``security.enforce_permissions``) on every request, so a page
that is not listed here is refused to them whatever it would show: the rule is « only what the
school sends », and new pages start outside it.
"""

from __future__ import annotations

from typing import Any

from ..models import User

# The pages an invited auditor reads; every other endpoint answers 403 for them.
AUDITOR_ENDPOINTS = frozenset({
    "accounts.logout",
    "accounts.language",
    "accounts.password",
    "auditors.home",
    "auditors.proof",
    "calendar.subscription",  # their feed: the programme of their campaign's audits, nothing else
    "evidence.download",
    "evidence.preview",
    "dossier.download_pdf",
})


def may_open(user: User, endpoint: str, view_args: dict[str, Any]) -> bool:
    """True when an invited auditor may open ``endpoint`` with these URL arguments: a listed
    page, and if it names a campaign, theirs."""
    if endpoint not in AUDITOR_ENDPOINTS:
        return False
    campaign_id = view_args.get("campaign_id")
    return campaign_id is None or campaign_id == user.access_campaign_id
