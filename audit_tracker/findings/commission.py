"""The Commission Nationale de Labellisation's sessions (several a year) and their filing
deadlines, from the framework's ``rules.commission``: the known sessions as listed, the others
from an assumed pattern and marked so. One action puts a session and its deadline on the
campaign as milestones. Plain functions over a session; the caller commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from ..domain.errors import DomainError, flush_or_conflict
from ..models import Campaign, Framework, Milestone, MilestoneKind

# How far ahead the campaign page looks for sessions.
HORIZON = timedelta(days=550)


class CommissionError(DomainError):
    """Why a session could not be put on the campaign (French)."""


@dataclass(frozen=True)
class CommissionSession:
    on: date
    filing_deadline: date
    assumed: bool  # the session's date itself is assumed (not in the known list)
    deadline_assumed: bool
    note: str


def _day(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def commission_framework(campaign: Campaign) -> Framework | None:
    """The first of the campaign's frameworks that describes a commission."""
    return next((f for f in campaign.frameworks if (f.rules or {}).get("commission")), None)


def nth_weekday(year: int, month: int, weekday: int, week: int) -> date:
    """The ``week``-th ``weekday`` (0 = Monday) of the month: 3rd Thursday of May 2018 → 17/05."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


def sessions_between(framework: Framework, start: date, end: date) -> list[CommissionSession]:
    """The sessions from ``start`` to ``end``: the listed ones, and the pattern's for the months
    the list leaves empty."""
    rules = (framework.rules or {}).get("commission") or {}
    days_before = int(rules.get("filing_days_before") or 0)
    deadline_rule = str(rules.get("rule") or "")
    found: dict[tuple[int, int], CommissionSession] = {}
    for item in rules.get("sessions") or []:
        try:
            on = date.fromisoformat(str(item.get("day")))
        except ValueError:
            continue
        given = item.get("filing_deadline")
        deadline = date.fromisoformat(str(given)) if given else on - timedelta(days=days_before)
        note = _join(str(item.get("source") or ""), "" if given else deadline_rule)
        found[(on.year, on.month)] = CommissionSession(on, deadline, bool(item.get("assumed")),
                                                       not given, note)
    pattern = rules.get("pattern") or {}
    if pattern.get("months"):
        for year in range(start.year, end.year + 1):
            for month in pattern["months"]:
                if (year, int(month)) in found:
                    continue
                on = nth_weekday(year, int(month), int(pattern.get("weekday") or 0),
                                 int(pattern.get("week") or 1))
                found[(year, int(month))] = CommissionSession(
                    on, on - timedelta(days=days_before), True, True,
                    _join(str(pattern.get("rule") or ""), deadline_rule))
    return sorted((s for s in found.values() if start <= s.on <= end), key=lambda s: s.on)


def _join(*parts: str) -> str:
    return " ".join(p.strip() for p in parts if p and p.strip())


def _audit_end(campaign: Campaign) -> date | None:
    audits = [m for m in campaign.milestones if m.kind.is_certification_audit]
    return max((m.last_day for m in audits), default=None)


def upcoming_sessions(campaign: Campaign, today: date, count: int = 3) -> list[CommissionSession]:
    """The next sessions whose file can still be filed, after the campaign's last audit."""
    framework = commission_framework(campaign)
    if framework is None:
        return []
    floor = max(today, _audit_end(campaign) or today)
    return [s for s in sessions_between(framework, today, today + HORIZON)
            if s.filing_deadline >= floor][:count]


def planned_on(campaign: Campaign) -> date | None:
    """The session the campaign aims at: its commission milestone's day."""
    return next((m.starts_on for m in campaign.milestones
                 if m.kind is MilestoneKind.NATIONAL_COMMISSION), None)


def filing_title() -> str:
    return _("Dépôt du dossier pour la commission")


def plan_session(session: Session, campaign: Campaign, on: date, today: date) -> list[Milestone]:
    """The chosen session and its filing deadline as the campaign's milestones, moved if they
    are there already; a session whose file is due before the audit ends is refused."""
    framework = commission_framework(campaign)
    chosen = next((s for s in sessions_between(framework, on, on) if s.on == on), None) \
        if framework is not None else None
    if chosen is None:
        raise CommissionError(_("Aucune séance de la commission le %(day)s.", day=_day(on)))
    if chosen.filing_deadline < today:
        raise CommissionError(_("Le dossier de cette séance devait être déposé le %(day)s.",
                                day=_day(chosen.filing_deadline)))
    audit_end = _audit_end(campaign)
    if audit_end is not None and chosen.filing_deadline < audit_end:
        raise CommissionError(_("Le dossier de cette séance est attendu le %(deadline)s, avant "
                                "la fin de l’audit (%(end)s) : choisissez une séance suivante.",
                                deadline=_day(chosen.filing_deadline), end=_day(audit_end)))
    commission = next((m for m in campaign.milestones
                       if m.kind is MilestoneKind.NATIONAL_COMMISSION), None)
    if commission is None:
        commission = Milestone(kind=MilestoneKind.NATIONAL_COMMISSION,
                               title=MilestoneKind.NATIONAL_COMMISSION.label, starts_on=on)
        campaign.milestones.append(commission)
    commission.starts_on, commission.ends_on, commission.assumed = on, None, chosen.assumed
    if chosen.assumed:
        commission.notes = chosen.note
    title = filing_title()
    filing = next((m for m in campaign.milestones
                   if m.kind is MilestoneKind.OTHER and m.title == title), None)
    if filing is None:
        filing = Milestone(kind=MilestoneKind.OTHER, title=title, starts_on=chosen.filing_deadline)
        campaign.milestones.append(filing)
    filing.starts_on, filing.ends_on = chosen.filing_deadline, None
    filing.assumed = chosen.deadline_assumed
    filing.notes = _join(_("Séance du %(day)s.", day=_day(on)), chosen.note)
    flush_or_conflict(session)
    return [filing, commission]
