"""Plain dicts for the API; dates as ISO strings."""

from __future__ import annotations

from datetime import date

from flask import url_for

from ..campaigns.service import phase_of
from ..findings.cycle import cycle_line
from ..models import (
    Campaign,
    Criterion,
    Evidence,
    EvidenceLink,
    EvidenceVersion,
    Framework,
    Milestone,
)
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
        "assumed": m.assumed,
        "report_notified_on": _iso(m.report_notified_on),
        "decision": m.decision.value if m.decision else None,
        "conditions": m.conditions or "",
    }


def campaign(c: Campaign, today: date, with_milestones: bool) -> dict:
    data = {
        "id": c.id,
        "name": c.name,
        "school": c.school.short_name,
        "frameworks": [framework_ref(f) for f in c.frameworks],
        "certifying": c.certifying,
        "validity_end": _iso(cycle_line(c, today).expiry),
    }
    if with_milestones:
        data["milestones"] = [milestone(m, today) for m in c.milestones]
    return data


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def evidence_version(v: EvidenceVersion, downloadable: bool) -> dict:
    """``download_url`` is null when the reader may not download (personal data), as on the
    page, which then shows the file name without a link."""
    return {
        "number": v.number,
        "sha256": v.sha256,
        "size": v.size,
        "media_type": v.media_type,
        "filename": v.filename,
        "flags": list(v.flags or []),
        "uploaded_at": v.uploaded_at.isoformat(),
        "download_url": url_for("api.evidence_file", evidence_id=v.evidence_id, number=v.number)
        if downloadable
        else None,
    }


def evidence_link(link: EvidenceLink) -> dict:
    c = link.criterion
    return {
        "id": link.id,
        "criterion_id": c.id,
        "code": c.code,
        "framework": c.framework.code,
        "framework_version": c.framework.version,
        "note": link.note,
        "status": link.status.value,
    }


def evidence(e: Evidence, downloadable: bool) -> dict:
    return {
        "id": e.id,
        "title": e.title,
        "description": e.description,
        "kind": e.kind.value,
        "status": e.status.value,
        "site": e.site.code if e.site else None,
        "valid_until": _iso(e.valid_until),
        "covers_from": _iso(e.covers_from),
        "covers_to": _iso(e.covers_to),
        "personal_data": e.personal_data,
        "retention_until": _iso(e.retention_until),
        "url": e.url,
        "paper_location": e.paper_location,
        "paper_custodian": e.paper_custodian,
        "links": [evidence_link(link) for link in sorted(e.links, key=lambda link: link.id)],
        "versions": [evidence_version(v, downloadable) for v in e.versions],
    }


# --- findings and actions (api/findings.py) ---


def _person(user) -> dict | None:
    return {"email": user.email, "name": user.full_name} if user is not None else None


def finding(f) -> dict:
    """A ``Finding``, with the rule its deadline comes from (whatever was overridden)."""
    from ..findings.service import deadline_for

    t = f.finding_type
    return {
        "id": f.id,
        "reference": f.reference,
        "number": f.number,
        "campaign_id": f.milestone.campaign_id,
        "event": {"id": f.milestone.id, "kind": f.milestone.kind.value,
                  "title": f.milestone.title},
        "framework": f.framework.code,
        "type": {"code": t.code, "label": t.label, "kind": t.kind.value},
        "title": f.title,
        "description": f.description,
        "root_cause": f.root_cause,
        "response": f.response,
        "criteria": [{"id": c.id, "code": c.code} for c in f.criteria],
        "site": f.site.code if f.site else None,
        "status": f.status.value,
        "due_on": _iso(f.due_on),
        "verify_by": _iso(f.verify_by),
        "rule": deadline_for(f).summary,  # the rule and the date it counts from
        "override_reason": f.due_override_reason,
        "actions": [a.id for a in f.actions],
        "slot_id": f.slot_id,
        "slot": _slot(f.slot) if f.slot is not None else None,
        "lock_version": f.lock_version,
    }


def _slot(s) -> dict:
    """The programme slot a finding was seen at: when, where, what."""
    hours = s.starts_at.strftime("%H:%M") + (f"–{s.ends_at:%H:%M}" if s.ends_at else "")
    return {
        "id": s.id,
        "day": s.day.isoformat(),
        "starts_at": s.starts_at.strftime("%H:%M"),
        "ends_at": s.ends_at.strftime("%H:%M") if s.ends_at else None,
        "site": s.site.code if s.site else None,
        "topic": s.topic,
        "summary": f"{s.day:%d/%m/%Y} {hours} · {s.topic}",
    }


def action(a, today: date) -> dict:
    """An ``Action`` of the plan; ``days_late`` as of ``today``."""
    return {
        "id": a.id,
        "campaign_id": a.campaign_id,
        "title": a.title,
        "description": a.description,
        "owner": _person(a.owner),
        "site": a.site.code if a.site else None,
        "due_on": a.due_on.isoformat(),
        "status": a.status.value,
        "days_late": a.days_late(today),
        "done_on": _iso(a.done_on),
        "findings": [f.id for f in a.findings],
        "criteria": [{"id": c.id, "framework": c.framework.code, "code": c.code}
                     for c in a.criteria],
        "closing_evidence_id": a.closing_evidence_id,
        "verified_by": _person(a.verified_by),
        "verified_at": a.verified_at.isoformat() if a.verified_at else None,
        "verification_note": a.verification_note,
        "lock_version": a.lock_version,
    }
