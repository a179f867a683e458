"""The director writes March 2018's progress note in the browser: prepares it, edits
« Financements », issues it, downloads the PDF and the DOCX, and finds it in the proof library,
validated, with its hash. The demo is at its real dates with the clock on Friday 30 March 2018,
so March is the month in progress."""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from playwright.sync_api import Page, expect
from pypdf import PdfReader
from werkzeug.serving import make_server

from audit_tracker import create_app
from audit_tracker.demo import load_demo
from audit_tracker.demo_story import load_demo_story
from audit_tracker.extensions import db
from audit_tracker.referentiel.service import load_shipped_referentiels
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

from .conftest import LiveServer, register_totp
from .test_director_journey import log_in

DIRECTOR = "direction@e2c-var.example"
# Screenshots go to the test's folder, or where AUDIT_TRACKER_SHOTS_DIR says (to look at them).
SHOTS_DIR = os.environ.get("AUDIT_TRACKER_SHOTS_DIR")


@pytest.fixture(scope="module")
def march_server(tmp_path_factory) -> Iterator[LiveServer]:
    """The demo as `make run --real-dates` loads it (story included), seen on 30 March 2018."""
    root = tmp_path_factory.mktemp("notes_server")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "e2e-secret-key",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'e2e.sqlite3'}",
        "INSTANCE_PATH": str(root / "instance"),
        "EVIDENCE_STORAGE": "local",
        "EVIDENCE_DIR": str(root / "evidence"),
        "NOTES_DIR": str(root / "notes"),
        "UPLOAD_TMP_DIR": str(root / "upload-tmp"),
        "WTF_CSRF_ENABLED": True,
        "TODAY": date(2018, 3, 30),
    })
    with app.app_context():
        db.create_all()
        load_shipped_referentiels(db.session)
        accounts = load_demo(db.session, today=None)
        db.session.commit()
        load_demo_story(db.session, storage_for(app, EVIDENCE), upload_tmp_dir(app), today=None)
        db.session.remove()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="e2e-notes", daemon=True)
    thread.start()
    register_totp(app, f"http://127.0.0.1:{server.server_port}", accounts)
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}",
                         accounts={a.email: a.password for a in accounts},
                         today=app.config["TODAY"])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()


def shoot(page: Page, folder: Path, name: str) -> None:
    """The page at a laptop's and a phone's width, for a person to look at (not committed)."""
    folder = Path(SHOTS_DIR) if SHOTS_DIR else folder
    folder.mkdir(parents=True, exist_ok=True)
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        shot = folder / f"{name}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 0
    page.set_viewport_size({"width": 1366, "height": 900})


def test_director_writes_issues_and_files_march_note(page: Page, march_server, tmp_path):
    page.goto(f"{march_server.url}/connexion")
    log_in(page, DIRECTOR, march_server.accounts[DIRECTOR])
    actions = 0
    page.get_by_role("link", name="Labellisation E2C 2018").first.click()
    page.get_by_role("link", name="Notes d’avancement").click()
    actions += 2
    shoot(page, tmp_path, "notes-list-empty")

    page.get_by_role("button", name="Préparer la note de mars 2018").click()
    actions += 1
    expect(page.get_by_test_id("note-status")).to_have_text("Brouillon")
    preview = page.get_by_test_id("note-preview")
    expect(preview).to_contain_text("Informations clés au 30/03/2018")
    expect(preview.get_by_test_id("next-milestones")).to_contain_text(
        "24-26 avril 2018 : Audit de labellisation AFNOR Certification dans 25 jours")
    # No March figures in the demo: the table keeps February's totals and says so.
    expect(preview).to_contain_text("Aucun chiffre saisi pour mars 2018")
    expect(preview.get_by_test_id("note-table").locator("tfoot")).to_contain_text("252")

    form = page.get_by_test_id("note-form")
    form.get_by_label("Financements").fill(
        "Les dossiers de subvention **2018** sont en cours d’instruction.")
    form.get_by_role("button", name="Enregistrer").click()
    actions += 2
    expect(page.get_by_role("alert").first).to_contain_text("Note enregistrée.")
    expect(page.get_by_test_id("note-preview").locator("strong", has_text="2018")).to_be_visible()
    shoot(page, tmp_path, "note-draft")

    page.get_by_role("button", name="Émettre la note").click()
    actions += 1
    expect(page.get_by_role("alert").first).to_contain_text("Note émise")
    expect(page.get_by_test_id("note-status")).to_have_text("Émise")
    issued = page.get_by_test_id("note-issued")
    sha = re.search(r"[0-9a-f]{64}", issued.inner_text()).group(0)
    shoot(page, tmp_path, "note-issued")

    with page.expect_download() as pdf_download:
        page.get_by_role("link", name="Télécharger le PDF").click()
    pdf = Path(pdf_download.value.path()).read_bytes()
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Mars 2018" in text and "en cours d’instruction" in text and sha[:32] in text
    assert "cofinancée par l’Union Européenne" in text  # the school's mention, at the foot
    with page.expect_download() as docx_download:
        page.get_by_role("link", name="Télécharger le DOCX").click()
    actions += 2
    document = Document(io.BytesIO(Path(docx_download.value.path()).read_bytes()))
    body = "\n".join(p.text for p in document.paragraphs)
    assert "Les dossiers de subvention 2018 sont en cours d’instruction." in body

    page.get_by_role("link", name="La preuve dans la bibliothèque").click()
    actions += 1
    expect(page.locator("h1")).to_contain_text("Note d’avancement de mars 2018")
    expect(page.locator("main, body").first).to_contain_text("Validée")
    expect(page.locator("main, body").first).to_contain_text(sha)
    shoot(page, tmp_path, "note-proof")
    page.go_back()
    page.get_by_role("link", name="Notes d’avancement").click()
    listed = page.get_by_test_id("note-list")
    expect(listed).to_contain_text("mars 2018")
    expect(listed.get_by_role("link", name="DOCX")).to_be_visible()
    # March is issued: the one-click button now prepares a correction, and says so.
    expect(page.get_by_role("button", name="Corriger la note de mars 2018")).to_be_visible()
    shoot(page, tmp_path, "notes-list")
    # From the campaign to a filed, validated note: nine actions, no figure retyped.
    assert actions == 9
