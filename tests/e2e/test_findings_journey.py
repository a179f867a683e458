"""The findings journey of the issue: the quality lead records three findings from the pré-audit
and their actions; the calendar shows them; the ICS feed parses with the ``icalendar`` library."""

from __future__ import annotations

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from .test_director_journey import CAMPAIGN, log_in

QUALITY = "qualite@e2c-var.example"
PRE_AUDIT = "Pré-audit de labellisation"
AFNOR_AUDIT = "Audit de labellisation AFNOR Certification"

# The shifted demo: today is the seed's 28 February 2018, the pré-audit ran 20–22 February, the
# AFNOR audit runs 24–26 April (55 days after today, for three days).
AFNOR_IN_DAYS = 55

# type label, title, criteria codes — the three findings of the pré-audit.
FINDINGS = [
    ("Point sensible", "Part de diplômés trop élevée", "B1"),
    ("Non-conformité mineure", "Comptes rendus des COL non formalisés", "A2"),
    ("Piste de progrès", "Logique de preuve à systématiser", "H2"),
]
ACTION_ON_SENSITIVE = "Revoir le sourcing des jeunes avec les prescripteurs"
ACTION_ON_NC = "Modèle de compte rendu pour chaque COL"


def short(day: date) -> str:
    """A date as the pages print it (``date_short``)."""
    return day.strftime("%d/%m/%Y")


def choose(page: Page, select: str, text: str | re.Pattern) -> None:
    """Pick the offered option whose text matches, as a user reading the list would (an option
    of a disabled group, another référentiel's scale, is not offered)."""
    option = page.locator(f"{select} option:enabled").filter(has_text=text).first
    page.locator(select).select_option(value=option.get_attribute("value"))


def test_findings_actions_calendar_and_feed(page: Page, live_server):
    import icalendar

    url = live_server.url
    today = live_server.today  # the server's clock, on the day that plays 28 February
    afnor_start = today + timedelta(days=AFNOR_IN_DAYS)
    # Issue 16: a pré-audit's findings, whatever their type, are due 15 days before the AFNOR
    # audit (the scale's margin); no longer the NC mineure six months after the pré-audit.
    expected_due = {
        1: afnor_start - timedelta(days=15),  # point sensible
        2: afnor_start - timedelta(days=15),  # NC mineure: before the audit it prepares
        3: afnor_start - timedelta(days=15),  # piste de progrès
    }

    # 1. The campaign, then the pré-audit in its timeline.
    page.goto(f"{url}/connexion")
    log_in(page, QUALITY, live_server.accounts[QUALITY])
    page.get_by_role("link", name=CAMPAIGN).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CAMPAIGN)
    campaign_url = page.url
    page.get_by_test_id("timeline").get_by_role("link", name=PRE_AUDIT, exact=True).click()
    expect(page).to_have_url(re.compile(r"/campagnes/\d+/audits/\d+"))
    expect(page.get_by_role("heading", level=1)).to_have_text(PRE_AUDIT)
    event_path = re.search(r"/campagnes/\d+/audits/\d+", page.url).group(0)

    entry = page.get_by_test_id("fast-entry")
    findings = page.get_by_test_id("findings")
    expect(entry.get_by_role("heading")).to_contain_text("Saisir le constat n°1")
    choose(page, "#framework_id", re.compile(r"^Label E2C"))
    e2c_framework = page.locator("#framework_id").input_value()
    # A type on both scales is offered once: the other référentiel's scale is disabled.
    expect(page.locator("#type_code option").filter(
        has_text=re.compile(r"^Non-conformité mineure$"))).to_have_count(2)
    expect(page.locator("#type_code option:enabled").filter(
        has_text=re.compile(r"^Non-conformité mineure$"))).to_have_count(1)
    for number, (kind, title, codes) in enumerate(FINDINGS, start=1):
        choose(page, "#type_code", re.compile(f"^{kind}$"))
        entry.get_by_label("Critères").fill(codes)
        title_field = entry.get_by_label("Intitulé du constat")
        title_field.fill(title)
        if number == 2:  # the fast entry's promise: Enter saves and prepares the next one
            title_field.press("Enter")
        else:
            entry.get_by_role("button", name="Enregistrer le constat").click()
        expect(page.get_by_role("alert")).to_contain_text(
            f"Constat n°{number} enregistré : {title}"
        )
        # Back on the same page, ready for the next one with the same framework and type.
        expect(page).to_have_url(re.compile(re.escape(event_path) + r"\?.*#saisie$"))
        expect(entry.get_by_role("heading")).to_contain_text(f"Saisir le constat n°{number + 1}")
        expect(page.locator("#framework_id")).to_have_value(e2c_framework)
        expect(page.locator("#type_code option:checked")).to_have_text(kind)
        expect(entry.get_by_label("Intitulé du constat")).to_have_value("")

        row = findings.get_by_test_id(f"finding-{number}")
        expect(row.get_by_role("cell").first).to_have_text(f"n°{number}")
        expect(row.get_by_test_id("type")).to_have_text(kind)
        expect(row.get_by_role("link", name=title, exact=True)).to_be_visible()
        expect(row.get_by_test_id("criteria")).to_have_text(codes)
        due = expected_due[number]
        if due is None:
            expect(row.get_by_test_id("due")).to_have_count(0)
        else:
            expect(row.get_by_test_id("due")).to_have_text(short(due))
    expect(page.get_by_role("heading", name="3 constats")).to_be_visible()

    # 2. An action answering the point sensible, from the finding's page.
    findings.get_by_role("link", name=FINDINGS[0][1], exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FINDINGS[0][1])
    page.get_by_role("link", name="Ajouter une action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle action")
    form = page.get_by_test_id("action-form")
    # The form answers the finding, by its due date, with its criteria.
    expect(form.get_by_label("Constats traités").locator("option:checked")).to_contain_text(
        FINDINGS[0][1]
    )
    expect(form.get_by_label("Échéance")).to_have_value(expected_due[1].isoformat())
    expect(form.get_by_label("Critères")).to_have_value("B1")
    first_due = today + timedelta(days=20)
    form.get_by_label("Intitulé de l’action").fill(ACTION_ON_SENSITIVE)
    choose(page, "#owner_id", re.compile(r"^Direction"))
    form.get_by_label("Échéance").fill(first_due.isoformat())
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Action « {ACTION_ON_SENSITIVE} » ajoutée au plan."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(ACTION_ON_SENSITIVE)
    expect(page.get_by_text(re.compile(r"responsable : Direction"))).to_be_visible()

    # A second one for the non-conformity, from the action plan's « Nouvelle action ».
    page.get_by_role("link", name="Plan d’actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Plan d’actions correctives")
    page.get_by_role("link", name="Nouvelle action").click()
    second_due = today + timedelta(days=27)
    form.get_by_label("Intitulé de l’action").fill(ACTION_ON_NC)
    choose(page, "#owner_id", re.compile(r"^Direction"))
    form.get_by_label("Échéance").fill(second_due.isoformat())
    choose(page, "#finding_ids", FINDINGS[1][1])
    form.get_by_label("Critères").fill("A2")
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Action « {ACTION_ON_NC} » ajoutée au plan.")
    expect(page.get_by_text("Non-conformité mineure", exact=True)).to_be_visible()

    page.get_by_role("link", name="Plan d’actions").click()
    rows = page.get_by_test_id("action-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(ACTION_ON_SENSITIVE)  # by due date
    expect(rows.nth(0)).to_contain_text(short(first_due))
    expect(rows.nth(0)).to_contain_text("Direction")
    expect(rows.nth(1)).to_contain_text(ACTION_ON_NC)
    expect(rows.nth(1)).to_contain_text(short(second_due))
    expect(rows.get_by_test_id("action-status")).to_have_text(["À faire", "À faire"])

    # 3. The month of the first action's due date, then the list view.
    campaign_path = re.search(r"/campagnes/\d+", campaign_url).group(0)
    page.goto(f"{url}{campaign_path}/calendrier?mois={first_due:%Y-%m}")
    grid = page.get_by_test_id("month-grid")
    cell = grid.locator(f"td[data-day='{first_due.isoformat()}']")
    expect(cell.locator(".cal-entry[data-kind=action]")).to_contain_text(ACTION_ON_SENSITIVE)
    page.get_by_role("link", name="Liste", exact=True).click()
    expect(page).to_have_url(re.compile(r"vue=liste"))
    afnor_day = page.locator(f"h3[data-day='{afnor_start.isoformat()}'] + ul")
    expect(afnor_day.get_by_role("link", name=AFNOR_AUDIT, exact=True)).to_be_visible()
    for action_title, due in ((ACTION_ON_SENSITIVE, first_due), (ACTION_ON_NC, second_due)):
        day = page.locator(f"h3[data-day='{due.isoformat()}'] + ul")
        expect(day.get_by_role("link", name=re.compile(re.escape(action_title)))).to_be_visible()

    # 4. The personal feed: create the link, read it, fetch it without any cookie, parse it.
    page.goto(f"{url}/compte/calendrier")
    page.get_by_role("button", name="Créer mon lien").click()
    expect(page.get_by_role("alert")).to_contain_text("Votre lien d’abonnement est prêt.")
    feed_field = page.get_by_test_id("feed-url")
    expect(feed_field).to_have_value(re.compile(r"/calendrier/[A-Za-z0-9_-]+\.ics$"))
    feed_url = feed_field.input_value()
    assert feed_url.startswith(url)

    anonymous = page.context.browser.new_context()
    try:
        response = anonymous.request.get(feed_url)
        assert response.ok, response.status
        assert response.headers["content-type"].startswith("text/calendar")
        body = response.body()
    finally:
        anonymous.close()

    calendar = icalendar.Calendar.from_ical(body)
    events = calendar.walk("VEVENT")
    assert events
    summaries = [str(e.get("summary")) for e in events]
    for action_title in (ACTION_ON_SENSITIVE, ACTION_ON_NC):
        assert any(action_title in s for s in summaries), summaries

    afnor = [e for e in events if str(e.get("summary")) == AFNOR_AUDIT]
    assert len(afnor) == 1, summaries
    start = afnor[0].decoded("dtstart")
    end = afnor[0].decoded("dtend")
    assert type(start) is date and type(end) is date  # all day: dates, not datetimes
    assert start == afnor_start
    assert end == start + timedelta(days=3)  # 24, 25, 26 April: DTEND exclusive

    uids = [str(e.get("uid")) for e in events]
    assert len(uids) == len(set(uids)), uids
