"""The calendar: one list of dated entries, a month grid and a list, the personal iCalendar feed
(secret URL, Europe/Paris, stable UIDs) and the API's calendar.ics."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import request
from icalendar import Calendar
from sqlalchemy import event, select

from audit_tracker.clock import local_today
from audit_tracker.extensions import db
from audit_tracker.findings import calendar as service
from audit_tracker.findings.service import ActionInput, create_action
from audit_tracker.models import (
    ApiToken,
    Campaign,
    EvidenceKind,
    Meeting,
    Milestone,
    MilestoneKind,
    Site,
    User,
)

from . import factories

AFNOR = "Audit de labellisation AFNOR Certification"
FRENCH_DAYS = ["Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche"]


def _user(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _campaign() -> Campaign:
    return db.session.scalar(select(Campaign).limit(1))


def _afnor() -> Milestone:
    return db.session.scalar(select(Milestone).where(Milestone.kind == MilestoneKind.INITIAL_AUDIT))


def _events(ics: bytes) -> dict[str, object]:
    return {str(e["UID"]): e for e in Calendar.from_ical(ics).walk("VEVENT")}


def _add_action(title: str, owner: User, due_on: date, site: Site | None = None):
    author = _user("qualite@e2c-var.example")
    action = create_action(db.session, _campaign(), author,
                           ActionInput(title=title, owner=owner, due_on=due_on, site=site))
    db.session.commit()
    return action


def _feed_url(client) -> str:
    page = client.get("/compte/calendrier").get_data(as_text=True)
    match = re.search(r'value="http://localhost(/calendrier/[^"]+\.ics)"', page)
    assert match, "no feed URL on the page"
    return match[1]


def _day_cell(page: str, day: date) -> str:
    match = re.search(rf'<td[^>]*data-day="{day.isoformat()}"[^>]*>(.*?)</td>', page, re.S)
    assert match, f"no cell for {day}"
    return match[1]


# ------------------------------------------------------------------------------------ entries


def test_entries_show_the_afnor_audit_as_three_all_day_days_and_meetings_at_14h_paris(
        app, demo_today):
    today = local_today()
    with app.test_request_context():
        entries = service.entries_for(db.session, _campaign(), _user("qualite@e2c-var.example"),
                                      today, today + timedelta(days=120), today)
    audit = next(e for e in entries if e.title == AFNOR)
    assert audit.kind is service.EntryKind.MILESTONE
    assert audit.all_day
    assert (audit.start, audit.end) == (today + timedelta(days=55), today + timedelta(days=57))
    assert audit.uid == f"milestone-{_afnor().id}@audit-tracker"
    committee = next(e for e in entries if e.title == "Comité stratégique")
    assert not committee.all_day
    assert committee.starts_at.time() == time(14, 0)
    assert committee.starts_at.tzinfo.key == "Europe/Paris"
    assert committee.ends_at.time() == time(15, 30)
    assert entries == sorted(entries, key=lambda e: e.sort_key)


def test_entries_cover_unfinished_actions_and_proof_expiries_visible_to_the_reader(
        app, demo_today, make_evidence):
    today = local_today()
    quality, tpm_manager = _user("qualite@e2c-var.example"), _user("tpm@e2c-var.example")
    sites = {s.code: s for s in _campaign().school.sites}
    late = _add_action("Afficher le règlement intérieur", tpm_manager, today - timedelta(days=3))
    soon = _add_action("Mettre à jour le livret d’accueil", quality, today + timedelta(days=5))
    make_evidence(quality, kind=EvidenceKind.LINK, url="https://example.org/convention",
                  title="Convention CAVEM", site=sites["cavem"],
                  valid_until=today + timedelta(days=10))
    make_evidence(quality, kind=EvidenceKind.LINK, url="https://example.org/agrement",
                  title="Agrément école", valid_until=today + timedelta(days=20))

    def titles_for(user):
        with app.test_request_context():
            return {e.uid: e for e in service.entries_for(
                db.session, _campaign(), user, today - timedelta(days=30),
                today + timedelta(days=30), today)}

    seen_by_quality = titles_for(quality)
    assert seen_by_quality[f"action-{late.id}@audit-tracker"].extra == "en retard de 3 jours"
    assert seen_by_quality[f"action-{late.id}@audit-tracker"].late
    assert "Responsable du site TPM" in seen_by_quality[f"action-{late.id}@audit-tracker"].title
    assert not seen_by_quality[f"action-{soon.id}@audit-tracker"].late
    expiries = {e.title for e in seen_by_quality.values() if e.kind is service.EntryKind.EXPIRY}
    assert expiries == {"Fin de validité : Convention CAVEM", "Fin de validité : Agrément école"}
    # The TPM manager does not see the CAVEM site's proofs, so not their expiry either.
    seen_by_tpm = titles_for(tpm_manager)
    assert {e.title for e in seen_by_tpm.values() if e.kind is service.EntryKind.EXPIRY} == {
        "Fin de validité : Agrément école"}


def test_a_finished_action_leaves_the_calendar(app, demo_today):
    from audit_tracker.findings.service import set_action_status
    from audit_tracker.models import ActionStatus

    today = local_today()
    quality = _user("qualite@e2c-var.example")
    action = _add_action("Former les formateurs", quality, today + timedelta(days=2))
    set_action_status(db.session, action, ActionStatus.DONE, quality, today)
    with app.test_request_context():
        uids = {e.uid for e in service.entries_for(db.session, _campaign(), quality, today,
                                                    today + timedelta(days=10), today)}
    assert f"action-{action.id}@audit-tracker" not in uids


def test_gathering_takes_a_handful_of_queries_whatever_the_number_of_entries(
        app, demo_today, make_evidence):
    today = local_today()
    quality = _user("qualite@e2c-var.example")
    sites = _campaign().school.sites
    for n in range(12):
        _add_action(f"Action {n}", quality, today + timedelta(days=n), site=sites[n % 4])
        make_evidence(quality, kind=EvidenceKind.LINK, url=f"https://example.org/{n}",
                      title=f"Preuve {n}", site=sites[n % 4],
                      valid_until=today + timedelta(days=n))
    campaign, statements = _campaign(), []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with app.test_request_context():
            entries = service.entries_for(db.session, campaign, quality, today,
                                          today + timedelta(days=365), today)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(entries) > 30
    assert len(statements) <= 10  # one per kind, plus the owners and sites loaded with them


# ---------------------------------------------------------------------------------- the ICS


def test_ics_parses_with_europe_paris_all_day_dates_and_timed_meetings(app, demo):
    """Real 2018 dates: 14:00 in Paris is 13:00 UTC in March (CET), 12:00 UTC in June (CEST)."""
    with app.test_request_context(base_url="https://audit.example"):
        entries = service.entries_for(db.session, _campaign(), _user("qualite@e2c-var.example"),
                                      date(2018, 1, 1), date(2018, 12, 31), date(2018, 2, 28))
        ics = service.to_ics(entries, "Labellisation E2C 2018", base_url=request.host_url)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["VERSION"]) == "2.0"
    assert "audit_tracker" in str(calendar["PRODID"])
    assert str(calendar["X-WR-CALNAME"]) == "Labellisation E2C 2018"
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Paris"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = _events(ics)

    audit = events[f"milestone-{_afnor().id}@audit-tracker"]
    assert str(audit["SUMMARY"]) == AFNOR
    assert audit["DTSTART"].params["VALUE"] == "DATE"
    assert audit["DTSTART"].dt == date(2018, 4, 24)
    assert audit["DTEND"].dt == date(2018, 4, 27)  # exclusive: the audit ends on the 26th
    assert str(audit["URL"]).startswith("https://audit.example/campagnes/")
    assert "DTSTAMP" in audit

    meetings = {m.held_on: m.id for m in db.session.scalars(select(Meeting))}  # one a day
    march = events[f"meeting-{meetings[date(2018, 3, 13)]}@audit-tracker"]  # CAVEM, 14:00
    june = events[f"meeting-{meetings[date(2018, 6, 12)]}@audit-tracker"]  # strategic, 14:00
    assert str(march["SUMMARY"]) == "Commission de suivi des stagiaires – CAVEM"
    assert str(june["SUMMARY"]) == "Comité stratégique"
    for meeting in (march, june):
        assert meeting["DTSTART"].params["TZID"] == "Europe/Paris"
        assert meeting["DTSTART"].dt.time() == time(14, 0)
    assert march["DTSTART"].dt.astimezone(UTC) == datetime(2018, 3, 13, 13, 0, tzinfo=UTC)
    assert june["DTSTART"].dt.astimezone(UTC) == datetime(2018, 6, 12, 12, 0, tzinfo=UTC)
    assert june["DTEND"].dt.astimezone(UTC) == datetime(2018, 6, 12, 13, 30, tzinfo=UTC)
    text = ics.decode()
    assert "DTSTART;TZID=Europe/Paris:20180313T140000" in text
    assert "DTSTART;VALUE=DATE:20180424" in text
    assert "DTEND;VALUE=DATE:20180427" in text
    # A meeting without hours (the relays' meeting of 8 February) is a whole day.
    relays = events[f"meeting-{meetings[date(2018, 2, 8)]}@audit-tracker"]
    assert relays["DTSTART"].dt == date(2018, 2, 8)
    assert relays["DTEND"].dt == date(2018, 2, 9)


def test_an_overseas_school_gets_its_own_time_zone_in_the_feed(app, demo):
    """E2C in La Réunion: the settings' TIMEZONE drives the feed, described from the tz database."""
    app.config["TIMEZONE"] = "Indian/Reunion"
    with app.test_request_context():
        entries = service.entries_for(db.session, _campaign(), _user("qualite@e2c-var.example"),
                                      date(2018, 3, 1), date(2018, 3, 31), date(2018, 2, 28))
        ics = service.to_ics(entries, "Labellisation", base_url=request.host_url)
    calendar = Calendar.from_ical(ics)
    assert str(calendar["X-WR-TIMEZONE"]) == "Indian/Reunion"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Indian/Reunion"]
    assert "DTSTART;TZID=Indian/Reunion:20180313T140000" in ics.decode()


@pytest.mark.parametrize(("local", "offset"), [
    (datetime(2018, 3, 13, 14), 1), (datetime(2018, 6, 12, 14), 2),
    (datetime(2031, 3, 29, 14), 1), (datetime(2031, 3, 30, 14), 2),  # last Sunday of March
    (datetime(2031, 10, 25, 14), 2), (datetime(2031, 10, 26, 14), 1),  # last Sunday of October
])
def test_the_shipped_vtimezone_gives_the_paris_offset_in_any_year(local, offset):
    """A client that trusts the VTIMEZONE rather than its own tz database gets the same hours."""
    vtimezone = service.paris_vtimezone().to_tz()
    assert local.replace(tzinfo=vtimezone).utcoffset() == timedelta(hours=offset)


# ----------------------------------------------------------------------------- the personal feed


def test_the_feed_works_without_login_with_stable_uids(client, auth, demo_today):
    auth.login_demo(demo_today, "qualite")
    page = client.get("/compte/calendrier").get_data(as_text=True)
    assert "Créer mon lien" in page
    assert "Outlook" in page and "Thunderbird" in page
    response = client.post("/compte/calendrier", data={"action": "creer"})
    assert response.status_code == 302
    url = _feed_url(client)
    auth.logout()

    first, second = client.get(url), client.get(url)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    uids = set(_events(first.data))
    assert uids == set(_events(second.data))
    assert f"milestone-{_afnor().id}@audit-tracker" in uids
    assert any(uid.startswith("meeting-") for uid in uids)
    calendar = Calendar.from_ical(first.data)
    assert str(calendar["X-WR-CALNAME"]) == "Audit E2C Var"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]


@pytest.mark.parametrize("token", ["x" * 43, "court", "A" * 64, "%2e%2e"])
def test_an_unknown_token_is_a_404(client, demo, token):
    assert client.get(f"/calendrier/{token}.ics").status_code == 404


def test_regenerating_the_link_revokes_the_old_url(client, auth, demo_today):
    auth.login_demo(demo_today, "direction")
    client.post("/compte/calendrier", data={"action": "creer"})
    old = _feed_url(client)
    response = client.post("/compte/calendrier", data={"action": "regenerer"},
                           follow_redirects=True)
    assert "l’ancien ne fonctionne plus" in response.get_data(as_text=True)
    new = _feed_url(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200


def test_deleting_the_link_closes_the_feed(client, auth, demo_today):
    auth.login_demo(demo_today, "direction")
    client.post("/compte/calendrier", data={"action": "creer"})
    url = _feed_url(client)
    client.post("/compte/calendrier", data={"action": "supprimer"})
    assert client.get(url).status_code == 404
    assert "Créer mon lien" in client.get("/compte/calendrier").get_data(as_text=True)


def test_a_deactivated_account_feed_is_a_404(client, auth, demo_today):
    auth.login_demo(demo_today, "auditeur")
    client.post("/compte/calendrier", data={"action": "creer"})
    url = _feed_url(client)
    assert client.get(url).status_code == 200
    auditor = _user("auditeur@e2c-var.example")
    auditor.active = False
    db.session.commit()
    assert client.get(url).status_code == 404


def test_the_feed_page_is_not_cached_and_its_post_needs_the_csrf_token(app, client, auth,
                                                                        demo_today):
    auth.login_demo(demo_today, "qualite")
    assert client.get("/compte/calendrier").headers["Cache-Control"] == "no-store"
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post("/compte/calendrier", data={"action": "creer"})
    assert response.status_code == 400
    assert _user("qualite@e2c-var.example").calendar_token is None


def test_the_feed_is_the_owners_view_of_the_proofs(client, auth, demo_today, make_evidence):
    quality = _user("qualite@e2c-var.example")
    cavem = db.session.scalar(select(Site).where(Site.code == "cavem"))
    proof = make_evidence(quality, kind=EvidenceKind.LINK, url="https://example.org/cavem",
                          title="Convention CAVEM", site=cavem,
                          valid_until=local_today() + timedelta(days=30))
    auth.login_demo(demo_today, "tpm")
    client.post("/compte/calendrier", data={"action": "creer"})
    tpm_feed = _feed_url(client)
    auth.logout()
    auth.login_demo(demo_today, "cavem")
    client.post("/compte/calendrier", data={"action": "creer"})
    cavem_feed = _feed_url(client)
    uid = f"evidence-expiry-{proof.id}@audit-tracker"
    assert uid not in _events(client.get(tpm_feed).data)
    assert uid in _events(client.get(cavem_feed).data)


# ---------------------------------------------------------------------------------- the pages


def test_month_page_has_french_day_names_and_the_afnor_audit_on_its_three_days(
        client, auth, demo_today):
    auth.login_demo(demo_today, "auditeur")
    audit = _afnor()

    def month_page(day: date) -> str:
        """The grid of the day's own month: the audit may span two months."""
        return client.get(f"/campagnes/{audit.campaign_id}/calendrier"
                          f"?mois={day:%Y-%m}").get_data(as_text=True)

    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', month_page(audit.starts_on))
    assert headers == FRENCH_DAYS
    for offset in range(3):
        day = audit.starts_on + timedelta(days=offset)
        assert AFNOR in _day_cell(month_page(day), day)
    before, after = audit.starts_on - timedelta(days=1), audit.starts_on + timedelta(days=3)
    assert AFNOR not in _day_cell(month_page(before), before)
    assert AFNOR not in _day_cell(month_page(after), after)


def test_an_event_over_two_months_shows_in_both_grids(client, auth, demo):
    audit = _afnor()
    audit.starts_on, audit.ends_on = date(2018, 4, 30), date(2018, 5, 2)  # Monday to Wednesday
    db.session.commit()
    auth.login_demo(demo, "qualite")
    april = client.get("/campagnes/1/calendrier?mois=2018-04").get_data(as_text=True)
    may = client.get("/campagnes/1/calendrier?mois=2018-05").get_data(as_text=True)
    # April's grid runs to Sunday 6 May, May's starts on Monday 30 April: both show all three.
    for day in (date(2018, 4, 30), date(2018, 5, 1), date(2018, 5, 2)):
        assert AFNOR in _day_cell(april, day) and AFNOR in _day_cell(may, day)
    assert AFNOR not in _day_cell(may, date(2018, 5, 3))


def test_month_page_defaults_to_today_highlighted_with_neighbour_links(client, auth, demo):
    auth.login_demo(demo, "qualite")
    today = local_today()
    page = client.get("/campagnes/1/calendrier").get_data(as_text=True)
    assert re.search(rf'<td class="[^"]*cal-today[^"]*" data-day="{today.isoformat()}" '
                     r'aria-current="date">', page)
    page = client.get("/campagnes/1/calendrier?mois=2018-01").get_data(as_text=True)
    assert "Janvier 2018" in page
    assert "mois=2017-12" in page and "mois=2018-02" in page
    # Weeks start on Monday: 1 January 2018 is a Monday, the grid ends on Sunday 4 February.
    days = re.findall(r'data-day="([\d-]+)"', page)
    assert (days[0], days[-1], len(days)) == ("2018-01-01", "2018-02-04", 35)


def test_a_timed_meeting_shows_its_hour_on_the_month_grid(client, auth, demo):
    auth.login_demo(demo, "qualite")
    page = client.get("/campagnes/1/calendrier?mois=2018-03").get_data(as_text=True)
    cell = _day_cell(page, date(2018, 3, 13))
    assert "14:00" in cell and "Commission de suivi des stagiaires – CAVEM" in cell


@pytest.mark.parametrize("month", ["2018-13", "avril", "2018-4", "0001-01"])
def test_a_malformed_month_is_a_french_400(client, auth, demo, month):
    auth.login_demo(demo, "qualite")
    response = client.get(f"/campagnes/1/calendrier?mois={month}")
    assert response.status_code == 400
    assert "Mois invalide" in response.get_data(as_text=True)


def test_list_view_shows_the_coming_90_days_and_the_late_actions(client, auth, demo_today):
    today = local_today()
    tpm_manager = _user("tpm@e2c-var.example")
    late = _add_action("Afficher le règlement intérieur", tpm_manager, today - timedelta(days=8))
    auth.login_demo(demo_today, "qualite")
    page = client.get("/campagnes/1/calendrier?vue=liste").get_data(as_text=True)
    assert AFNOR in page  # in 55 days
    assert "Commission Nationale de Labellisation" in page  # in 78 days
    assert "Inauguration du site Dracénie" not in page  # in 93 days
    late_list = page[page.index('data-testid="late-list"'):]
    assert "Afficher le règlement intérieur" in late_list
    assert "en retard de 8 jours" in late_list
    assert f'id="action-{late.id}"' in page


def test_another_schools_campaign_calendar_is_a_404(client, auth, demo, make_user):
    other = factories.CampaignFactory()
    db.session.commit()
    auth.login_demo(demo, "direction")
    assert client.get(f"/campagnes/{other.id}/calendrier").status_code == 404


# ------------------------------------------------------------------------------------ the API


@pytest.fixture
def bearer(app):
    def issue(email: str) -> dict[str, str]:
        token, clear = ApiToken.issue(_user(email), "tests")
        db.session.add(token)
        db.session.commit()
        return {"Authorization": f"Bearer {clear}"}

    return issue


def test_api_calendar_ics_with_a_bearer_token(client, demo_today, bearer):
    campaign = _campaign()
    response = client.get(f"/api/v1/campaigns/{campaign.id}/calendar.ics",
                          headers=bearer("auditeur@e2c-var.example"))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["X-WR-CALNAME"]) == campaign.name
    assert f"milestone-{_afnor().id}@audit-tracker" in _events(response.data)


def test_api_calendar_ics_without_a_token_is_a_french_401(client, demo):
    response = client.get("/api/v1/campaigns/1/calendar.ics")
    assert response.status_code == 401
    assert response.json["error"].startswith("Authentification requise")


def test_api_calendar_ics_of_another_school_is_a_404(client, demo, bearer):
    other = factories.CampaignFactory()
    db.session.commit()
    response = client.get(f"/api/v1/campaigns/{other.id}/calendar.ics",
                          headers=bearer("direction@e2c-var.example"))
    assert response.status_code == 404
    assert response.json == {"error": "Campagne introuvable."}


def _slot_feed(client, auth, demo_today, local_part: str) -> dict[str, object]:
    """The slots of an account's own feed, fetched as a calendar client does: no cookie."""
    auth.login_demo(demo_today, local_part)
    client.post("/compte/calendrier", data={"action": "creer"})
    url = _feed_url(client)
    auth.logout()
    response = client.get(url)
    assert response.status_code == 200
    return {uid: e for uid, e in _events(response.data).items() if uid.startswith("slot-")}


def test_audit_slots_reach_the_feed_of_the_roles_met(client, auth, demo_today):
    from audit_tracker.findings.programme import SlotInput, add_slot
    from audit_tracker.models import Role

    afnor = _afnor()
    first_day = afnor.starts_on
    sites = {s.code: s for s in db.session.scalars(select(Site))}
    governance = add_slot(db.session, afnor, SlotInput(
        day=first_day, starts_at=time(9), ends_at=time(10, 30), site=sites["tpm"],
        place="Salle 2", topic="Gouvernance", criteria="A1, A2", roles=[Role.DIRECTOR]))
    tpm_visit = add_slot(db.session, afnor, SlotInput(
        day=first_day + timedelta(days=1), starts_at=time(9), site=sites["tpm"],
        topic="Visite du site", roles=[Role.SITE_MANAGER], people="formateurs, stagiaires"))
    # The words of the free text reach nobody: the CAVEM manager is not met here by role.
    recruiting = add_slot(db.session, afnor, SlotInput(
        day=first_day + timedelta(days=1), starts_at=time(14), site=sites["provence-verte"],
        topic="Recrutement", people="Responsable du site CAVEM ; partenaires"))
    closing = add_slot(db.session, afnor, SlotInput(
        day=first_day + timedelta(days=2), starts_at=time(16, 30), topic="Réunion de clôture",
        roles=[Role.DIRECTOR, Role.QUALITY_LEAD, Role.SITE_MANAGER]))
    db.session.commit()
    uid = {slot.topic: f"slot-{slot.id}@audit-tracker"
           for slot in (governance, tpm_visit, recruiting, closing)}

    quality = _slot_feed(client, auth, demo_today, "qualite")
    assert set(quality) == set(uid.values())  # the quality lead prepares every slot
    event = quality[uid["Gouvernance"]]
    start = event["DTSTART"]
    assert start.params["TZID"] == "Europe/Paris"
    assert start.dt.replace(tzinfo=None) == datetime.combine(first_day, time(9))
    assert event["DTEND"].dt.replace(tzinfo=None) == datetime.combine(first_day, time(10, 30))
    assert str(event["SUMMARY"]) == f"{afnor.title} : Gouvernance"
    assert str(event["LOCATION"]).endswith("· Salle 2")
    assert "Critères : A1, A2" in str(event["DESCRIPTION"])
    assert "Personnes rencontrées : Responsable de site, formateurs, stagiaires" in str(
        quality[uid["Visite du site"]]["DESCRIPTION"])
    # « Direction » ticked: the director's feed; not ticked, not there.
    assert set(_slot_feed(client, auth, demo_today, "direction")) == {
        uid["Gouvernance"], uid["Réunion de clôture"]}
    # « Responsable de site » at TPM: the TPM manager's, not CAVEM's; a school-wide slot, both.
    assert set(_slot_feed(client, auth, demo_today, "tpm")) == {
        uid["Visite du site"], uid["Réunion de clôture"]}
    assert set(_slot_feed(client, auth, demo_today, "cavem")) == {uid["Réunion de clôture"]}
    assert set(_slot_feed(client, auth, demo_today, "auditeur")) == set()  # not invited
    # The campaign's month grid shows the TPM manager their slot, as a timed entry of its day.
    auth.login_demo(demo_today, "tpm")
    page = client.get(f"/campagnes/{afnor.campaign_id}/calendrier",
                      query_string={"mois": f"{first_day:%Y-%m}"}).get_data(as_text=True)
    assert f"slot-{tpm_visit.id}" in page and "Visite du site" in page
    assert f"slot-{recruiting.id}" not in page


def test_an_invited_auditor_feed_holds_the_programme_of_their_campaign_only(
        client, auth, demo_today):
    from audit_tracker.auditors.service import invite
    from audit_tracker.clock import utcnow
    from audit_tracker.findings.programme import SlotInput, add_slot

    afnor = _afnor()
    slot = add_slot(db.session, afnor, SlotInput(day=afnor.starts_on, starts_at=time(9),
                                                 topic="Réunion d’ouverture"))
    other = factories.CampaignFactory(school=afnor.campaign.school)
    today = local_today()
    invitation = invite(db.session, afnor.campaign, "auditrice@afnor.example",
                        "Auditrice AFNOR", today, today + timedelta(days=3), today, utcnow())
    elsewhere = invite(db.session, other, "autre@afnor.example", "Autre auditeur", today,
                       today + timedelta(days=3), today, utcnow())
    db.session.commit()

    def feed_of(token: str, email: str) -> bytes:
        password = "une phrase de passe longue"
        assert client.post(f"/mot-de-passe/{token}", data={
            "password": password, "confirm": password}).status_code == 302
        client.post("/connexion", data={"email": email, "password": password})
        home = client.get("/auditeur").get_data(as_text=True)
        assert 'data-testid="auditor-calendar"' in home
        page = client.get("/compte/calendrier").get_data(as_text=True)
        assert "programme de l’audit" in page
        client.post("/compte/calendrier", data={"action": "creer"})
        url = _feed_url(client)
        client.post("/deconnexion")
        response = client.get(url)
        assert response.status_code == 200
        return response.data

    events = _events(feed_of(invitation.token, "auditrice@afnor.example"))
    # The programme's slot, and nothing of the school's deadlines, actions or proofs.
    assert set(events) == {f"slot-{slot.id}@audit-tracker"}
    assert _events(feed_of(elsewhere.token, "autre@afnor.example")) == {}
