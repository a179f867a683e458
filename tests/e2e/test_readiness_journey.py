"""The director before the commission: the dashboard at the commission's date, a criterion at
risk and why, the go / no-go printed on one page, the signature."""

from __future__ import annotations

import re
from datetime import date

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from .conftest import complete_login

DIRECTOR = "direction@e2c-var.example"


def test_director_checks_readiness_for_the_commission_and_signs(page: Page, story_server,
                                                                  tmp_path):
    page.goto(f"{story_server.url}/connexion")
    page.get_by_label("Adresse e-mail").fill(DIRECTOR)
    page.get_by_label("Mot de passe").fill(story_server.accounts[DIRECTOR])
    page.get_by_role("button", name="Se connecter").click()
    complete_login(page, DIRECTOR)

    page.get_by_role("link", name=re.compile(r"^Labellisation E2C \d{4}$")).click()
    page.get_by_role("link", name="Préparation", exact=True).click()
    expect(page.get_by_role("heading", name="Sommes-nous prêts ?")).to_be_visible()
    expect(page.get_by_test_id("share")).to_contain_text("%")
    expect(page.get_by_test_id("late-actions")).to_contain_text("9 jours de retard")

    # The commission's date as the reference.
    page.get_by_test_id("reference-form").get_by_role(
        "link", name=re.compile(r"^Commission nationale · ")).click()
    expect(page).to_have_url(re.compile(r"/preparation\?date=\d{4}-\d{2}-\d{2}$"))
    commission_day = page.url.rsplit("=", 1)[1]
    expect(page.get_by_test_id("reference-form").get_by_role(
        "link", name=re.compile(r"^Commission nationale · "))).to_have_class(re.compile("active"))

    # The criteria at risk, then one of them and why: its only proof ends before the commission.
    page.get_by_test_id("counts").locator('[data-state="a_risque"]').click()
    expect(page).to_have_url(re.compile(rf"/criteres\?date={commission_day}&etat=a_risque$"))
    rows = page.get_by_test_id("criterion-row")
    expect(rows.first.locator('[data-state="a_risque"]')).to_be_visible()
    rows.filter(has_text="B1").get_by_role("link", name="B1", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/criteres/\d+\?date={commission_day}$"))
    verdict = page.get_by_test_id("verdict")
    expect(verdict).to_contain_text("À risque")
    expect(verdict.get_by_test_id("reasons")).to_contain_text(
        re.compile(r"La seule preuve \(« Tableau de bord des entrées et sorties au "
                   r"\d{2}/\d{2}/\d{4} »\) expire le \d{2}/\d{2}/\d{4}, avant la commission"))

    # The go / no-go for the commission, printed: one page.
    page.get_by_role("link", name="Préparation").first.click()
    page.get_by_role("link", name="Go / no-go : Commission nationale").click()
    checklist = page.get_by_test_id("checklist")
    expect(checklist.get_by_test_id("verdict")).to_have_text("NO-GO")
    expect(checklist.locator('[data-code="retards"]')).to_contain_text("9 jours de retard")
    page.emulate_media(media="print")
    printed = tmp_path / "go-no-go.pdf"
    page.pdf(path=str(printed), format="A4")
    reader = PdfReader(printed)
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "NO-GO" in text and "Aucune action en retard" in text, text
    assert "Se déconnecter" not in text and "Langue" not in text  # no navigation, no footer
    page.emulate_media(media="screen")

    # The signature, frozen with its hash.
    page.get_by_role("link", name="Préparation").first.click()
    page.get_by_role("link", name="Signer l’état de préparation").click()
    form = page.get_by_test_id("sign-form")
    form.get_by_label("Date de référence signée").fill(commission_day)
    day = date.fromisoformat(commission_day)
    form.get_by_label("Échéance visée").select_option(
        label=f"Commission Nationale de Labellisation ({day:%d/%m/%Y})")
    form.get_by_label("Commentaire").fill("Prêts sous réserve des deux actions en retard.")
    # Signing asks who signs, unless she proved it minutes ago: she logged in with her password
    # and her code at the start of this journey (tests/test_reauth.py types them after 6 min).
    expect(form.get_by_test_id("reauth-spared")).to_contain_text("rien à retaper")
    form.get_by_role("button", name="Signer l’état de préparation").click()
    expect(page.get_by_role("alert")).to_contain_text("État de préparation signé")
    signature = page.get_by_test_id("signature")
    expect(signature).to_contain_text("Direction de l’E2C Var")
    expect(signature).to_contain_text("intègre")
    expect(signature.locator("code")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
