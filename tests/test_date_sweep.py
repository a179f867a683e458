"""The demo as ``make run`` loads it, on many days: month ends, 29 February, Sundays, New Year's
Eve, the days the clocks change. Whatever the day, the demo keeps the note's weekdays and
intervals, and the date-sensitive pages (dashboard, go / no-go, calendar, indicators) and the
reminders read true. ``make date-sweep`` runs the date-sensitive test modules over the same days.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from audit_tracker.clock import local_today, set_today
from audit_tracker.demo import load_demo, seed_day
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.findings.reminders import digests
from audit_tracker.indicators.service import indicator_table
from audit_tracker.models import (
    Action,
    Campaign,
    Evidence,
    Finding,
    Meeting,
    Milestone,
    MilestoneKind,
)
from audit_tracker.storage import upload_tmp_dir

SWEEP = [
    date(2018, 2, 28),  # the note's own day: the real and the shifted demo coincide
    date(2025, 1, 1),
    date(2026, 6, 30),
    date(2026, 12, 6),  # the Sunday issue 10 was found on
    date(2026, 12, 31),
    date(2027, 1, 31),  # a Sunday that ends a month
    date(2027, 2, 28),
    date(2028, 2, 29),  # leap day
    date(2028, 3, 1),
    date(2029, 12, 31),
    date(2031, 10, 26),  # clocks go back that Sunday
    date(2032, 3, 28),  # clocks go forward that Sunday
    date(2035, 8, 15),
]


@pytest.fixture
def demo_on(app, referentiels, storage):
    """Load the whole demo story shifted for ``today``, with the app's clock on that day."""

    def load(today: date) -> dict:
        set_today(app, today)
        accounts = load_demo(db.session, today=local_today())
        db.session.commit()
        load_demo_story(db.session, storage, upload_tmp_dir(app), today=local_today())
        return {a.email: a for a in accounts}

    return load


def _month_grid(client, campaign_id: int, day: date) -> str:
    return client.get(f"/campagnes/{campaign_id}/calendrier?mois={day:%Y-%m}").get_data(
        as_text=True)


@pytest.mark.parametrize("today", SWEEP, ids=str)
def test_the_demo_reads_true_on_any_day(client, auth, demo_on, today):
    accounts = demo_on(today)
    campaign = db.session.scalar(select(Campaign))
    events = {m.kind: m for m in db.session.scalars(select(Milestone))}
    audit = events[MilestoneKind.INITIAL_AUDIT]

    # The note's weekdays and intervals, a whole number of weeks away.
    assert audit.starts_on - seed_day(today) == timedelta(days=55)
    assert (audit.starts_on.weekday(), audit.ends_on.weekday()) == (1, 3)
    days = [m.held_on for m in db.session.scalars(select(Meeting))]
    days += [m.starts_on for m in events.values()]
    assert [d for d in days if d.weekday() >= 5] == []
    days_left = (audit.starts_on - today).days
    assert 52 <= days_left <= 58

    response = auth.login_demo(accounts, "direction")
    assert response.status_code == 302

    # The dashboard counts down from the clock's today, and the two late actions stay late.
    page = client.get(f"/campagnes/{campaign.id}/preparation").get_data(as_text=True)
    assert f"J-{days_left}" in page
    late = [int(n) for n in re.findall(r"(\d+) jours de retard", page)]
    assert sorted(late) == sorted(n + (today - seed_day(today)).days for n in (5, 9))

    # The go / no-go of the audit answers, and so does the calendar on each of the audit's days.
    assert client.get(f"/campagnes/{campaign.id}/preparation/go-no-go/{audit.id}"
                      ).status_code == 200
    assert client.get(f"/campagnes/{campaign.id}/calendrier").status_code == 200
    assert client.get(f"/campagnes/{campaign.id}/calendrier?vue=liste").status_code == 200
    for offset in range(3):
        day = audit.starts_on + timedelta(days=offset)
        cell = re.search(rf'data-day="{day.isoformat()}"[^>]*>(.*?)</td>',
                         _month_grid(client, campaign.id, day), re.S)
        assert cell and "Audit de labellisation AFNOR" in cell[1], day

    # The key figures of the note, up to the shifted seed's month.
    totals = indicator_table(campaign.school, end=seed_day(today)).total
    assert (totals.counts.entries, totals.counts.from_qpv, totals.counts.positive_exits) == (
        252, 40, 30)

    # Each site opens in the month its figures start, on a Monday as in the note.
    months = indicator_table(campaign.school, end=seed_day(today)).months
    for site in campaign.school.sites:
        first = min(m.period for m in months if m.site.id == site.id)
        assert (site.opened_on.replace(day=1), site.opened_on.weekday()) == (first, 0), site.code

    # The story's documents name the demo's own dates, never February 2018 in 2027.
    words = [e.title for e in db.session.scalars(select(Evidence))]
    words += [m.title for m in campaign.meetings]
    words += [f"{f.title} {f.description}" for f in db.session.scalars(select(Finding))]
    words += [a.title for a in db.session.scalars(select(Action))]
    years = {int(y) for y in re.findall(r"\b(20\d\d)\b", " ".join(words))}
    around = seed_day(today).year
    assert years and years <= {around - 1, around, around + 1}, (years, around)
    assert "février 2018" not in " ".join(words) or around == 2018

    # The reminders of the day name the late actions' owners.
    owners = {d.owner.email for d in digests(db.session, today)}
    assert {"qualite@e2c-var.example", "cavem@e2c-var.example"} <= owners
