"""A site manager corrects their site's month of key indicators; the totals follow, weighted;
an impossible count is refused in French and the typed figures stay in the form."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from .test_director_journey import log_in

CAVEM = "cavem@e2c-var.example"


def test_site_manager_corrects_a_month_and_the_totals_follow(page: Page, live_server):
    page.goto(f"{live_server.url}/connexion")
    log_in(page, CAVEM, live_server.accounts[CAVEM])
    page.get_by_role("link", name=re.compile(r"^Labellisation E2C \d{4}$")).click()
    page.get_by_role("link", name="Indicateurs clés").click()

    table = page.get_by_test_id("indicator-table")
    total = table.locator("tfoot tr, tbody tr").filter(has_text="Total").first
    expect(total).to_contain_text("252")  # the note's 252 entries
    expect(table.get_by_test_id("row-cavem")).to_contain_text("48")

    page.get_by_role("link", name="Détail par mois").click()
    page.get_by_role("link", name="modifier").last.click()
    form = page.get_by_test_id("entry-form")
    expect(form.get_by_label("Site")).to_have_value(re.compile(r"^\d+$"))
    # A site manager is offered their own site only.
    expect(form.get_by_label("Site").locator("option")).to_have_count(2)  # « choisir » + CAVEM
    entries = form.get_by_label("Stagiaires entrés")
    before = int(entries.input_value())

    # More QPV entrants than entrants: refused in French, nothing saved, figures kept.
    entries.fill(str(before + 2))
    form.get_by_label("dont issus des QPV").fill(str(before + 5))
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert").first).to_contain_text(
        f"Les stagiaires issus des QPV ({before + 5}) ne peuvent pas dépasser les stagiaires "
        f"entrés ({before + 2}).")
    expect(page.get_by_test_id("entry-form").get_by_label("Stagiaires entrés")).to_have_value(
        str(before + 2))

    # Corrected: two more entrants, none from the QPV; the totals follow.
    form = page.get_by_test_id("entry-form")
    form.get_by_label("dont issus des QPV").fill("0")
    form.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("alert").first).to_contain_text("Indicateurs enregistrés")
    page.get_by_role("link", name="Indicateurs clés").first.click()
    table = page.get_by_test_id("indicator-table")
    expect(table.get_by_test_id("row-cavem")).to_contain_text("50")
    expect(table.locator("tr").filter(has_text="Total").first).to_contain_text("254")
