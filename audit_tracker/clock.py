"""One clock for « today » and « now ».

Deadlines, lateness, validity, countdowns and the demo's shift all read the day from here, never
from ``date.today()`` or ``datetime.now()``. The clock runs in real time, moved by a fixed offset
when the ``TODAY`` setting (``AUDIT_TRACKER_TODAY=2018-02-28``) names a day: the tests pin it so
that no test depends on the day it runs, and a demo can be shown as of the source note's date.
Time keeps flowing on a moved clock, so records made one after another stay in order.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

EXTENSION = "audit_tracker.clock"


class Clock:
    """The real clock shifted by ``offset``; ``today`` is read in the school's time zone."""

    def __init__(self, timezone: str, offset: timedelta = timedelta(0)) -> None:
        self.zone = ZoneInfo(timezone)
        self.offset = offset

    @classmethod
    def starting_on(cls, day: date, timezone: str) -> Clock:
        """A clock whose day is ``day``, starting at noon there (half a day of margin each way,
        so a test run never crosses midnight)."""
        zone = ZoneInfo(timezone)
        target = datetime.combine(day, time(12), tzinfo=zone)
        return cls(timezone, target - datetime.now(UTC))

    def now(self) -> datetime:
        """Aware UTC now: every timestamp is stored in UTC and shown in the school's zone."""
        return datetime.now(UTC) + self.offset

    def today(self) -> date:
        """Today in the school's time zone: deadlines fall at midnight in Paris, not in UTC."""
        return self.now().astimezone(self.zone).date()


def init_clock(app: Flask) -> None:
    """Install the app's clock: real time, or the day the ``TODAY`` setting names."""
    day = app.config.get("TODAY")
    if isinstance(day, str) and day.strip():
        day = date.fromisoformat(day.strip())
    if isinstance(day, date):
        set_today(app, day)
    else:
        app.extensions[EXTENSION] = Clock(app.config["TIMEZONE"])


def set_today(app: Flask, day: date) -> None:
    """Move the app's clock so that today is ``day`` (tests, and demos shown as of a date)."""
    app.extensions[EXTENSION] = Clock.starting_on(day, app.config["TIMEZONE"])


def current_clock() -> Clock:
    """The app's clock; outside an app (a model default set by a script) the real one."""
    if has_app_context():
        return current_app.extensions[EXTENSION]
    return Clock("Europe/Paris")


def local_today() -> date:
    """Today in the school's time zone, from the app's clock."""
    return current_clock().today()


def utcnow() -> datetime:
    """Aware UTC now, from the app's clock."""
    return current_clock().now()


def as_utc(moment: datetime) -> datetime:
    """A stored timestamp as aware UTC: SQLite gives naive datetimes back; they were stored in
    UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
