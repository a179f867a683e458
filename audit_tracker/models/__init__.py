"""Every model, importable from one place (and all registered before Alembic compares)."""

from .accounts import ROLE_LABELS, ApiToken, Role, User
from .campaign import (
    MEETING_KIND_LABELS,
    MILESTONE_KIND_LABELS,
    Campaign,
    Meeting,
    MeetingKind,
    Milestone,
    MilestoneKind,
    campaign_framework,
)
from .referentiel import (
    Criterion,
    CriterionMapping,
    FindingKind,
    FindingType,
    Framework,
    FrameworkCategory,
    Section,
)
from .school import School, Site

__all__ = [
    "ROLE_LABELS",
    "MEETING_KIND_LABELS",
    "MILESTONE_KIND_LABELS",
    "ApiToken",
    "Campaign",
    "Criterion",
    "CriterionMapping",
    "FindingKind",
    "FindingType",
    "Framework",
    "FrameworkCategory",
    "Meeting",
    "MeetingKind",
    "Milestone",
    "MilestoneKind",
    "Role",
    "School",
    "Section",
    "Site",
    "User",
    "campaign_framework",
]
