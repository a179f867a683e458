"""The audit day's journey of issue 16: the quality lead prepares the AFNOR audit's programme for
its three days (24–26 April in the seed) on the four sites, each meeting the site's manager
(a role ticked) and the trainees (typed), imports a sample of 12 learners' files, prints the
programme (one A4 page per day), and on the day ticks the checklist at 390 px."""

from __future__ import annotations

import io
from datetime import timedelta

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from .test_daily_journeys import shoot
from .test_director_journey import CAMPAIGN, log_in
from .test_findings_journey import AFNOR_AUDIT, AFNOR_IN_DAYS, QUALITY, choose

# day of the audit (0, 1, 2), site as the list names it, topic, criteria
SLOTS = [
    (0, "CAVEM", "Gouvernance et comités locaux", "A2"),
    (0, "Dracénie", "Parcours des stagiaires", "C2"),
    (1, "Provence Verte", "Partenariats et recrutement", "D1, C5"),
    (2, "TPM", "Commissions de suivi des stagiaires", "F2"),
]


def sample_csv() -> bytes:
    sites = ["cavem", "dracenie", "provence-verte", "tpm"]
    rows = "".join(f"E2C-{n:03d};Prénom Nom {n};{sites[n % 4]};2018-01-15;oui;infra V;;\n"
                   for n in range(1, 13))
    return ("identifiant;nom;site;entree;qpv;niveau;sortie;type_sortie\n" + rows).encode()


def test_programme_sample_print_and_checklist(page: Page, browser, story_server):
    url = story_server.url
    first_day = story_server.today + timedelta(days=AFNOR_IN_DAYS)

    page.goto(f"{url}/connexion")
    log_in(page, QUALITY, story_server.accounts[QUALITY])
    page.get_by_role("link", name=CAMPAIGN).click()
    page.get_by_role("link", name=AFNOR_AUDIT).click()
    page.get_by_test_id("programme-link").click()
    expect(page.get_by_role("heading", name="Programme d’audit")).to_be_visible()

    # 1. Four slots over three days, one per site.
    for offset, site, topic, criteria in SLOTS:
        form = page.get_by_test_id("slot-form")
        form.get_by_label("Jour").fill((first_day + timedelta(days=offset)).isoformat())
        form.get_by_label("Début").fill("09:00")
        form.get_by_label("Fin").fill("10:30")
        choose(page, "#site_id", site)
        form.get_by_label("Thème").fill(topic)
        form.get_by_label("Critères (codes)").fill(criteria)
        # Whom the auditor meets: the site's manager, ticked, and the trainees, typed.
        form.get_by_label("Responsable de site", exact=True).check()
        form.get_by_label("Autres personnes rencontrées").fill("stagiaires")
        form.get_by_label("Auditeur").fill("Auditeur AFNOR")
        form.get_by_role("button", name="Ajouter le créneau").click()
        expect(page.get_by_text("Créneau ajouté.")).to_be_visible()
    for offset in range(3):
        expect(page.get_by_test_id(f"day-{(first_day + timedelta(days=offset)).isoformat()}")
               ).to_be_visible()
    # The TPM slot names its paper proof and where it is.
    expect(page.get_by_text("classeur « Commissions de suivi »").first).to_be_visible()

    # 2. The sample of 12 files, without the names column.
    page.get_by_test_id("sample-import").locator("input[type=file]").set_input_files(
        files=[{"name": "echantillon.csv", "mimeType": "text/csv", "buffer": sample_csv()}])
    page.get_by_role("button", name="Importer").click()
    expect(page.get_by_text("12 dossier(s) ajouté(s)")).to_be_visible()
    expect(page.get_by_test_id("sample-count")).to_have_text("12")
    expect(page.get_by_test_id("samples")).not_to_contain_text("Prénom Nom")
    # The first file entrusted to the TPM site manager, who will prepare it.
    first = page.get_by_test_id("sample-preparer").first
    first.locator("select").select_option(label="Responsable du site TPM")
    first.get_by_role("button", name="Confier").click()
    expect(page.get_by_test_id("sample-preparer").first.locator("select option:checked")
           ).to_have_text("Responsable du site TPM")
    shoot(page, "programme-samples")

    # 3. The print: one A4 page per day.
    page.get_by_test_id("print-link").click()
    expect(page.get_by_test_id("print-day")).to_have_count(3)
    reader = PdfReader(io.BytesIO(page.pdf(format="A4")))
    assert len(reader.pages) == 3
    last_day = " ".join(reader.pages[2].extract_text().split())  # the table wraps lines
    assert "Commissions de suivi des stagiaires" in last_day
    assert "classeur « Commissions de suivi »" in last_day
    assert "Responsable de site, stagiaires" in last_day

    # 4. On the day, from a phone: the TPM paper proof is shown.
    phone = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                viewport={"width": 390, "height": 844},
                                storage_state=page.context.storage_state())
    try:
        mobile = phone.new_page()
        mobile.goto(page.url.replace("/imprimer", "/jour"))
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 390
        card = mobile.locator("[data-testid^=slot-]").filter(
            has_text="Commissions de suivi des stagiaires")
        check = card.locator("[data-testid^=check-]").first
        expect(check).to_have_attribute("data-state", "")
        check.get_by_role("button", name="Montrée").click()
        expect(card.locator("[data-testid^=check-]").first).to_have_attribute("data-state",
                                                                                "shown")
    finally:
        phone.close()
