"""The auditor journey of issue 12: the quality lead builds the school's edition and invites an
auditor for the campaign; the auditor opens the invitation link, chooses a password, logs in,
reads the sent edition (the PDF, opened) and cannot see a draft anywhere: not in the list, not
by search, not by its address."""

from __future__ import annotations

import re
import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import expect
from pypdf import PdfReader

from .test_director_journey import log_in

QUALITY = "qualite@e2c-var.example"
AUDITOR = "auditrice.e2e@afnor.example"
PASSWORD = "la phrase de passe de l’auditrice"
CAMPAIGN = re.compile("Labellisation E2C")
DRAFT = "Convention tripartite Plombiers du Numérique"
SENT = "Organigramme de l’E2C Var"
SCREENSHOTS = Path(tempfile.gettempdir())


def test_the_auditor_logs_in_through_the_invitation_and_reads_only_what_is_sent(
        browser, story_server, tmp_path):
    quality = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris").new_page()
    quality.goto(f"{story_server.url}/connexion")
    log_in(quality, QUALITY, story_server.accounts[QUALITY])
    # The draft's address, as the school sees it.
    quality.goto(f"{story_server.url}/preuves/?q=Plombiers")
    draft_href = quality.get_by_role("link", name=re.compile(DRAFT)).first.get_attribute("href")
    assert draft_href and re.search(r"/preuves/\d+$", draft_href)

    # The school's edition, the one it sends.
    quality.goto(f"{story_server.url}/")
    quality.get_by_role("link", name=CAMPAIGN).first.click()
    campaign_url = quality.url
    quality.get_by_role("link", name="Dossier de preuves").click()
    quality.get_by_role("link", name="Construire un dossier").click()
    form = quality.locator("#dossier-form")
    expect(form.get_by_label(re.compile("^Dossier de l’école"))).to_be_checked()
    form.get_by_role("button", name="Lancer la construction").click()
    expect(quality.get_by_test_id("dossier-result")).to_be_visible(timeout=120_000)

    # The invitation: one campaign, two dates; the link is shown once.
    quality.goto(campaign_url)
    quality.get_by_role("link", name="Auditeurs invités").click()
    today = story_server.today
    quality.get_by_label("Adresse e-mail de l’auditeur").fill(AUDITOR)
    quality.get_by_label("Nom affiché").fill("Auditrice AFNOR")
    quality.get_by_label("Début de l’accès").fill(today.isoformat())
    quality.get_by_label("Fin de l’accès").fill((today + timedelta(days=3)).isoformat())
    quality.get_by_role("button", name="Inviter").click()
    link = quality.get_by_test_id("invitation-link").locator("code").inner_text().strip()
    assert "/mot-de-passe/" in link
    expect(quality.get_by_test_id("auditors")).to_contain_text(AUDITOR)
    quality.screenshot(path=str(SCREENSHOTS / "auditor-invite.png"), full_page=True)
    quality.context.close()

    auditor = browser.new_context(locale="fr-FR", timezone_id="Europe/Paris",
                                  accept_downloads=True).new_page()
    auditor.goto(link)
    auditor.get_by_label("Nouveau mot de passe").fill(PASSWORD)
    auditor.get_by_label("Confirmez le mot de passe").fill(PASSWORD)
    auditor.get_by_role("button", name="Enregistrer le mot de passe").click()
    expect(auditor).to_have_url(re.compile("/connexion"))
    log_in(auditor, AUDITOR, PASSWORD)
    expect(auditor).to_have_url(f"{story_server.url}/auditeur")
    proofs = auditor.get_by_test_id("sent-proofs")
    expect(proofs).to_contain_text(SENT)
    expect(proofs).not_to_contain_text(DRAFT)
    auditor.screenshot(path=str(tmp_path / "auditor-home.png"), full_page=True)
    shutil.copyfile(tmp_path / "auditor-home.png", SCREENSHOTS / "auditor-home.png")

    # The sent edition, read.
    with auditor.expect_download() as download_info:
        auditor.get_by_test_id("sent-editions").get_by_role("link").first.click()
    saved = tmp_path / "envoye.pdf"
    download_info.value.save_as(saved)
    text = "\n".join(page.extract_text() for page in PdfReader(saved).pages)
    assert "Dossier de l’école" in text and "E2C" in text
    assert "convention tripartite" not in text.lower() and "à valider" not in text.lower()

    # No draft by search, nor by its address, nor through the school's own pages.
    auditor.get_by_label("Rechercher").fill("Plombiers")
    auditor.get_by_role("button", name="Rechercher").click()
    expect(auditor.get_by_text("Aucune preuve validée ne correspond.")).to_be_visible()
    expect(auditor.locator("main")).not_to_contain_text(DRAFT)
    draft_id = draft_href.rsplit("/", 1)[1]
    response = auditor.goto(f"{story_server.url}/auditeur/preuves/{draft_id}")
    assert response is not None and response.status == 404
    response = auditor.goto(f"{story_server.url}{draft_href}")
    assert response is not None and response.status == 403
    response = auditor.goto(campaign_url)
    assert response is not None and response.status == 403
    auditor.context.close()
