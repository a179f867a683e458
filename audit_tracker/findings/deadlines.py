"""Deadline rules: when a finding must be answered, computed from its type, its milestone's kind and
the scale's rules (docs/referentiel-format.md). Pure functions: no session, no clock.

- A finding of an **accompaniment** visit (visite conseil, pré-audit by the network) is due before
  the next certification audit, its first day minus the scale's margin, whatever its type; it
  never turns into a certification non-conformity.
- A finding of a **certification** audit (or of the commission) counts from the day the report
  was notified, or the audit's last day while that date is not known (and the deadline says so).
- An NC mineure with ``escalates_to`` still open on the next certification audit's first day is
  majeure from that day (``escalation``); several mineures on one audit may count as one majeure
  (``minors_as_majors``).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext

from ..models import FindingKind, FindingType, Milestone, MilestoneKind

ACCOMPANIMENT_KINDS = frozenset({MilestoneKind.ADVISORY_VISIT, MilestoneKind.PRE_AUDIT})


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, kept at the month's end when the day does not exist there:
    31 January + 1 month = 28 (or 29) February, as certifiers count."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def _int(value: Any, default: int | None = None) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True)
class ScaleRules:
    """The framework's ``rules`` that are not one finding type's, read once from its JSON."""

    margin_days: int = 1  # accompaniment findings: due this many days before the next audit
    margin_rule: str = ""
    minors_count: int | None = None  # « 5 NC mineures = 1 NC majeure »
    minors_type: str = ""
    minors_rule: str = ""
    raw: dict = field(default_factory=dict)

    @classmethod
    def of(cls, rules: dict | None) -> ScaleRules:
        rules = rules or {}
        accompaniment = rules.get("accompaniment") or {}
        minors = rules.get("minors_make_major") or {}
        return cls(
            margin_days=_int(accompaniment.get("margin_days"), 1) or 0,
            margin_rule=str(accompaniment.get("rule") or ""),
            minors_count=_int(minors.get("count")),
            minors_type=str(minors.get("type") or ""),
            minors_rule=str(minors.get("rule") or ""),
            raw=rules,
        )


@dataclass(frozen=True)
class Deadline:
    due_on: date | None
    verify_by: date | None
    explanation: str  # the rule that gave it, in words
    basis: str = ""  # from which date it counts, in words
    plan_due_on: date | None = None  # the action plan, within the certifier's delay
    counts_from: date | None = None
    short: str = ""  # the rule's name and its starting date, for a register's narrow column

    @property
    def exists(self) -> bool:
        return self.due_on is not None

    @property
    def summary(self) -> str:
        """The rule and the date it counts from, as shown beside every due date."""
        return " ".join(part for part in (self.explanation, self.basis) if part)


def is_accompaniment(milestone: Milestone) -> bool:
    return milestone.kind in ACCOMPANIMENT_KINDS


def counts_from(milestone: Milestone) -> tuple[date, str, str]:
    """The report's notification date, or the milestone's last day while it is not known; in
    words, long and short."""
    if milestone.report_notified_on is not None:
        day = _day(milestone.report_notified_on)
        return milestone.report_notified_on, _("Compté à partir de la notification du rapport, le "
                                           "%(day)s.", day=day), \
            _("depuis la notification du %(day)s", day=day)
    day = _day(milestone.last_day)
    return milestone.last_day, _("Compté à partir du dernier jour de l’audit (%(day)s), tant "
                                 "que la date de notification du rapport n’est pas connue.",
                                 day=day), \
        _("depuis le dernier jour de l’audit (%(day)s), notification inconnue", day=day)


def _has_answer(finding_type: FindingType) -> bool:
    """Types that call for an answer at all: not a strength nor a neutral remark."""
    return finding_type.kind not in {FindingKind.STRENGTH, FindingKind.NEUTRAL}


def compute_deadline(finding_type: FindingType, audit: Milestone,
                     next_audit: Milestone | None, rules: ScaleRules | None = None) -> Deadline:
    """Apply the rule of the milestone's kind and of the type to the milestone's dates."""
    rules = rules or ScaleRules()
    if is_accompaniment(audit) and _has_answer(finding_type):
        if next_audit is None:
            return Deadline(None, None, _("Constat d’une visite d’accompagnement : à traiter "
                                          "avant l’audit de certification, qui n’est pas "
                                          "encore planifié."))
        due = max(next_audit.starts_on - timedelta(days=rules.margin_days), audit.last_day)
        explanation = rules.margin_rule or finding_type.rule or _("Avant l’audit suivant.")
        basis = ngettext(
            "Compté à rebours du premier jour de l’audit (%(day)s) : %(num)s jour avant.",
            "Compté à rebours du premier jour de l’audit (%(day)s) : %(num)s jours avant.",
            rules.margin_days, day=_day(next_audit.starts_on))
        short = ngettext("Visite d’accompagnement · %(num)s jour avant l’audit du %(day)s",
                         "Visite d’accompagnement · %(num)s jours avant l’audit du %(day)s",
                         rules.margin_days, day=_day(next_audit.starts_on))
        return Deadline(due, None, explanation, basis, counts_from=next_audit.starts_on,
                        short=short)
    if finding_type.action_months:
        start, basis, since = counts_from(audit)
        due = add_months(start, finding_type.action_months)
        verify = add_months(due, finding_type.verify_months) if finding_type.verify_months \
            else None
        plan = start + timedelta(days=finding_type.plan_days) if finding_type.plan_days else None
        return Deadline(due, verify, finding_type.rule or ngettext(
            "%(num)s mois après l’audit du %(day)s.", "%(num)s mois après l’audit du %(day)s.",
            finding_type.action_months, day=_day(start)), basis, plan, start,
            f"{finding_type.label} · {since}")
    if finding_type.before_next_audit:
        if next_audit is None:
            return Deadline(None, None, _("À traiter avant l’audit suivant, qui n’est pas encore "
                                          "planifié."))
        # Answered the day before the next audit starts, so the auditor finds it done.
        due = date.fromordinal(next_audit.starts_on.toordinal() - 1)
        return Deadline(due, None, finding_type.rule or _("Avant l’audit suivant."),
                        _("Compté à partir du premier jour de l’audit suivant (%(day)s).",
                          day=_day(next_audit.starts_on)), counts_from=next_audit.starts_on,
                        short=_("%(type)s · veille de l’audit du %(day)s",
                                type=finding_type.label, day=_day(next_audit.starts_on)))
    return Deadline(None, None, finding_type.rule)


def next_audit_after(milestones: list[Milestone], milestone: Milestone) -> Milestone | None:
    """The first audit (initial or follow-up) that starts after ``milestone`` ends."""
    return next((m for m in sorted(milestones, key=lambda m: m.starts_on)
                 if m.kind.is_certification_audit and m.starts_on > milestone.last_day), None)


# ------------------------------------------------------------------------------------ escalation


@dataclass(frozen=True)
class Escalation:
    """An NC mineure that becomes majeure at the next certification audit."""

    on: date  # the next audit's first day
    to_label: str
    rule: str
    done: bool  # True from that day on

    @property
    def words(self) -> str:
        if self.done:
            return _("Devenue %(type)s le %(day)s (encore ouverte au premier jour de l’audit).",
                     type=self.to_label.lower(), day=_day(self.on))
        return _("Deviendra %(type)s le %(day)s si elle est encore ouverte.",
                 type=self.to_label.lower(), day=_day(self.on))


def escalation(finding_type: FindingType, milestone: Milestone, scale: Iterable[FindingType],
               next_audit: Milestone | None, still_open: bool, today: date) -> Escalation | None:
    """Whether this open finding escalates, and whether it already has (from the clock)."""
    if not still_open or not finding_type.escalates_to or is_accompaniment(milestone) \
            or next_audit is None:
        return None
    target = next((t for t in scale if t.code == finding_type.escalates_to), None)
    if target is None:
        return None
    return Escalation(next_audit.starts_on, target.label, finding_type.rule,
                      today >= next_audit.starts_on)


def minors_as_majors(type_codes: Iterable[str], rules: ScaleRules) -> int:
    """How many majeures the mineures of one audit count as (« 5 NC mineures = 1 majeure »)."""
    if not rules.minors_count:
        return 0
    minors = sum(1 for code in type_codes if code == rules.minors_type)
    return minors // rules.minors_count
