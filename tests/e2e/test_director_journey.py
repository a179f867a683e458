"""The director's first look at the label campaign, and what a read-only auditor may not do."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .conftest import complete_login

# The shifted demo names the campaign after its audit's year, whatever today is.
CAMPAIGN = re.compile(r"^Labellisation E2C \d{4}$")


def log_in(page: Page, email: str, password: str) -> None:
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    complete_login(page, email)


def test_director_sees_the_audit_countdown(page: Page, live_server, tmp_path):
    email = "direction@e2c-var.example"
    page.goto(f"{live_server.url}/connexion")
    log_in(page, email, live_server.accounts[email])

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("verdict")).to_be_visible()  # her home: the verdict
    page.get_by_role("link", name="Toutes les campagnes").click()
    expect(page.get_by_role("heading", name="Campagnes de labellisation")).to_be_visible()

    page.get_by_role("link", name=CAMPAIGN).click()
    expect(page).to_have_url(re.compile(r"/campagnes/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(CAMPAIGN)

    countdown = page.get_by_test_id("audit-countdown")
    expect(countdown).to_be_visible()
    expect(countdown).to_contain_text(
        re.compile(r"55 jours\s+avant « Audit de labellisation AFNOR Certification »")
    )
    expect(page.get_by_test_id("timeline")).to_contain_text("Commission Nationale de Labellisation")
    expect(page.get_by_role("link", name="Ajouter une échéance")).to_be_visible()

    screenshot = tmp_path / "director-campaign.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 0


def test_login_required_and_auditor_is_read_only(page: Page, live_server):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(re.compile(r"/connexion\?next=(/|%2F)$"))
    expect(page.get_by_role("alert")).to_contain_text("Veuillez vous connecter")

    email = "auditeur@e2c-var.example"
    log_in(page, email, live_server.accounts[email])
    page.get_by_role("link", name=CAMPAIGN).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(CAMPAIGN)
    expect(page.get_by_test_id("audit-countdown")).to_contain_text("55 jours")
    expect(page.get_by_role("link", name="Ajouter une échéance")).to_have_count(0)
    expect(page.get_by_role("link", name="Modifier la campagne")).to_have_count(0)
