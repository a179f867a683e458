"""The evidence journey of the issue: the quality lead uploads two PDFs, links them to an E2C
criterion and to a Qualiopi indicator, the director validates one, the auditor account can
download but not edit."""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, Response, expect

from .test_director_journey import log_in

QUALITY = "qualite@e2c-var.example"
DIRECTOR = "direction@e2c-var.example"
AUDITOR = "auditeur@e2c-var.example"

MINUTES = "Compte rendu comité de pilotage"
CONVENTIONS = "Conventions de stage 2018"
MINUTES_PDF_TITLE = "Comité de pilotage de l’E2C Var"

# The criterion select groups its options by framework label ("Label E2C France … · v…").
E2C_OPTIONS = "select[name=criterion_id] optgroup[label^='Label E2C'] option"
# A copy of the detail page's screenshot outside pytest's temporary folders, to look at.
SCREENSHOT_COPY = Path(tempfile.gettempdir()) / "evidence-detail.png"


def make_pdf(path: Path, title: str, lines: list[str]) -> Path:
    """A real one-page PDF with French text; ``invariant`` keeps its bytes reproducible."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    pdf.setTitle(title)
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(72, 770, title)
    pdf.setFont("Helvetica", 11)
    for number, line in enumerate(lines):
        pdf.drawString(72, 740 - 16 * number, line)
    pdf.showPage()
    pdf.save()
    return path


@pytest.fixture
def pdfs(tmp_path) -> dict[str, Path]:
    folder = tmp_path / "a-deposer"
    folder.mkdir()
    return {
        MINUTES: make_pdf(
            folder / f"{MINUTES}.pdf",
            MINUTES_PDF_TITLE,
            [
                "Séance du 12 décembre 2017 à Toulon, présidée par la directrice.",
                "Présents : financeurs, référent du réseau E2C France, responsables de site.",
                "Décisions : calendrier de labellisation validé, prochaine réunion en mars.",
            ],
        ),
        CONVENTIONS: make_pdf(
            folder / f"{CONVENTIONS}.pdf",
            "Conventions de stage en entreprise – 2018",
            [
                "Liste des conventions signées avec les entreprises partenaires du Var.",
                "Périodes d’immersion : deux à quatre semaines, tuteur désigné pour chacune.",
            ],
        ),
    }


def is_pdf_viewer(frame: Frame) -> bool:
    """The frame of Chromium's built-in PDF viewer (an extension page inside the preview)."""
    return frame.url.startswith("chrome-extension://") and frame.url.endswith("/index.html")


def pdf_viewer(page: Page) -> Frame:
    """The page's PDF viewer frame, once it has started (the page's load does not wait for it).

    Only the frames of the page now shown are listed, so a viewer of the page before is never
    picked up; and events wait in the queue until asked for, so none is missed in between.
    """
    viewer = next((frame for frame in page.frames if is_pdf_viewer(frame)), None)
    return viewer or page.wait_for_event("framenavigated", predicate=is_pdf_viewer)


def is_upload(response: Response) -> bool:
    return response.request.method == "POST" and response.url.endswith("/preuves/nouvelle")


def snap(page: Page, path: Path) -> Path:
    """A full-page screenshot, CSS transitions (the progress bars') run to their end."""
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    return path


def log_out(page: Page, live_server) -> None:
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page).to_have_url(f"{live_server.url}/connexion")


def open_proof(page: Page, title: str) -> int:
    """From any page: Preuves in the navbar, then the proof's title; returns its id."""
    page.get_by_role("navigation").get_by_role("link", name="Preuves", exact=True).click()
    expect(page.get_by_role("heading", name="Bibliothèque de preuves")).to_be_visible()
    page.get_by_test_id("evidence-list").get_by_role("link", name=title, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    return int(re.search(r"/preuves/(\d+)$", page.url).group(1))


def test_evidence_journey(page: Page, live_server, pdfs, tmp_path):
    url = live_server.url
    minutes_pdf = pdfs[MINUTES]
    minutes_sha256 = hashlib.sha256(minutes_pdf.read_bytes()).hexdigest()

    # The quality lead drops both PDFs at once; one request and one progress bar per file.
    page.goto(f"{url}/connexion")
    log_in(page, QUALITY, live_server.accounts[QUALITY])
    page.get_by_role("navigation").get_by_role("link", name="Preuves", exact=True).click()
    page.get_by_role("link", name="Déposer des preuves").click()
    expect(page).to_have_url(f"{url}/preuves/nouvelle")
    kind = page.get_by_label("Nature de la preuve")
    expect(kind).to_have_value("fichier")
    expect(kind.locator("option:checked")).to_have_text("Document")
    page.get_by_label("Fichier", exact=True).set_input_files(list(pdfs.values()))

    uploads: list[Response] = []
    page.on("response", lambda response: is_upload(response) and uploads.append(response))
    # Once every file is in, the page moves to the list. Answer that one request "204 No
    # Content": the browser then stays put, and the bars can still be read.
    list_url = f"{url}/preuves/"
    page.route(list_url, lambda route: route.fulfill(status=204))
    with page.expect_request(lambda r: r.url == list_url and r.method == "GET") as went:
        page.get_by_role("button", name="Enregistrer", exact=True).click()
    assert went.value.is_navigation_request()

    rows = page.locator("#upload-progress li")
    expect(rows).to_have_count(2)
    for row, name in zip(rows.all(), pdfs, strict=True):
        expect(row.locator("[data-name]")).to_have_text(f"{name}.pdf")
        expect(row.locator(".progress-bar")).to_have_class(re.compile(r"\bbg-success\b"))
        expect(row.locator(".progress-bar")).to_have_attribute("style", re.compile(r"width: 100%"))
        expect(row.locator("[data-state]")).to_have_text("✓")
    assert [r.status for r in uploads] == [201, 201]
    assert [r.request.header_value("x-requested-with") for r in uploads] == ["fetch", "fetch"]
    snap(page, tmp_path / "evidence-upload.png")
    page.unroute(list_url)

    page.get_by_role("link", name="Annuler").click()
    expect(page).to_have_url(list_url)
    listing = page.get_by_test_id("evidence-list")
    for title in pdfs:  # titles default to the file names without their extension
        link = page.get_by_role("link", name=title, exact=True)
        row = listing.get_by_role("row").filter(has=link)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(f"{title}.pdf · v1")
        expect(row.get_by_test_id("status")).to_have_text("Brouillon")

    # The minutes serve an E2C criterion; the mapping then suggests Qualiopi indicators.
    evidence_id = open_proof(page, MINUTES)
    detail_url = f"{url}/preuves/{evidence_id}"
    e2c_option = page.locator(E2C_OPTIONS).first
    e2c_value = e2c_option.get_attribute("value")
    e2c_code = e2c_option.inner_text().split(" · ", 1)[0]  # "A1"
    expect(page.get_by_test_id("suggestions")).to_have_count(0)
    criterion = page.get_by_label("Critère", exact=True)
    expect(criterion).to_have_value("0")  # nothing chosen yet: a click links nothing
    page.get_by_role("button", name="Lier au critère").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Choisissez un critère des référentiels de vos campagnes."
    )
    links = page.get_by_test_id("links").get_by_role("listitem")
    expect(links).to_have_text(["Liée à aucun critère pour l’instant."])
    criterion.select_option(value=e2c_value)
    page.get_by_label("Ce que cette preuve démontre").fill("Compte rendu signé")
    page.get_by_role("button", name="Lier au critère").click()

    expect(page.get_by_role("alert")).to_contain_text(f"Preuve liée au critère {e2c_code}")
    expect(links).to_have_count(1)
    expect(links.first).to_contain_text(f"e2c-label · Critère {e2c_code}")
    expect(links.first).to_contain_text("Compte rendu signé")
    unlink_path = links.first.locator("form").get_attribute("action")  # for the auditor, later
    expect(page.get_by_text("Correspondances suggérées")).to_be_visible()
    suggestions = page.get_by_test_id("suggestions").get_by_role("button")
    expect(suggestions.first).to_be_visible()
    for suggestion in suggestions.all():  # a visible button that asks, never a bare link
        expect(suggestion).to_have_text(re.compile(r"^Lier aussi à l’indicateur \d+ \?$"))

    number = re.search(r"indicateur (\d+)", suggestions.first.inner_text()).group(1)
    indicator = f"Indicateur {number}"
    suggestions.first.click()
    expect(page.get_by_role("alert")).to_contain_text(f"Preuve liée à l’indicateur {number}")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_contain_text(f"e2c-label · Critère {e2c_code}")
    expect(links.nth(1)).to_contain_text(f"qualiopi-v9 · {indicator}")

    page.get_by_role("button", name="Envoyer à la validation").click()
    expect(page.get_by_role("alert")).to_contain_text("Preuve envoyée à la validation.")
    expect(page.get_by_test_id("status")).to_have_text("À valider")

    # The inline preview: a PDF Chromium's viewer may frame, never a document of our origin.
    preview_path = f"/preuves/{evidence_id}/versions/1/apercu"
    with page.expect_response(lambda r: r.url == f"{url}{preview_path}") as served:
        page.reload()
    assert served.value.status == 200
    # What the server sent for that frame. Not read from ``served``: Chromium hands a PDF
    # document to its viewer and reports the wrapper page it puts in its place (an HTML body,
    # a CSP of just "frame-ancestors 'self'", at times no Content-Type).
    sent = page.request.get(f"{url}{preview_path}")
    assert sent.status == 200
    assert sent.headers["content-type"] == "application/pdf"
    assert sent.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'self'"
    assert sent.headers["content-disposition"].startswith("inline;")
    assert sent.headers["x-content-type-options"] == "nosniff"
    assert sent.body() == minutes_pdf.read_bytes()
    expect(page.get_by_title("Aperçu", exact=True)).to_be_visible()
    # The viewer names its page after the PDF's own title once it has parsed the file: the CSP
    # above does not stop it.
    pdf_viewer(page).wait_for_function("t => document.title === t", arg=MINUTES_PDF_TITLE)
    shutil.copyfile(snap(page, tmp_path / "evidence-detail.png"), SCREENSHOT_COPY)

    log_out(page, live_server)

    # The director validates the minutes.
    log_in(page, DIRECTOR, live_server.accounts[DIRECTOR])
    assert open_proof(page, MINUTES) == evidence_id
    review = page.get_by_test_id("review-form")
    decision = review.get_by_label("Décision")
    expect(decision).to_have_value("")  # no decision until the director makes one
    decision.select_option(label="Valider")
    review.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_role("alert")).to_contain_text("Preuve « Validée ».")
    expect(page.get_by_test_id("status")).to_have_text("Validée")
    log_out(page, live_server)

    # The auditor reads and downloads, and changes nothing.
    log_in(page, AUDITOR, live_server.accounts[AUDITOR])
    assert open_proof(page, MINUTES) == evidence_id
    expect(page.get_by_test_id("status")).to_have_text("Validée")
    expect(page.get_by_test_id("links").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_role("link", name="Modifier")).to_have_count(0)
    expect(page.get_by_role("button", name="Lier au critère")).to_have_count(0)
    expect(page.get_by_label("Critère", exact=True)).to_have_count(0)
    expect(page.get_by_test_id("suggestions")).to_have_count(0)
    expect(page.get_by_role("button", name="retirer")).to_have_count(0)
    expect(page.get_by_test_id("review-form")).to_have_count(0)
    expect(page.get_by_role("button", name="Déposer la nouvelle version")).to_have_count(0)
    expect(page.locator("input[type=file]")).to_have_count(0)
    expect(page.get_by_role("button", name="Envoyer à la validation")).to_have_count(0)

    # The auditor reads the file in the page too.
    pdf_viewer(page).wait_for_function("t => document.title === t", arg=MINUTES_PDF_TITLE)
    snap(page, tmp_path / "evidence-detail-auditor.png")

    sha = page.get_by_test_id("versions").locator("code")
    expect(sha).to_have_text(f"{minutes_sha256[:12]}…")
    expect(sha).to_have_attribute("title", minutes_sha256)
    with page.expect_download() as info:
        page.get_by_role("link", name=f"{MINUTES}.pdf", exact=True).click()
    download = info.value
    assert download.suggested_filename == f"{MINUTES}.pdf"
    downloaded = Path(download.path()).read_bytes()
    assert downloaded.startswith(b"%PDF")
    assert hashlib.sha256(downloaded).hexdigest() == sha.get_attribute("title")
    assert downloaded == minutes_pdf.read_bytes()

    # Forged requests, even with a valid CSRF token, meet the permission gate: nothing changes.
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    assert page.request.get(f"{detail_url}/modifier").status == 403
    forged = {
        f"{detail_url}/modifier": {"title": "Titre falsifié", "site_id": "0", "lock_version": "1"},
        f"{detail_url}/soumettre": {},
        f"{detail_url}/revue": {"decision": "refusee", "reason": "falsifié"},
        f"{detail_url}/criteres": {"criterion_id": e2c_value, "note": "falsifié"},
        f"{url}{unlink_path}": {},
    }
    for target, fields in forged.items():
        response = page.request.post(target, form={"csrf_token": token, **fields}, max_redirects=0)
        assert response.status == 403, target
    new_version = {
        "name": "v2.pdf",
        "mimeType": "application/pdf",
        "buffer": pdfs[CONVENTIONS].read_bytes(),
    }
    response = page.request.post(
        f"{detail_url}/versions",
        multipart={"csrf_token": token, "file": new_version},
        max_redirects=0,
    )
    assert response.status == 403
    # Without the token the CSRF check, which runs first, refuses it already.
    tokenless = page.request.post(f"{detail_url}/modifier", form={"title": "Titre falsifié"})
    assert tokenless.status == 400
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text(MINUTES)
    expect(page.get_by_test_id("status")).to_have_text("Validée")
    expect(page.get_by_test_id("links").get_by_role("listitem")).to_have_count(2)
    expect(page.get_by_test_id("versions").locator("tbody tr")).to_have_count(1)

    # The E2C criterion's page lists the proof, its status and its note.
    page.get_by_role("link", name=f"e2c-label · Critère {e2c_code}").click()
    expect(page).to_have_url(re.compile(r"/referentiels/criteres/\d+$"))
    proofs = page.get_by_test_id("criterion-proofs")
    expect(proofs.get_by_role("link", name=MINUTES, exact=True)).to_be_visible()
    expect(proofs).to_contain_text("Validée")
    expect(proofs).to_contain_text("Compte rendu signé")
