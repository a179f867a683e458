"""Plain dicts for the API; dates as ISO strings."""

from __future__ import annotations

from datetime import date

from ..campaigns.service import phase_of
from ..models import Campaign, Criterion, Framework, Milestone
from ..referentiel.service import FrameworkSummary


def framework_summary(summary: FrameworkSummary, latest: bool) -> dict:
    f = summary.framework
    return {
        "id": f.id,
        "code": f.code,
        "name": f.name,
        "version": f.version,
        "provisional": f.provisional,
        "latest": latest,
        "cycle_years": f.cycle_years,
        "criteria_count": summary.criteria_count,
        "indispensable_count": summary.indispensable_count,
    }


def criterion(c: Criterion) -> dict:
    return {
        "id": c.id,
        "code": c.code,
        "title": c.title,
        "section": c.section.code,
        "section_title": c.section.title,
        "indispensable": c.indispensable,
        "applies_to": c.applies_to or [],
        "finding_types": c.finding_types,
    }


def framework_ref(f: Framework) -> dict:
    return {"id": f.id, "code": f.code, "version": f.version, "provisional": f.provisional}


def milestone(m: Milestone, today: date) -> dict:
    phase, days_left = phase_of(m, today)
    return {
        "id": m.id,
        "kind": m.kind.value,
        "title": m.title,
        "start": m.starts_on.isoformat(),
        "end": (m.ends_on or m.starts_on).isoformat(),
        "place": m.place,
        "phase": phase.value,
        "days_left": days_left,
    }


def campaign(c: Campaign, today: date, with_milestones: bool) -> dict:
    data = {
        "id": c.id,
        "name": c.name,
        "school": c.school.short_name,
        "frameworks": [framework_ref(f) for f in c.frameworks],
    }
    if with_milestones:
        data["milestones"] = [milestone(m, today) for m in c.milestones]
    return data
