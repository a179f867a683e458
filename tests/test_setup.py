"""`flask setup`, the demo data and the user commands."""

from __future__ import annotations

import re
import stat
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from audit_tracker.demo import SEED_DATE, load_demo, seed_day, shift_for
from audit_tracker.extensions import db
from audit_tracker.models import (
    Campaign,
    Framework,
    Meeting,
    MeetingKind,
    Milestone,
    MilestoneKind,
    Role,
    School,
    User,
)


def test_setup_migrates_loads_the_referentiels_and_the_demo_once(app, runner):
    db.drop_all()  # setup must build the schema through the migrations itself
    first = runner.invoke(args=["setup", "--demo"])
    assert first.exit_code == 0, first.output
    assert "Référentiel chargé : qualiopi-v9 v9" in first.output
    assert "direction@e2c-var.example" in first.output
    # The demo requires TOTP of its direction: its key is printed beside the password.
    assert re.search(r"direction@e2c-var\.example .* TOTP : [A-Z2-7]{32}", first.output)
    accounts = Path(app.instance_path) / "demo-accounts.txt"
    assert stat.S_IMODE(accounts.stat().st_mode) == 0o600
    again = runner.invoke(args=["setup", "--demo", "--address", "http://127.0.0.1:8123"])
    assert again.exit_code == 0, again.output
    # `make run PORT=8123` passes the address it serves: the one printed, not a fixed 5000.
    assert "Application : http://127.0.0.1:8123" in again.output and ":5000" not in again.output
    assert "Référentiel chargé" not in again.output
    assert db.session.scalar(select(func.count(School.id))) == 1
    assert db.session.scalar(select(func.count(Framework.id))) == 2
    assert again.output.count("direction@e2c-var.example") == 1


def test_demo_reproduces_the_seed_at_its_real_dates(demo):
    school = db.session.scalar(select(School))
    assert [(s.code, s.opened_on) for s in school.sites] == [
        ("tpm", date(2017, 3, 13)), ("cavem", date(2017, 6, 26)),
        ("provence-verte", date(2017, 9, 25)), ("dracenie", date(2017, 10, 23))]
    milestones = {m.kind: m for m in db.session.scalars(select(Milestone))}
    assert (milestones[MilestoneKind.PRE_AUDIT].starts_on,
            milestones[MilestoneKind.PRE_AUDIT].ends_on) == (date(2018, 2, 20), date(2018, 2, 22))
    assert (milestones[MilestoneKind.INITIAL_AUDIT].starts_on,
            milestones[MilestoneKind.INITIAL_AUDIT].ends_on) == (date(2018, 4, 24),
                                                                  date(2018, 4, 26))
    assert milestones[MilestoneKind.NATIONAL_COMMISSION].starts_on == date(2018, 5, 17)
    assert milestones[MilestoneKind.ADVISORY_VISIT].starts_on.month == 12
    campaign = db.session.scalar(select(Campaign))
    assert {f.code for f in campaign.frameworks} == {"e2c-label", "qualiopi-v9"}


def test_demo_holds_the_governance_calendar_of_the_annex(demo):
    meetings = list(db.session.scalars(select(Meeting)))
    follow_ups = [m for m in meetings if m.kind is MeetingKind.TRAINEE_REVIEW]
    assert len(follow_ups) == 12  # 4 sites × 3 dates
    strategic = next(m for m in meetings if m.kind is MeetingKind.STRATEGY_COMMITTEE)
    assert (strategic.held_on, strategic.starts_at.isoformat(), strategic.ends_at.isoformat()) \
        == (date(2018, 6, 12), "14:00:00", "15:30:00")
    cavem = {m.held_on for m in follow_ups if m.site.code == "cavem"}
    assert cavem == {date(2018, 3, 13), date(2018, 5, 15), date(2018, 7, 10)}


def test_demo_has_one_account_per_role_and_per_site(demo):
    users = {u.email: u for u in db.session.scalars(select(User))}
    assert users["direction@e2c-var.example"].role is Role.DIRECTOR
    assert users["qualite@e2c-var.example"].role is Role.QUALITY_LEAD
    assert users["auditeur@e2c-var.example"].role is Role.AUDITOR
    assert users["admin@e2c-var.example"].role is Role.ADMIN
    for site in ("tpm", "cavem", "provence-verte", "dracenie"):
        user = users[f"{site}@e2c-var.example"]
        assert (user.role, user.site.code) == (Role.SITE_MANAGER, site)
    passwords = {a.password for a in demo.values()}
    assert len(passwords) == len(demo)  # each account its own random password


@pytest.mark.parametrize("today", [date(2026, 11, 29), date(2026, 12, 6), date(2027, 2, 28),
                                   date(2028, 2, 29), date(2030, 12, 31)])
def test_shifted_demo_keeps_every_interval_and_weekday_near_today(referentiels, today):
    load_demo(db.session, today=today)
    db.session.commit()
    offset = shift_for(today)
    assert offset.days % 7 == 0 and abs((SEED_DATE + offset - today).days) <= 3
    assert seed_day(today) == SEED_DATE + offset and seed_day(today).weekday() == 2  # Wednesday
    milestones = {m.kind: m for m in db.session.scalars(select(Milestone))}
    audit = milestones[MilestoneKind.INITIAL_AUDIT]
    assert audit.starts_on - seed_day(today) == timedelta(days=55)
    assert audit.ends_on - audit.starts_on == timedelta(days=2)
    assert (audit.starts_on.weekday(), audit.ends_on.weekday()) == (1, 3)  # Tuesday-Thursday
    assert milestones[MilestoneKind.NATIONAL_COMMISSION].starts_on - seed_day(today) == \
        timedelta(days=78)
    assert db.session.scalar(select(Campaign.name)) == f"Labellisation E2C {audit.starts_on.year}"


def test_the_shifted_demo_puts_nothing_on_a_weekend(referentiels):
    load_demo(db.session, today=date(2026, 12, 6))
    db.session.commit()
    days = [m.starts_on for m in db.session.scalars(select(Milestone))]
    days += [m.ends_on for m in db.session.scalars(select(Milestone)) if m.ends_on]
    days += [m.held_on for m in db.session.scalars(select(Meeting))]
    assert len(days) > 20
    assert [d for d in days if d.weekday() >= 5] == []


def test_demo_load_refuses_a_database_that_already_has_a_school(runner, demo):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code != 0
    assert "déjà une école" in result.output


def test_users_create_and_its_refusals(runner, demo):
    ok = runner.invoke(args=["users", "create", "nouvelle@e2c-var.example", "--role", "site",
                             "--site", "cavem", "--password", "un-long-mot-de-passe"])
    assert ok.exit_code == 0, ok.output
    user = db.session.scalar(select(User).where(User.email == "nouvelle@e2c-var.example"))
    assert user.site.code == "cavem" and user.check_password("un-long-mot-de-passe")
    for args, message in [
        (["nouvelle@e2c-var.example", "--role", "qualite"], "existe déjà"),
        (["x@e2c-var.example", "--role", "site"], "exige --site"),
        (["y@e2c-var.example", "--role", "qualite", "--site", "lune"], "Site inconnu"),
    ]:
        result = runner.invoke(args=["users", "create", *args, "--password", "un-long-mot-de-pass"])
        assert result.exit_code != 0 and message in result.output, result.output
    short = runner.invoke(args=["users", "create", "z@e2c-var.example", "--role", "qualite",
                                "--password", "court"])
    assert "au moins 10 caractères" in short.output


def test_admin_creates_an_account_from_the_page(client, auth, demo):
    auth.login_demo(demo, "admin")
    response = client.post("/comptes", data={
        "email": "Relais@E2C-Var.example", "full_name": "Chargée de recrutement",
        "role": "site", "site_id": "0", "password": "un-long-mot-de-passe"})
    assert "Un responsable de site doit être rattaché à un site." in response.get_data(as_text=True)
    assert db.session.scalar(select(User).where(User.email == "relais@e2c-var.example")) is None
    response = client.post("/comptes", data={
        "email": "Relais@E2C-Var.example", "full_name": "Chargée de recrutement",
        "role": "qualite", "site_id": "0", "password": "un-long-mot-de-passe"})
    assert response.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "relais@e2c-var.example"))


def test_demo_notes_name_no_month_so_the_shifted_dates_read_true(demo_today):
    """Shifted to today, a note saying « fin avril » would contradict the date beside it."""
    import re

    notes = " ".join(m.notes for m in db.session.scalars(select(Milestone)))
    months = r"janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
    assert notes and not re.search(rf"\b({months})\b", notes, re.IGNORECASE)
