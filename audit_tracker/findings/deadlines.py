"""Deadline rules: when a finding must be answered, computed from its type and its audit."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext

from ..models import FindingType, Milestone


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, kept at the month's end when the day does not exist there:
    31 January + 1 month = 28 (or 29) February, as certifiers count."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Deadline:
    due_on: date | None
    verify_by: date | None
    explanation: str  # the rule in words, with the dates it gives

    @property
    def exists(self) -> bool:
        return self.due_on is not None


def compute_deadline(finding_type: FindingType, audit: Milestone,
                     next_audit: Milestone | None) -> Deadline:
    """Apply the type's rule to the audit's last day (when the report is delivered)."""
    start = audit.last_day
    if finding_type.action_months:
        due = add_months(start, finding_type.action_months)
        verify = add_months(due, finding_type.verify_months) if finding_type.verify_months \
            else None
        return Deadline(due, verify, finding_type.rule or ngettext(
            "%(num)s mois après l’audit du %(day)s.", "%(num)s mois après l’audit du %(day)s.",
            finding_type.action_months, day=start.strftime("%d/%m/%Y")))
    if finding_type.before_next_audit:
        if next_audit is None:
            return Deadline(None, None, _("À traiter avant l’audit suivant, qui n’est pas encore "
                                          "planifié."))
        # Answered the day before the next audit starts, so the auditor finds it done.
        due = date.fromordinal(next_audit.starts_on.toordinal() - 1)
        return Deadline(due, None, finding_type.rule or _("Avant l’audit suivant."))
    return Deadline(None, None, finding_type.rule)


def next_audit_after(milestones: list[Milestone], milestone: Milestone) -> Milestone | None:
    """The first audit (initial or follow-up) that starts after ``milestone`` ends."""
    return next((m for m in sorted(milestones, key=lambda m: m.starts_on)
                 if m.kind.is_certification_audit and m.starts_on > milestone.last_day), None)
