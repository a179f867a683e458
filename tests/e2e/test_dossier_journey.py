"""The dossier journey of the issue: the director starts a build from the campaign page, watches
the progress bar reach 100 % without reloading by hand, downloads the PDF, and the test opens it;
then builds the other edition, the internal review, and the list shows both."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from playwright.sync_api import Page, expect
from pypdf import PdfReader

from .test_director_journey import log_in

DIRECTOR = "direction@e2c-var.example"
CAMPAIGN = re.compile("Labellisation E2C")
# A copy of the finished build page's screenshot outside pytest's temporary folders, to look at.
SCREENSHOT_COPY = Path(tempfile.gettempdir()) / "dossier-build.png"


def test_director_builds_the_dossier_and_downloads_it(page: Page, story_server, tmp_path):
    page.goto(f"{story_server.url}/connexion")
    log_in(page, DIRECTOR, story_server.accounts[DIRECTOR])
    page.get_by_role("link", name=CAMPAIGN).first.click()
    page.get_by_role("link", name="Dossier de preuves").click()
    expect(page.get_by_role("heading", name="Dossier de preuves")).to_be_visible()

    page.get_by_role("link", name="Construire un dossier").click()
    form = page.locator("#dossier-form")
    expect(form.get_by_label("Date de référence")).not_to_have_value("")
    expect(form.get_by_label("Joindre les annexes")).to_be_checked()
    expect(form.get_by_label("Inclure les preuves contenant des données personnelles")
           ).not_to_be_checked()
    # The school's edition, the one it sends, is offered first.
    expect(form.get_by_label(re.compile("^Dossier de l’école"))).to_be_checked()
    form.get_by_role("button", name="Lancer la construction").click()

    # The build page polls its status; the bar fills, then the page shows the downloads.
    expect(page).to_have_url(re.compile(r"/dossier/\d+$"))
    expect(page.get_by_text("La construction du dossier a commencé.")).to_be_visible()
    result = page.get_by_test_id("dossier-result")
    expect(result).to_be_visible(timeout=120_000)
    bar = page.get_by_test_id("dossier-bar")
    expect(bar).to_have_text("100 %")
    expect(bar).to_have_attribute("style", re.compile(r"width: 100%"))
    sha256 = page.get_by_test_id("dossier-sha256").inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", sha256)
    page.screenshot(path=str(tmp_path / "dossier-build.png"), full_page=True)
    shutil.copyfile(tmp_path / "dossier-build.png", SCREENSHOT_COPY)

    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()
    download = download_info.value
    assert re.fullmatch(r"dossier-.+-\d{4}-\d{2}-\d{2}-n\d+\.pdf", download.suggested_filename)
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    data = saved.read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha256
    reader = PdfReader(saved)
    assert len(reader.pages) >= 2
    first_pages = "\n".join(reader.pages[i].extract_text() for i in range(2))
    assert "E2C" in first_pages
    # The demo's proofs are in it, numbered, with their annexes and bookmarks.
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Pièce 1" in text and "Rapport de pré-audit du référent réseau" in text
    assert any(item.title.startswith("Pièce ") for item in _flatten(reader.outline))
    # The sent edition: nothing of the internal review.
    assert "Dossier de l’école" in text
    assert "à valider" not in text.lower() and "preuve manquante" not in text.lower()

    # The internal review, from the same form: every state is in it.
    page.get_by_role("link", name="Dossier de preuves").click()
    page.get_by_role("link", name="Construire un dossier").click()
    form = page.locator("#dossier-form")
    form.get_by_label(re.compile("^Revue interne")).check()
    form.get_by_label("Joindre les annexes").uncheck()
    form.get_by_role("button", name="Lancer la construction").click()
    expect(page.get_by_test_id("dossier-result")).to_be_visible(timeout=120_000)
    with page.expect_download() as download_info:
        page.get_by_test_id("download-pdf").click()
    internal = tmp_path / "interne.pdf"
    download_info.value.save_as(internal)
    internal_text = " ".join(p.extract_text() for p in PdfReader(internal).pages).lower()
    assert "revue interne" in internal_text and "à valider" in internal_text

    # The list now answers "what did we send, and when?" with this very file.
    page.get_by_role("link", name="Dossier de preuves").click()
    rows = page.get_by_test_id("dossier-builds").locator("tbody tr")
    expect(rows.first).to_contain_text("Revue interne")
    row = rows.nth(1)
    expect(row).to_contain_text("Terminé")
    expect(row).to_contain_text("Dossier de l’école")
    expect(row.locator("code")).to_have_attribute("title", sha256)


def _flatten(outline) -> list:
    """Every bookmark of a pypdf outline, nested lists flattened."""
    items = []
    for entry in outline:
        items.extend(_flatten(entry) if isinstance(entry, list) else [entry])
    return items
