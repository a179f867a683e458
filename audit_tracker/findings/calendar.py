"""The calendar: milestones, action and finding due dates, meetings and proof expiries as one list
of dated entries, shown as a month grid, a list, and an iCalendar feed (RFC 5545).

Everything that is a day is an all-day event; only a meeting with a start time is timed, in the
school's time zone (Europe/Paris), so Outlook or Thunderbird show it at 14:00 in Paris whatever
the season or the reader's own zone. UIDs are derived from the row ids, so a client that refreshes
the feed updates its events instead of duplicating them.
"""

from __future__ import annotations

import base64
import enum
import hmac
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard
from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from ..clock import local_today, utcnow
from ..evidence.service import visible_to
from ..models import (
    Action,
    ActionStatus,
    AuditSlot,
    Campaign,
    Evidence,
    Finding,
    FindingStatus,
    Meeting,
    Milestone,
    ReviewStatus,
    Role,
    User,
)

UID_DOMAIN = "audit-tracker"
PRODID = "-//audit_tracker//Calendrier de labellisation E2C//FR"
PARIS = "Europe/Paris"

# The personal feed and the API cover a year back and four ahead: a whole label cycle.
FEED_PAST = timedelta(days=365)
FEED_FUTURE = timedelta(days=4 * 366)
# What secrets.token_urlsafe(32) gives; anything else is not looked up at all.
_FEED_TOKEN = re.compile(r"([1-9][0-9]{0,8})-[A-Za-z0-9_-]{43}")  # <user id>-<HMAC-SHA256>

_UNFINISHED = (ActionStatus.TODO, ActionStatus.IN_PROGRESS)
_OPEN_FINDING = (FindingStatus.OPEN, FindingStatus.IN_PROGRESS)


class EntryKind(enum.StrEnum):
    MILESTONE = "echeance"
    MEETING = "instance"
    ACTION = "action"
    FINDING = "constat"
    EXPIRY = "validite"
    SLOT = "creneau"

    @property
    def label(self) -> str:
        return str(ENTRY_KIND_LABELS[self])

    @property
    def colour(self) -> str:
        """The Bootstrap badge colour of the kind on the month grid and the list."""
        return ENTRY_KIND_COLOURS[self]


ENTRY_KIND_LABELS = {
    EntryKind.MILESTONE: _l("Échéance de la campagne"),
    EntryKind.MEETING: _l("Instance"),
    EntryKind.ACTION: _l("Échéance d’action"),
    EntryKind.FINDING: _l("Échéance de constat"),
    EntryKind.EXPIRY: _l("Fin de validité d’une preuve"),
    EntryKind.SLOT: _l("Créneau d’audit"),
}

ENTRY_KIND_COLOURS = {
    EntryKind.MILESTONE: "primary",
    EntryKind.MEETING: "success",
    EntryKind.ACTION: "warning",
    EntryKind.FINDING: "info",
    EntryKind.EXPIRY: "secondary",
    EntryKind.SLOT: "danger",
}

_KIND_ORDER = {kind: index for index, kind in enumerate(EntryKind)}


@dataclass(frozen=True)
class CalendarEntry:
    """One dated thing. ``start``/``end`` are days (``end`` inclusive); a timed meeting also has
    ``starts_at`` (and ``ends_at`` when known), aware datetimes in the school's time zone."""

    uid: str
    kind: EntryKind
    title: str
    start: date
    end: date
    url: str  # a path of this site; made absolute for the feed
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    site: str = ""
    location: str = ""
    campaign: str = ""
    description: str = ""
    extra: str = ""  # « en retard de 3 jours », « expirée »: what calls for attention
    late: bool = False

    @property
    def all_day(self) -> bool:
        return self.starts_at is None

    @property
    def anchor(self) -> str:
        """The HTML id of the entry on the calendar pages (``action-12``)."""
        return self.uid.split("@", 1)[0]

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end

    @property
    def sort_key(self) -> tuple:
        return (self.start, self.starts_at.time() if self.starts_at else time.min,
                _KIND_ORDER[self.kind], self.title, self.uid)


def _uid(name: str, row_id: int) -> str:
    return f"{name}-{row_id}@{UID_DOMAIN}"


def _days(count: int) -> str:
    return ngettext("%(num)s jour", "%(num)s jours", count)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("TIMEZONE") or PARIS)


# ------------------------------------------------------------------------------- feed tokens


# The feed URL's token is derived, not stored: ``calendar_token`` holds a random seed, and the
# token is an HMAC of it under the application's secret key. A copy of the database alone gives
# no working URL (the key lives in the instance folder, not in the database), while the page
# can show the user their URL at any time. A new seed revokes the old URL; so does a new key.


def issue_feed_token(session: Session, user: User) -> None:
    """A new seed for the user's feed URL; the previous URL stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    session.flush()


def revoke_feed_token(session: Session, user: User) -> None:
    """No feed URL for the user any more: calendars subscribed to it receive nothing."""
    user.calendar_token = None
    session.flush()


def feed_token(user: User, key: str | bytes) -> str | None:
    """The secret of the user's feed URL, ``<id>-<HMAC>``; None when they have none."""
    if user.calendar_token is None:
        return None
    key = key.encode() if isinstance(key, str) else key
    mac = hmac.new(key, f"calendar-feed:{user.id}:{user.calendar_token}".encode(), "sha256")
    return f"{user.id}-" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def user_for_feed_token(session: Session, token: str, key: str | bytes) -> User | None:
    """The active account whose feed this is, or None (unknown, revoked, deactivated)."""
    match = _FEED_TOKEN.fullmatch(token or "")
    if not match:
        return None
    user = session.get(User, int(match.group(1)))
    if user is None or not user.is_active:
        return None
    expected = feed_token(user, key)
    if expected is None or not hmac.compare_digest(expected, token):
        return None
    return user


def feed_window(today: date) -> tuple[date, date]:
    return today - FEED_PAST, today + FEED_FUTURE


# ------------------------------------------------------------------------------------ gathering


def entries_for(session: Session, campaign: Campaign, user: User, start: date, end: date,
                today: date | None = None) -> list[CalendarEntry]:
    """What falls between ``start`` and ``end`` (both included) in ``campaign``, as ``user`` may
    see it: proofs are those of ``visible_to(user)``. One query per kind plus its eager loads,
    whatever the number of rows."""
    return _gather(session, [campaign], user, start, end, today)


def feed_entries(session: Session, user: User, start: date, end: date,
                 today: date | None = None) -> list[CalendarEntry]:
    """Every campaign of the user's school, for the personal feed; proofs once, not per campaign.
    An invited auditor's feed holds only the programme of their campaign's audits: what the
    school sends, never its deadlines or who is late."""
    if user.is_invited_auditor:
        campaign = session.get(Campaign, user.access_campaign_id)
        if campaign is None:
            return []
        return sorted(_slots(session, [campaign.id], {campaign.id: campaign.name}, start, end,
                             user), key=lambda e: e.sort_key)
    campaigns = list(session.scalars(
        select(Campaign).where(Campaign.school_id == user.school_id).order_by(Campaign.id)))
    return _gather(session, campaigns, user, start, end, today)


def _gather(session: Session, campaigns: Sequence[Campaign], user: User, start: date, end: date,
            today: date | None) -> list[CalendarEntry]:
    if today is None:
        today = local_today()
    names = {c.id: c.name for c in campaigns}
    entries: list[CalendarEntry] = []
    if names:
        ids = list(names)
        entries += _milestones(session, ids, names, start, end)
        entries += _meetings(session, ids, names, start, end)
        entries += _actions(session, ids, names, start, end, today)
        entries += _findings(session, ids, names, start, end, today)
        entries += _slots(session, ids, names, start, end, user)
    entries += _expiries(session, user, start, end, today)
    return sorted(entries, key=lambda e: e.sort_key)


def _milestones(session, ids, names, start, end) -> Iterable[CalendarEntry]:
    rows = session.scalars(
        select(Milestone)
        .where(Milestone.campaign_id.in_(ids), Milestone.starts_on <= end,
               func.coalesce(Milestone.ends_on, Milestone.starts_on) >= start)
        .order_by(Milestone.starts_on, Milestone.id))
    for m in rows:
        yield CalendarEntry(
            uid=_uid("milestone", m.id), kind=EntryKind.MILESTONE, title=m.title,
            start=m.starts_on, end=m.last_day,
            url=url_for("campaigns.detail", campaign_id=m.campaign_id),
            location=m.place, campaign=names[m.campaign_id],
            description=_join(m.kind.label, m.notes))


def _meetings(session, ids, names, start, end) -> Iterable[CalendarEntry]:
    zone = _zone()
    rows = session.scalars(
        select(Meeting)
        .where(Meeting.campaign_id.in_(ids), Meeting.held_on >= start, Meeting.held_on <= end)
        .options(selectinload(Meeting.site))
        .order_by(Meeting.held_on, Meeting.id))
    for m in rows:
        starts_at = datetime.combine(m.held_on, m.starts_at, zone) if m.starts_at else None
        ends_at = datetime.combine(m.held_on, m.ends_at, zone) \
            if starts_at is not None and m.ends_at else None
        site = m.site.name if m.site else ""
        yield CalendarEntry(
            uid=_uid("meeting", m.id), kind=EntryKind.MEETING, title=m.title,
            start=m.held_on, end=m.held_on, starts_at=starts_at, ends_at=ends_at,
            url=_record_url("findings.meetings", m.campaign_id, m.held_on, _uid("meeting", m.id)),
            site=site, location=m.place or site, campaign=names[m.campaign_id],
            description=_join(m.kind.label, m.notes))


def _actions(session, ids, names, start, end, today) -> Iterable[CalendarEntry]:
    rows = session.scalars(
        select(Action)
        .where(Action.campaign_id.in_(ids), Action.status.in_(_UNFINISHED),
               Action.due_on >= start, Action.due_on <= end)
        .options(selectinload(Action.owner), selectinload(Action.site))
        .order_by(Action.due_on, Action.id))
    for a in rows:
        late = a.days_late(today)
        yield CalendarEntry(
            uid=_uid("action", a.id), kind=EntryKind.ACTION,
            title=_("Action : %(title)s (%(owner)s)", title=a.title, owner=a.owner.full_name),
            start=a.due_on, end=a.due_on,
            url=_record_url("findings.action", a.campaign_id, a.due_on, _uid("action", a.id),
                            action_id=a.id),
            site=a.site.name if a.site else "", campaign=names[a.campaign_id],
            description=_join(_("Responsable : %(name)s", name=a.owner.full_name),
                              _("Statut : %(status)s", status=a.status.label), a.description),
            extra=_("en retard de %(days)s", days=_days(late)) if late else "", late=bool(late))


def _findings(session, ids, names, start, end, today) -> Iterable[CalendarEntry]:
    rows = session.scalars(
        select(Finding).join(Finding.milestone)
        .where(Milestone.campaign_id.in_(ids), Finding.status.in_(_OPEN_FINDING),
               Finding.due_on >= start, Finding.due_on <= end)
        .options(contains_eager(Finding.milestone), selectinload(Finding.site))
        .order_by(Finding.due_on, Finding.id))
    for f in rows:
        campaign_id = f.milestone.campaign_id
        late = f.due_on < today
        yield CalendarEntry(
            uid=_uid("finding-due", f.id), kind=EntryKind.FINDING,
            title=_("Constat à traiter : %(reference)s — %(title)s", reference=f.reference,
                    title=f.title),
            start=f.due_on, end=f.due_on,
            url=_record_url("findings.finding", campaign_id, f.due_on,
                            _uid("finding-due", f.id), finding_id=f.id),
            site=f.site.name if f.site else "", campaign=names[campaign_id],
            description=_join(_("Statut : %(status)s", status=f.status.label), f.description),
            extra=_("en retard") if late else "", late=late)


def meets(slot: AuditSlot, user: User) -> bool:
    """Whether ``slot`` belongs in ``user``'s calendar: the quality lead's (who prepares every
    slot), the accounts holding one of the school's roles ticked on it (a site manager's only on
    their site or for the whole school), and the invited auditors of its campaign. Nobody's by
    words of the free text: that is for the people met who have no account."""
    if user.is_invited_auditor:
        return user.access_campaign_id == slot.milestone.campaign_id
    if user.role is Role.QUALITY_LEAD:
        return True
    if user.role.value not in (slot.roles or ()):
        return False
    if user.role is Role.SITE_MANAGER:
        return slot.site_id is None or slot.site_id == user.site_id
    return True


def _slots(session, ids, names, start, end, user) -> Iterable[CalendarEntry]:
    zone = _zone()
    rows = session.scalars(
        select(AuditSlot).join(AuditSlot.milestone)
        .where(Milestone.campaign_id.in_(ids), AuditSlot.day >= start, AuditSlot.day <= end)
        .options(contains_eager(AuditSlot.milestone), selectinload(AuditSlot.site))
        .order_by(AuditSlot.day, AuditSlot.starts_at, AuditSlot.id))
    for slot in rows:
        if not meets(slot, user):
            continue
        milestone = slot.milestone
        site = slot.site.name if slot.site else ""
        url = url_for("programme.programme", campaign_id=milestone.campaign_id,
                      event_id=milestone.id, _anchor=f"creneau-{slot.id}") \
            if "programme.programme" in current_app.view_functions else \
            url_for("campaigns.detail", campaign_id=milestone.campaign_id)
        yield CalendarEntry(
            uid=_uid("slot", slot.id), kind=EntryKind.SLOT,
            title=_("%(audit)s : %(topic)s", audit=milestone.title, topic=slot.topic),
            start=slot.day, end=slot.day,
            starts_at=datetime.combine(slot.day, slot.starts_at, zone),
            ends_at=datetime.combine(slot.day, slot.ends_at, zone) if slot.ends_at else None,
            url=url, site=site, location=" · ".join(p for p in (site, slot.place.strip()) if p),
            campaign=names[milestone.campaign_id],
            description=_join(_("Critères : %(codes)s", codes=slot.criteria) if slot.criteria
                              else "", _("Personnes rencontrées : %(people)s",
                                         people=slot.people_met) if slot.people_met else "",
                              _("Auditeur : %(name)s", name=slot.auditor) if slot.auditor
                              else ""))


def _expiries(session, user, start, end, today) -> Iterable[CalendarEntry]:
    rows = session.scalars(
        select(Evidence)
        .where(visible_to(user), Evidence.status != ReviewStatus.REFUSED,
               Evidence.valid_until >= start, Evidence.valid_until <= end)
        .options(selectinload(Evidence.site))
        .order_by(Evidence.valid_until, Evidence.id))
    for e in rows:
        yield CalendarEntry(
            uid=_uid("evidence-expiry", e.id), kind=EntryKind.EXPIRY,
            title=_("Fin de validité : %(title)s", title=e.title),
            start=e.valid_until, end=e.valid_until,
            url=url_for("evidence.detail", evidence_id=e.id),
            site=e.site.name if e.site else "",
            description=_("Preuve à renouveler avant cette date pour rester démontrable."),
            extra=_("expirée") if e.valid_until < today else "", late=e.valid_until < today)


def _record_url(endpoint: str, campaign_id: int, day: date, uid: str, **values) -> str:
    """The record's own page (action, finding, meetings) where the findings pages are installed;
    otherwise its day on the campaign calendar, so a link never points nowhere."""
    if endpoint in current_app.view_functions:
        return url_for(endpoint, campaign_id=campaign_id, **values)
    return url_for("calendar.campaign", campaign_id=campaign_id, mois=f"{day:%Y-%m}",
                   _anchor=uid.split("@", 1)[0])


def _join(*parts: str) -> str:
    return "\n\n".join(str(p).strip() for p in parts if p and str(p).strip())


# -------------------------------------------------------------------------------- iCalendar


def to_ics(entries: Iterable[CalendarEntry], calendar_name: str, *, base_url: str) -> bytes:
    """The entries as an iCalendar feed: all-day events as dates (DTEND exclusive), meetings in
    the school's time zone with its VTIMEZONE. ``base_url`` (the site's address, given by the
    caller) makes the entries' paths absolute; empty, they stay paths."""
    zone = _zone()
    stamp = utcnow().replace(microsecond=0)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", calendar_name)
    cal.add("x-wr-timezone", zone.key)
    # How often a subscribed client should fetch it again (RFC 7986, and Outlook's own name).
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT1H")
    if zone.key == PARIS:  # before the events, where every client looks for it
        cal.add_component(paris_vtimezone())
    for entry in entries:
        cal.add_component(_event(entry, stamp, base_url))
    if zone.key != PARIS:  # an overseas school: icalendar describes its zone from the tz database
        cal.add_missing_timezones()
    return cal.to_ical()


def _event(entry: CalendarEntry, stamp: datetime, base_url: str) -> Event:
    event = Event()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp)
    if entry.all_day:
        event.add("dtstart", entry.start)
        event.add("dtend", entry.end + timedelta(days=1))  # exclusive, per RFC 5545
        event.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
    else:
        event.add("dtstart", entry.starts_at)
        if entry.ends_at is not None:
            event.add("dtend", entry.ends_at)
    summary = f"{entry.title} ({entry.extra})" if entry.extra else entry.title
    event.add("summary", summary)
    details = [entry.kind.label]
    if entry.campaign:
        details.append(_("Campagne : %(name)s", name=entry.campaign))
    if entry.site:
        details.append(_("Site : %(name)s", name=entry.site))
    description = _join(" · ".join(details), entry.description)
    if description:
        event.add("description", description)
    if entry.location:
        event.add("location", entry.location)
    event.add("categories", [entry.kind.label])
    if entry.url:
        event.add("url", urljoin(base_url, entry.url) if base_url else entry.url)
    return event


def paris_vtimezone() -> Timezone:
    """Europe/Paris with the EU rule since 1996 (last Sunday of March and October), as RRULEs:
    Outlook reads rules better than the long RDATE lists a generator would write."""
    tz = Timezone()
    tz.add("tzid", PARIS)
    tz.add("x-lic-location", PARIS)
    summer = TimezoneDaylight()
    summer.add("tzname", "CEST")
    summer.add("tzoffsetfrom", timedelta(hours=1))
    summer.add("tzoffsetto", timedelta(hours=2))
    summer.add("dtstart", datetime(1970, 3, 29, 2, 0))
    summer.add("rrule", {"freq": "yearly", "bymonth": 3, "byday": "-1SU"})
    winter = TimezoneStandard()
    winter.add("tzname", "CET")
    winter.add("tzoffsetfrom", timedelta(hours=2))
    winter.add("tzoffsetto", timedelta(hours=1))
    winter.add("dtstart", datetime(1970, 10, 25, 3, 0))
    winter.add("rrule", {"freq": "yearly", "bymonth": 10, "byday": "-1SU"})
    tz.add_component(summer)
    tz.add_component(winter)
    return tz
