"""The computed parts of a monthly note, as at a day: what the director used to retype.

Everything comes from the other areas' records (milestones and their findings, meetings, key
indicators and their targets), read as they stand at ``as_of``, and is returned as a JSON-ready
dict of display strings (plus the raw figures): the page, the PDF and the DOCX render the same
dict, and issuing a note freezes exactly it.
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import date, timedelta
from typing import Any

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..indicators.display import format_value
from ..indicators.service import INDICATORS, indicator_table
from ..models import (
    Campaign,
    Finding,
    Meeting,
    MeetingKind,
    Milestone,
    ProgressNote,
    Site,
)
from ..templating import percent

#: The annex's order of the bodies, as the source note lists them.
BODY_ORDER = (
    MeetingKind.FINANCE_SUBCOMMITTEE,
    MeetingKind.STRATEGY_COMMITTEE,
    MeetingKind.LOCAL_COMMITTEE,
    MeetingKind.TRAINEE_REVIEW,
    MeetingKind.OTHER,
)


def month_end(month: date) -> date:
    """The last day of ``month``'s month."""
    first_next = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first_next - timedelta(days=1)


def date_range(start: date, end: date | None) -> str:
    """« 24-26 avril 2018 », « 30 avril - 2 mai 2018 », « 17 mai 2018 »."""
    if end is None or end == start:
        return format_date(start, "d MMMM yyyy")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}-{format_date(end, 'd MMMM yyyy')}"
    if start.year == end.year:
        return f"{format_date(start, 'd MMMM')} - {format_date(end, 'd MMMM yyyy')}"
    return f"{format_date(start, 'd MMMM yyyy')} - {format_date(end, 'd MMMM yyyy')}"


def hours(meeting: Meeting) -> str:
    """« de 14:00 à 15:30 », « à 14:00 », or empty."""
    if meeting.starts_at and meeting.ends_at:
        return _("de %(start)s à %(end)s", start=meeting.starts_at.strftime("%H:%M"),
                 end=meeting.ends_at.strftime("%H:%M"))
    if meeting.starts_at:
        return _("à %(start)s", start=meeting.starts_at.strftime("%H:%M"))
    return ""


def site_label(site: Site | None) -> str | None:
    """« Site TPM » rather than « Site TPM (Toulon Provence Méditerranée) »: the note's table and
    annex are narrow, as in the source."""
    return site.name.split(" (")[0] if site is not None else None


def days_left(day: date, as_of: date) -> str:
    days = (day - as_of).days
    return ngettext("dans %(num)s jour", "dans %(num)s jours", days)


# ---------------------------------------------------------------------------------- the parts


def network_part(session: Session, campaign: Campaign, month: date, as_of: date) -> dict:
    """Milestones passed this month with their outcome; the next ones with their days left."""
    passed, coming = [], []
    for milestone in campaign.milestones:
        if month <= milestone.last_day <= as_of:
            passed.append(_passed(session, milestone))
        elif milestone.starts_on > as_of:
            days = (milestone.starts_on - as_of).days
            coming.append({
                "kind": milestone.kind.label,
                "title": milestone.title,
                "dates": date_range(milestone.starts_on, milestone.ends_on),
                "starts_on": milestone.starts_on.isoformat(),
                "days_left": days,
                "days_label": days_left(milestone.starts_on, as_of),
            })
    return {"passed": passed, "next": coming}


def _passed(session: Session, milestone: Milestone) -> dict:
    findings = list(session.scalars(
        select(Finding).where(Finding.milestone_id == milestone.id).order_by(Finding.number)
    ))
    by_type: OrderedDict[str, list[str]] = OrderedDict()
    for finding in sorted(findings, key=lambda f: (f.finding_type.position, f.number)):
        by_type.setdefault(finding.finding_type.label, []).append(finding.title)
    return {
        "kind": milestone.kind.label,
        "title": milestone.title,
        "dates": date_range(milestone.starts_on, milestone.ends_on),
        "outcome": milestone.notes,
        "decision": milestone.decision.label if milestone.decision else None,
        "findings": [{"type": kind, "titles": titles} for kind, titles in by_type.items()],
        "report": milestone.report_evidence_id is not None,
    }


def governance_part(campaign: Campaign, month: date, as_of: date) -> dict:
    """The meetings held this month: body, site, date, and whether their minutes are filed."""
    held = [
        {
            "body": meeting.kind.label,
            "title": meeting.title,
            "site": site_label(meeting.site),
            "date": format_date(meeting.held_on, "dd/MM/yyyy"),
            "minutes": meeting.minutes_evidence_id is not None,
        }
        for meeting in campaign.meetings
        if month <= meeting.held_on <= as_of
    ]
    return {"held": held}


def _figures(campaign: Campaign, as_of: date) -> dict[str, Any]:
    """The cumulated figures since each site opened, up to ``as_of``'s month."""
    table = indicator_table(campaign.school, end=as_of)
    qpv, without, positive = (INDICATORS[c] for c in
                              ("qpv_rate", "without_diploma_rate", "positive_exit_rate"))

    def cells(row) -> dict[str, str]:
        has = row.counts.months > 0
        return {
            "entries": str(row.counts.entries) if has else "—",
            "qpv": format_value(qpv, row["qpv_rate"].value) if has else "—",
            "companies": str(row.counts.host_companies) if has else "—",
            "positive": format_value(positive, row["positive_exit_rate"].value) if has else "—",
        }

    rows = [
        {
            "site": site_label(row.site),
            "opened": format_date(row.site.opened_on, "dd/MM/yy") if row.site.opened_on else "—",
            **cells(row),
        }
        for row in table.rows
    ]
    total = table.total
    if table.is_empty:
        total.counts.months = 0
    return {
        "table": table,
        "rows": rows,
        "total": {"site": _("Total"), "opened": "", **cells(total)},
        "empty": table.is_empty,
        "periods": table.periods,
        "raw": {
            **total.counts.as_dict(),
            "qpv_rate": total["qpv_rate"].value,
            "without_diploma_rate": total["without_diploma_rate"].value,
            "positive_exit_rate": total["positive_exit_rate"].value,
        },
        "targets": {code: total[code].target for code in ("qpv_rate", "without_diploma_rate")},
        "without_diploma": format_value(without, total["without_diploma_rate"].value),
    }


def sites_part(session: Session, campaign: Campaign, month: date, as_of: date,
               previous: ProgressNote | None) -> dict:
    """The source's « Informations clés » table, its footnotes and its bullets."""
    figures = _figures(campaign, as_of)
    raw = figures["raw"]
    bullets: list[str] = []
    if not figures["empty"]:
        bullets.append(_(
            "%(total)s sorties positives dont %(training)s en formation, %(employment)s en "
            "emploi, %(work_study)s en alternance", total=raw["positive_exits"],
            training=raw["exits_training"], employment=raw["exits_employment"],
            work_study=raw["exits_work_study"]))
        for code, sentence in (
            ("qpv_rate", _("%(value)s de stagiaires issus des QPV")),
            ("without_diploma_rate", _("%(value)s de non diplômés")),
        ):
            value = format_value(INDICATORS[code], raw[code])
            line = sentence % {"value": value}
            target = figures["targets"][code]
            if target is not None:
                line += " " + _("(objectif fixé par le réseau et financeurs : %(target)s)",
                                target=percent(target.value))
            bullets.append(line)
    change = _change(campaign, month, as_of, raw, previous)
    if change:
        bullets.append(change)
    month_has = month in figures["periods"]
    return {
        "title": _("Informations clés au %(day)s", day=format_date(as_of, "dd/MM/yyyy")),
        "columns": [_("Ouverture"), _("Stagiaires entrés¹"), _("QPV"),
                    _("Entreprises ayant reçu des stagiaires"), _("Sorties positives²")],
        "rows": figures["rows"],
        "total": figures["total"],
        "footnotes": [
            _("¹ Stagiaires entrés depuis l’ouverture du site concerné."),
            _("² Taux de sorties positives = sorties positives / total sorties ; sorties "
              "positives : formation qualifiante ou diplômante, emploi, alternance."),
        ],
        "bullets": bullets,
        "has_figures": not figures["empty"],
        "month_has_figures": month_has,
        "no_figures_message": None if month_has else _(
            "Aucun chiffre saisi pour %(month)s : le tableau reprend les cumuls enregistrés "
            "au %(day)s.", month=format_date(month, "MMMM yyyy"),
            day=format_date(as_of, "dd/MM/yyyy")),
        "figures": raw,
    }


def _change(campaign: Campaign, month: date, as_of: date, raw: dict,
            previous: ProgressNote | None) -> str | None:
    """« Depuis la note de janvier 2018 : +14 stagiaires entrés, … »: against the previous
    issued note's frozen figures, else against the previous month's end."""
    if previous is not None and previous.computed:
        before = previous.computed["sites"]["figures"]
        since = _("Depuis la note de %(month)s", month=format_date(previous.month, "MMMM yyyy"))
    else:
        previous_end = month - timedelta(days=1)
        before = _figures(campaign, previous_end)["raw"]
        if not before["entries"]:
            return None
        since = _("Depuis fin %(month)s", month=format_date(previous_end, "MMMM yyyy"))
    entries = raw["entries"] - before["entries"]
    positive = raw["positive_exits"] - before["positive_exits"]
    if not entries and not positive and all(
            round((raw.get(code) or 0) * 100) == round((before.get(code) or 0) * 100)
            for code in ("qpv_rate", "positive_exit_rate")):
        return f"{since} : " + _("aucune évolution des chiffres")
    parts = [
        ngettext("%(num)s stagiaire entré", "%(num)s stagiaires entrés", abs(entries))
        .replace(str(abs(entries)), _signed(entries), 1),
        ngettext("%(num)s sortie positive", "%(num)s sorties positives", abs(positive))
        .replace(str(abs(positive)), _signed(positive), 1),
    ]
    for code, label in (("qpv_rate", _("QPV")), ("positive_exit_rate", _("sorties positives"))):
        if raw.get(code) is not None and before.get(code) is not None:
            points = round(raw[code] * 100) - round(before[code] * 100)
            parts.append(_("%(label)s %(points)s pts", label=label, points=_signed(points)))
    return f"{since} : " + ", ".join(parts)


def _signed(number: int) -> str:
    return f"+{number}" if number > 0 else f"−{abs(number)}" if number < 0 else "±0"


def annex_part(campaign: Campaign, as_of: date) -> dict:
    """The coming meetings grouped by body, then by site, with their times."""
    groups: OrderedDict[MeetingKind, OrderedDict[str, list[Meeting]]] = OrderedDict(
        (kind, OrderedDict()) for kind in BODY_ORDER)
    for meeting in campaign.meetings:
        if meeting.held_on > as_of:
            site = site_label(meeting.site) or ""
            groups[meeting.kind].setdefault(site, []).append(meeting)
    bodies = []
    for kind, sites in groups.items():
        if not sites:
            continue
        bodies.append({
            "body": kind.label,
            "sites": [
                {
                    "site": site or None,
                    "hours": _shared_hours(meetings),
                    "dates": [
                        {"date": format_date(m.held_on, "dd/MM/yyyy"),
                         "long": format_date(m.held_on, "d MMMM yyyy"), "hours": hours(m),
                         "title": m.title}
                        for m in meetings
                    ],
                }
                for site, meetings in sorted(sites.items())
            ],
        })
    return {"title": _("Annexe : prochaines manifestations"), "bodies": bodies}


def _shared_hours(meetings: list[Meeting]) -> str:
    """The times all the meetings of a group share (the source prints them once), or empty."""
    shown = {hours(m) for m in meetings}
    return shown.pop() if len(shown) == 1 else ""


def compute(session: Session, campaign: Campaign, month: date, as_of: date,
            previous: ProgressNote | None = None) -> dict[str, Any]:
    """Every computed part of ``campaign``'s note for ``month`` as at ``as_of``."""
    return {
        "school": campaign.school.name,
        "month": f"{month:%Y-%m}",
        "month_label": format_date(month, "MMMM yyyy"),
        "as_of": as_of.isoformat(),
        "as_of_label": format_date(as_of, "dd/MM/yyyy"),
        "network": network_part(session, campaign, month, as_of),
        "governance": governance_part(campaign, month, as_of),
        "sites": sites_part(session, campaign, month, as_of, previous),
        "annex": annex_part(campaign, as_of),
    }
