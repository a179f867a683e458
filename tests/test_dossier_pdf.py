"""The evidence dossier, read back: pypdf's text and outline, poppler's ``pdftotext`` and
``pdftoppm``. Every check opens the real PDF built from real proofs in real storage."""

from __future__ import annotations

import csv
import gc
import hashlib
import io
import os
import re
import shutil
import subprocess
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select

from audit_tracker.dossier import DossierOptions, DossierOptionsError, build_dossier
from audit_tracker.evidence.service import (
    EvidenceFields,
    create_evidence,
    link_criterion,
    receive_file,
    review,
    submit_for_review,
)
from audit_tracker.extensions import db
from audit_tracker.models import (
    Campaign,
    Criterion,
    EvidenceKind,
    Framework,
    ReviewStatus,
    User,
)
from audit_tracker.pdf import fonts as font_mod
from audit_tracker.pdf.text import NNBSP, french
from audit_tracker.storage import EVIDENCE, storage_for, upload_tmp_dir

from .conftest import UPLOADS

# ------------------------------------------------------------------------------- the tools


def pdf_tool(name: str) -> str:
    """poppler's command, or skip (fail when AUDIT_TRACKER_REQUIRE_PDF_TOOLS=1, as in CI)."""
    path = shutil.which(name)
    if path is None:
        reason = f"{name} (poppler-utils) is not installed: apt-get install poppler-utils"
        if os.environ.get("AUDIT_TRACKER_REQUIRE_PDF_TOOLS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def pdftotext(path: Path, first: int | None = None, last: int | None = None,
              layout: bool = False) -> str:
    command = [pdf_tool("pdftotext"), "-enc", "UTF-8"]
    if layout:
        command.append("-layout")
    if first:
        command += ["-f", str(first), "-l", str(last or first)]
    return subprocess.run([*command, str(path), "-"], check=True,  # noqa: S603 - poppler
                          capture_output=True, text=True).stdout


def page_texts(path: Path) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def outline_titles(path: Path) -> list[tuple[int, str, int]]:
    """(depth, title, 1-based page) for every bookmark, in order."""
    reader = PdfReader(path)
    found = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                found.append((depth, item.title, reader.get_destination_page_number(item) + 1))

    walk(reader.outline, 0)
    return found


# ------------------------------------------------------------------------------- the data


@dataclass
class Setting:
    campaign: Campaign
    quality: User
    proofs: dict  # name -> Evidence
    criteria: dict  # (framework code, criterion code) -> Criterion


def criterion_of(framework_code: str, code: str) -> Criterion:
    return db.session.scalar(select(Criterion).join(Framework).where(
        Framework.code == framework_code, Criterion.code == code))


def put_forward(evidence, author, status: ReviewStatus) -> None:
    """Bring a new (draft) proof to ``status`` through the review service; the demo school
    reviews with four eyes, so the director decides on what the author submitted."""
    if status is ReviewStatus.DRAFT:
        return
    submit_for_review(db.session, evidence, author)
    # Four-eyes (on in the demo): the director decides on the quality lead's proofs.
    reviewer = db.session.scalar(select(User).where(User.email == "direction@e2c-var.example"))
    if status is ReviewStatus.VALIDATED:
        review(db.session, evidence, reviewer, ReviewStatus.VALIDATED)
    elif status is ReviewStatus.REFUSED:
        review(db.session, evidence, reviewer, ReviewStatus.REFUSED, "Illisible")


PROGRAMME_LINES = ["Programme des ateliers – page 1", "Ateliers de remobilisation – page 2",
                   "Calendrier des périodes en entreprise – page 3"]


def three_pages() -> bytes:
    """A real three-page PDF, each page with its own line of text."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    for line in PROGRAMME_LINES:
        canvas.setFont("Helvetica", 14)
        canvas.drawString(72, 760, line)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def upload(app, author, content: bytes, name: str, **fields):
    """A proof from bytes, through the same services as the upload page."""
    tmp = upload_tmp_dir(app)
    received = receive_file(io.BytesIO(content), name, tmp, app.config["MAX_CONTENT_LENGTH"])
    return create_evidence(db.session, storage_for(app, EVIDENCE), school=author.school,
                           author=author, fields=EvidenceFields(**fields), upload=received)


@pytest.fixture
def setting(app, demo_today, make_evidence) -> Setting:
    """The E2C Var demo with proofs of every kind and state, linked to criteria."""
    quality = db.session.scalar(select(User).where(User.email == "qualite@e2c-var.example"))
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.id))
    tpm = next(site for site in campaign.school.sites if site.code == "tpm")
    criteria = {key: criterion_of(*key) for key in [
        ("e2c-label", "A1"), ("e2c-label", "A2"), ("e2c-label", "B1"), ("e2c-label", "B2"),
        ("e2c-label", "C1"), ("e2c-label", "C2"), ("e2c-label", "D1"), ("qualiopi-v9", "1"),
    ]}
    plan = [
        # name, make_evidence arguments, state, criteria
        ("rapport", {"fixture": "preuve.pdf", "title": "Rapport d’activité 2017 : œuvre & bilan",
                     "valid_until": date(2019, 1, 31)},
         ReviewStatus.VALIDATED, [("e2c-label", "A1"), ("qualiopi-v9", "1")]),
        ("programme", {"content": three_pages(), "name": "programme-ateliers.pdf",
                       "title": "Programme des ateliers", "site": tpm},
         ReviewStatus.TO_REVIEW, [("e2c-label", "B2")]),
        ("photo", {"fixture": "photo.jpg", "title": "Photo du plateau technique"},
         ReviewStatus.VALIDATED, [("e2c-label", "B1")]),
        ("tableau", {"fixture": "tableau.xlsx", "title": "Tableau des entrées"},
         ReviewStatus.VALIDATED, [("e2c-label", "B1")]),
        ("lien", {"kind": EvidenceKind.LINK, "title": "Page résultats du site web",
                  "url": "https://www.e2c-var.example/resultats"},
         ReviewStatus.VALIDATED, [("e2c-label", "C1")]),
        ("papier", {"kind": EvidenceKind.PAPER, "title": "Registre des émargements",
                    "paper_location": "Site TPM, armoire du bureau des référents",
                    "paper_custodian": "Responsable du site TPM"},
         ReviewStatus.VALIDATED, [("e2c-label", "C2")]),
        ("chiffre", {"fixture": "chiffre.pdf", "title": "Convention protégée"},
         ReviewStatus.VALIDATED, [("e2c-label", "D1")]),
        ("tronque", {"fixture": "tronque.pdf", "title": "Compte rendu abîmé"},
         ReviewStatus.VALIDATED, [("e2c-label", "D1")]),
        ("brouillon", {"fixture": "preuve.pdf", "name": "brouillon.pdf",
                       "title": "Brouillon jamais soumis"},
         ReviewStatus.DRAFT, [("e2c-label", "A1")]),
        ("refusee", {"fixture": "preuve.pdf", "name": "refusee.pdf",
                     "title": "Preuve refusée par la direction"},
         ReviewStatus.REFUSED, [("e2c-label", "A1")]),
        ("personnelle", {"fixture": "emargement.csv", "title": "Liste nominative des stagiaires",
                         "personal_data": True, "retention_until": date(2023, 12, 31)},
         ReviewStatus.VALIDATED, [("e2c-label", "A2")]),
    ]
    proofs = {}
    for name, fields, state, links in plan:
        if "content" in fields:
            evidence = upload(app, quality, fields.pop("content"), fields.pop("name"), **fields)
        else:
            evidence = make_evidence(quality, **fields)
        for key in links:
            link_criterion(db.session, evidence, criteria[key], f"Montre {name}", quality)
        put_forward(evidence, quality, state)
        proofs[name] = evidence
    db.session.commit()
    return Setting(campaign, quality, proofs, criteria)


def build(setting: Setting, tmp_path: Path, name: str = "dossier.pdf", *, zip_name=None,
          **options):
    pdf = tmp_path / name
    steps = []
    result = build_dossier(db.session, setting.campaign, DossierOptions(**options), pdf,
                           zip_path=tmp_path / zip_name if zip_name else None,
                           progress=lambda percent, label: steps.append((percent, label)))
    return result, steps


def fixture_pages(name: str) -> int:
    return len(PdfReader(UPLOADS / name).pages)


# ------------------------------------------------------------------------------- the tests


def test_dossier_reads_back_in_order_with_numbers_hashes_and_annex_pages(setting, tmp_path):
    result, steps = build(setting, tmp_path)
    assert gc.isenabled()  # paused for the layout only
    pdf = result.pdf_path
    texts = page_texts(pdf)
    assert result.page_count == len(texts)
    assert steps[0][0] == 0 and steps[-1] == (100, "Dossier prêt")
    assert [p for p, _label in steps] == sorted(p for p, _label in steps)

    # Pièces: numbered in order of first appearance in référentiel order (e2c-label first),
    # drafts and refused proofs left out, personal data left out by default.
    proofs = setting.proofs
    # A2's personal-data proof is out; within a criterion pièces go by title: B1 has
    # « Photo… » then « Tableau… », D1 « Compte rendu… » then « Convention… ».
    order = ["rapport", "photo", "tableau", "programme", "lien", "papier", "tronque",
             "chiffre"]
    expected = {name: number for number, name in enumerate(order, start=1)}
    assert result.piece_count == len(expected)

    separators = {i + 1: t for i, t in enumerate(texts) if "Annexe – Pièce" in t}
    first_annex = min(separators)
    main = "\n".join(texts[:first_annex - 1])
    for name in ("brouillon", "refusee", "personnelle"):
        assert proofs[name].title not in "\n".join(texts)

    # Every criterion, in référentiel order, has its heading in the main part.
    readiness_codes = [c for c in db.session.scalars(
        select(Criterion).join(Framework)
        .where(Framework.id.in_([f.id for f in setting.campaign.frameworks]))
        .order_by(Framework.code, Criterion.position))]
    position = 0
    for criterion in readiness_codes:
        heading = f"{criterion.framework.criterion_label} {criterion.code} –"
        found = main.find(heading, position)
        assert found >= 0, heading
        position = found

    # Each pièce: its number and short hash in the tables, its full hash in the manifest,
    # and its annex page number pointing at its own separator page.
    layout = pdftotext(pdf, 1, first_annex - 1, layout=True)
    for name, number in expected.items():
        version = proofs[name].current_version
        if version is None:
            continue
        assert version.sha256 in main.replace("\n", "")
        match = re.search(rf"{version.sha256[:12]}\s+(\d+)", layout)
        assert match, name
        page = int(match.group(1))
        assert f"Annexe – Pièce {number}\n" in texts[page - 1] + "\n", (name, page)
        assert proofs[name].title.split(" ")[0] in texts[page - 1]
        assert pdftotext(pdf, page).count(f"Pièce {number}") >= 1
    # A proof serving two criteria (two frameworks) is listed twice, annexed once.
    assert len(separators) == len(expected)
    assert main.count(proofs["rapport"].current_version.sha256[:12]) == 3  # + the manifest

    # Page count = generated pages + merged pages.
    merged = fixture_pages("preuve.pdf") + len(PROGRAMME_LINES)
    assert result.page_count == (first_annex - 1) + len(expected) + merged
    # The merged PDF's own text follows its separator page.
    rapport = _sep(separators, 1)
    source_text = PdfReader(UPLOADS / "preuve.pdf").pages[0].extract_text().strip()[:20]
    assert source_text in texts[rapport]
    programme = _sep(separators, expected["programme"])
    # Each merged page: its own text, then the margin stamp the assembly overlays on it.
    total = len(texts)
    for i, line in enumerate(PROGRAMME_LINES):
        own, stamp = texts[programme + i].strip().split("\n", 1)
        assert own == line
        assert stamp == (f"Pièce {expected['programme']} – p. {i + 1}/{len(PROGRAMME_LINES)} · "
                         f"dossier p. {programme + i + 1} / {total}")

    # Encrypted and damaged PDFs are explained, not merged; other kinds say where they are.
    assert "chiffré" in separators[_sep(separators, expected["chiffre"])]
    assert "endommagé" in separators[_sep(separators, expected["tronque"])]
    assert "fourni dans l’archive" in separators[_sep(separators, expected["tableau"])].replace(
        "\n", " ")
    assert "armoire du bureau" in separators[_sep(separators, expected["papier"])]
    assert "https://www.e2c-var.example/resultats" in separators[
        _sep(separators, expected["lien"])]
    photo_page = PdfReader(pdf).pages[_sep(separators, expected["photo"]) - 1]
    assert "/XObject" in photo_page["/Resources"] and any(
        obj.get_object()["/Subtype"] == "/Image"
        for obj in photo_page["/Resources"]["/XObject"].values())

    # Footers: « page N / M » with the final count, on generated pages of both parts.
    assert f"page 1 / {result.page_count}" in texts[0]
    assert f"page {first_annex} / {result.page_count}" in texts[first_annex - 1]

    # The file is what the result says.
    data = pdf.read_bytes()
    assert hashlib.sha256(data).hexdigest() == result.sha256
    assert len(data) == result.size
    assert not list(tmp_path.glob("*.part"))


def _sep(separators: dict[int, str], number: int) -> int:
    return next(page for page, text in separators.items()
                if f"Annexe – Pièce {number}\n" in text + "\n")


def test_outline_has_criteria_and_pieces_pointing_at_their_pages(setting, tmp_path):
    result, _steps = build(setting, tmp_path)
    outline = outline_titles(result.pdf_path)
    texts = page_texts(result.pdf_path)
    titles = [title for _depth, title, _page in outline]
    assert "Page de garde" in titles and "Manifeste des pièces" in titles
    a1 = next((d, t, p) for d, t, p in outline if t.startswith("A1 – "))
    assert a1[0] == 2  # framework → section → criterion
    assert "Critère A1 –" in texts[a1[2] - 1]
    pieces = [(d, t, p) for d, t, p in outline if t.startswith("Pièce ")]
    # Under each criterion, and once more under « Annexes ».
    assert any(d == 3 for d, _t, _p in pieces) and any(d == 1 for d, _t, _p in pieces)
    for _depth, title, page in pieces:
        number = title.split(" ")[1]
        assert f"Annexe – Pièce {number}" in texts[page - 1]
    qualiopi = next(t for d, t, _p in outline if d == 2 and t.startswith("1 – "))
    assert qualiopi


def test_embedded_font_draws_french_typography(setting, tmp_path):
    font_set = font_mod.register_fonts()
    for char in font_mod.TYPOGRAPHY_CHARS:
        assert font_set.has_glyph(char), hex(ord(char))
    assert french("État : 16 % « QPV » ; l'école ?") == (
        f"État{NNBSP}: 16{NNBSP}% «{NNBSP}QPV{NNBSP}»{NNBSP}; l’école{NNBSP}?")
    assert french("https://exemple.fr/?q=1 à 14:00") == "https://exemple.fr/?q=1 à 14:00"
    result, _steps = build(setting, tmp_path)
    reader = PdfReader(result.pdf_path)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    dejavu = [f.get_object() for f in fonts.values()
              if "DejaVuSans" in str(f.get_object()["/BaseFont"])]
    assert dejavu
    for font in dejavu:  # the TrueType program itself is in the file, subset
        assert "/FontFile2" in font["/FontDescriptor"].get_object()
    text = pdftotext(result.pdf_path)
    assert "œuvre" in text and "Rapport d’activité 2017" in text
    # pypdf reads the text layer as written (poppler turns U+202F into a plain space).
    drawn = "\n".join(page_texts(result.pdf_path))
    assert re.search(rf"État au \d\d/\d\d/\d{{4}}{NNBSP}:", drawn)  # « État au 24/04/2018 : »
    assert f"Rapport d’activité 2017{NNBSP}: œuvre" in drawn


def test_pages_render_with_ink(setting, tmp_path):
    """Cover, a criterion page, a separator and a merged page are not blank."""
    result, _steps = build(setting, tmp_path)
    texts = page_texts(result.pdf_path)
    first_annex = next(i + 1 for i, t in enumerate(texts) if "Annexe – Pièce 1" in t)
    pages = [1, next(i + 1 for i, t in enumerate(texts) if "Critère A1 –" in t and i > 2),
             first_annex, first_annex + 1]
    tool = pdf_tool("pdftoppm")
    for page in pages:
        out = tmp_path / f"page-{page}"
        subprocess.run([tool, "-gray", "-r", "30", "-f", str(page), "-l", str(page),  # noqa: S603
                        "-singlefile", str(result.pdf_path), str(out)], check=True)
        width, height, pixels = read_pgm(out.with_suffix(".pgm"))
        inked = sum(1 for value in pixels if value < 160)
        assert width * height > 10_000
        assert inked > 150, (page, inked)


def read_pgm(path: Path) -> tuple[int, int, bytes]:
    """A binary PGM (P5), 8 bits: header tokens, then width × height bytes."""
    data = path.read_bytes()
    tokens, index = [], 0
    while len(tokens) < 4:
        while data[index:index + 1].isspace():
            index += 1
        if data[index:index + 1] == b"#":
            index = data.index(b"\n", index) + 1
            continue
        end = index
        while not data[end:end + 1].isspace():
            end += 1
        tokens.append(data[index:end])
        index = end
    assert tokens[0] == b"P5" and int(tokens[3]) == 255
    width, height = int(tokens[1]), int(tokens[2])
    pixels = data[index + 1:index + 1 + width * height]
    assert len(pixels) == width * height
    return width, height, pixels


def test_zip_holds_the_pdf_the_originals_per_criterion_and_the_manifest(setting, tmp_path):
    result, _steps = build(setting, tmp_path, zip_name="dossier.zip")
    with zipfile.ZipFile(result.zip_path) as archive:
        names = archive.namelist()
        assert "dossier.pdf" in names
        assert archive.read("dossier.pdf") == result.pdf_path.read_bytes()
        rows = list(csv.reader(io.StringIO(archive.read("manifest.csv").decode("utf-8-sig")),
                               delimiter=";"))
        assert rows[0] == ["piece", "titre", "criteres", "fichier", "sha256", "taille"]
        by_title = {row[1]: row for row in rows[1:]}
        rapport = by_title[setting.proofs["rapport"].title]
        assert rapport[0] == "1" and "A1" in rapport[2] and "(Qualiopi) : 1" in rapport[2]
        paths = rapport[3].split(" | ")
        assert len(paths) == 2  # in the folder of each of its criteria
        original = (UPLOADS / "preuve.pdf").read_bytes()
        for path in paths:
            assert re.fullmatch(r"[a-z0-9-]+/piece-0001-[a-z0-9-]+\.pdf", path)
            assert archive.read(path) == original
        assert rapport[4] == hashlib.sha256(original).hexdigest()
        assert rapport[5] == str(len(original))
        assert by_title["Page résultats du site web"][3].startswith("https://")
        assert by_title["Registre des émargements"][3].startswith("papier")
        # The encrypted PDF is not in the merged file but its original is in the archive.
        assert any(name.endswith(".pdf") and "piece-0008-chiffre" in name for name in names)
        assert all(".." not in name and not name.startswith("/") for name in names)


def test_options_narrow_the_dossier(setting, tmp_path):
    qualiopi = next(f for f in setting.campaign.frameworks if f.code == "qualiopi-v9")
    result, _steps = build(setting, tmp_path, framework_ids=(qualiopi.id,),
                           with_annexes=False, as_of=date(2018, 5, 17))
    text = pdftotext(result.pdf_path)
    assert "Indicateur 1 –" in text and "Critère A1 –" not in text
    assert "Annexe – Pièce" not in text
    assert result.piece_count == 1  # only the report serves a Qualiopi indicator
    assert "17/05/2018" in text
    assert outline_titles(result.pdf_path)[-1][1] == "Manifeste des pièces"


def test_personal_data_only_when_asked_and_then_listed(setting, tmp_path):
    result, _steps = build(setting, tmp_path, include_personal_data=True)
    text = pdftotext(result.pdf_path)
    title = setting.proofs["personnelle"].title
    assert title in text
    assert "données personnelles d’apprenants, incluses" in text.replace("\n", " ")
    assert result.piece_count == 9


def test_altered_file_is_flagged_in_the_manifest(setting, tmp_path, app):
    version = setting.proofs["programme"].current_version
    storage = storage_for(app, EVIDENCE)
    target = storage._path(version.storage_key)  # local storage: alter the object on disk
    target.write_bytes(target.read_bytes() + b"%altered")
    result, _steps = build(setting, tmp_path)
    text = pdftotext(result.pdf_path)
    assert "ALTÉRÉE" in text
    assert "n’a plus l’empreinte SHA-256 enregistrée" in text.replace("\n", " ")


def test_options_from_json_validates_and_round_trips(app):
    options = DossierOptions.from_json({"framework_ids": [2, 1], "site_ids": [3],
                                        "with_annexes": False, "as_of": "2018-04-24"})
    assert options.as_of == date(2018, 4, 24) and options.framework_ids == (2, 1)
    assert DossierOptions.from_json(options.to_json()) == options
    assert DossierOptions.from_json(None) == DossierOptions()
    with pytest.raises(DossierOptionsError) as refused:
        DossierOptions.from_json({"framework_ids": "1", "site_ids": [True, -1],
                                  "with_annexes": "oui", "as_of": "24/04/2018", "x": 1})
    messages = refused.value.messages
    assert len(messages) == 6
    assert any("Option inconnue" in m for m in messages)
    assert any("24/04/2018" in m and "AAAA-MM-JJ" in m for m in messages)


def test_options_outside_the_campaign_are_refused(setting, tmp_path):
    with pytest.raises(DossierOptionsError) as refused:
        build(setting, tmp_path, framework_ids=(99999,), site_ids=(88888,))
    assert len(refused.value.messages) == 2
    assert not (tmp_path / "dossier.pdf").exists()


def test_missing_font_is_a_clear_french_error(tmp_path):
    with pytest.raises(font_mod.FontMissing) as missing:
        font_mod.register_fonts(tmp_path)
    assert "fonts-dejavu-core" in str(missing.value)
    assert "DOSSIER_FONT_DIR" in str(missing.value)


def test_the_cover_prints_the_journal_head(setting, tmp_path):
    """Issue 12: the chain's head when the dossier was made, printed where anyone can compare it
    with ``flask journal verify``'s later."""
    from audit_tracker.journal.service import head

    seq, digest = head(db.session)
    assert seq > 0
    result, _steps = build(setting, tmp_path)
    cover = PdfReader(result.pdf_path).pages[0].extract_text()
    assert f"entrée n° {seq}" in cover and digest in cover.replace("\n", "")
