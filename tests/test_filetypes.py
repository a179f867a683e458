"""Upload inspection: type decided by the bytes, refusals in French, reads kept bounded."""

from __future__ import annotations

import io
import logging
import re
import shutil
import tracemalloc
import unicodedata
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from audit_tracker.evidence import filetypes
from audit_tracker.evidence.filetypes import (
    TEXT_LIMIT,
    Inspection,
    RefusedFile,
    check_filename,
    inspect_file,
)

UPLOADS = Path(__file__).parent / "data" / "uploads"

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="{part}" ContentType="{content_type}"/>'
    "</Types>"
)
WORD_MAIN = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
WORD_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def write_zip(path: Path, parts: dict[str, bytes | str]) -> Path:
    """A zip with these parts, ``mimetype`` stored uncompressed as ODF requires."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=kind)
    return path


def write_docx(path: Path, body: str, **extra: bytes | str) -> Path:
    """A minimal DOCX whose document body is ``body`` (raw WordprocessingML)."""
    return write_zip(
        path,
        {
            "[Content_Types].xml": CONTENT_TYPES.format(
                part="/word/document.xml", content_type=WORD_MAIN
            ),
            "word/document.xml": f"<w:document {WORD_NS}><w:body>{body}</w:body></w:document>",
            **extra,
        },
    )


def write_odf(path: Path, media_type: str, body: str) -> Path:
    """A minimal OpenDocument package of ``media_type`` with ``body`` inside office:body."""
    content = (
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0">'
        f"<office:body>{body}</office:body></office:document-content>"
    )
    return write_zip(path, {"mimetype": media_type, "content.xml": content})


def refusal(path: Path, filename: str | None = None) -> str:
    """The French message of the refusal ``inspect_file`` must raise."""
    with pytest.raises(RefusedFile) as caught:
        inspect_file(path, filename or path.name)
    return str(caught.value)


def copy_as(tmp_path: Path, fixture: str, new_name: str) -> Path:
    """The fixture under another name, to make its extension lie."""
    target = tmp_path / new_name
    shutil.copyfile(UPLOADS / fixture, target)
    return target


# --- the fixtures of the issue's test matrix --------------------------------------------------

ACCEPTED = [
    pytest.param(
        "preuve.pdf", PDF, "PDF", ".pdf", set(), "Compte rendu du comité de pilotage", True,
        id="pdf",
    ),
    pytest.param("chiffre.pdf", PDF, "PDF", ".pdf", {"chiffre"}, None, False, id="pdf-chiffre"),
    pytest.param("tronque.pdf", PDF, "PDF", ".pdf", {"illisible"}, None, False, id="pdf-tronque"),
    pytest.param("image.png", "image/png", "Image PNG", ".png", set(), None, True, id="png"),
    pytest.param("photo.jpg", "image/jpeg", "Image JPEG", ".jpg", set(), None, True, id="jpeg"),
    pytest.param(
        "note.txt", "text/plain", "Texte", ".txt", set(), "réunion de l'équipe pédagogique", False,
        id="texte-utf8",
    ),
    pytest.param(
        "emargement.csv", "text/csv", "CSV", ".csv", set(), "Nom;Prénom;Date;Émargement", False,
        id="csv-cp1252",
    ),
    pytest.param(
        "compte-rendu.docx", DOCX, "Document Word (DOCX)", ".docx", set(),
        "Comité opérationnel local", False, id="docx",
    ),
    pytest.param(
        "tableau.xlsx", XLSX, "Classeur Excel (XLSX)", ".xlsx", set(),
        "Tableau de suivi des actions correctives", False, id="xlsx",
    ),
    pytest.param(
        "document.odt", ODT, "Document OpenDocument (ODT)", ".odt", set(),
        "Procès-verbal du conseil de perfectionnement", False, id="odt",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fixture", "media_type", "label", "extension", "flags", "fragment", "preview"), ACCEPTED
)
def test_accepted_fixture_is_identified_by_its_content(
    fixture, media_type, label, extension, flags, fragment, preview
):
    """Each accepted kind gets its media type, French label, flags, search text and preview."""
    inspection = inspect_file(UPLOADS / fixture, fixture)

    assert isinstance(inspection, Inspection)
    assert inspection.media_type == media_type
    assert inspection.label == label
    assert inspection.extension == extension
    assert inspection.flags == frozenset(flags)
    if fragment is None:
        assert inspection.text == ""
    else:
        assert fragment in inspection.text
    assert inspection.inline_preview is preview


REFUSED = [
    pytest.param("programme.pdf", "ce fichier est un programme exécutable", id="exe-renomme-pdf"),
    pytest.param("elf.pdf", "ce fichier est un programme exécutable", id="elf-renomme-pdf"),
    pytest.param("script.svg", "les images SVG ne sont pas acceptées", id="svg-script"),
    pytest.param("page.html", "les pages HTML ne sont pas acceptées", id="html"),
    pytest.param("vide.pdf", "le fichier est vide", id="vide"),
    pytest.param("bombe.docx", "archive suspecte", id="bombe-docx"),
    pytest.param("archive.zip", "les archives ZIP ne sont pas acceptées", id="zip-simple"),
]


@pytest.mark.parametrize(("fixture", "fragment"), REFUSED)
def test_refused_fixture_gets_a_french_message_naming_the_file(fixture, fragment):
    """Each refused fixture raises RefusedFile whose message names the file and says why."""
    message = refusal(UPLOADS / fixture)

    assert fragment in message
    assert message.startswith(f"« {fixture} » : ")


def test_svg_refusal_suggests_an_accepted_format():
    """The SVG message explains the risk and what to upload instead."""
    message = refusal(UPLOADS / "script.svg")

    assert "(elles peuvent contenir du script)" in message
    assert "exportez-la en PNG ou en PDF" in message


def test_unknown_type_message_lists_the_accepted_formats(tmp_path):
    """An unknown binary is refused with the list of accepted formats."""
    blob = tmp_path / "donnees.bin"
    blob.write_bytes(bytes(range(256)) * 8)

    message = refusal(blob)

    assert "ce type de fichier n’est pas accepté" in message
    assert "PDF, images PNG/JPEG/GIF/WebP, DOCX, XLSX" in message


# --- the extension lies: refused, so nothing is stored or downloaded under a lying name -------

LIES = [
    pytest.param("image.png", "preuve.pdf", "(Image PNG) ; renommez le fichier en « .png »",
                 id="png-nomme-pdf"),
    pytest.param("photo.jpg", "photo.png", "(Image JPEG)", id="jpeg-nomme-png"),
    pytest.param("preuve.pdf", "scan.jpg", "(PDF)", id="pdf-nomme-jpg"),
    pytest.param("compte-rendu.docx", "rapport.pdf", "(Document Word (DOCX))", id="docx-nomme-pdf"),
    pytest.param("document.odt", "document.docx", "(Document OpenDocument (ODT))",
                 id="odt-nomme-docx"),
    pytest.param("note.txt", "note.pdf", "(Texte)", id="texte-nomme-pdf"),
]


@pytest.mark.parametrize(("fixture", "name", "fragment"), LIES)
def test_lying_extension_is_refused(tmp_path, fixture, name, fragment):
    """An accepted kind of file under another kind's extension is refused (issue 12): the
    extension must agree with the bytes."""
    message = refusal(copy_as(tmp_path, fixture, name))

    assert "ne correspond pas au contenu" in message
    assert fragment in message


REFUSED_LIES = [
    pytest.param("programme.pdf", "rapport.pdf", "programme exécutable", id="exe-nomme-pdf"),
    pytest.param("elf.pdf", "photo.jpg", "programme exécutable", id="elf-nomme-jpg"),
    pytest.param("script.svg", "logo.png", "images SVG", id="svg-nomme-png"),
    pytest.param("page.html", "note.txt", "pages HTML", id="html-nomme-txt"),
    pytest.param("archive.zip", "compte-rendu.docx", "archives ZIP", id="zip-nomme-docx"),
    pytest.param("bombe.docx", "bombe.odt", "archive suspecte", id="bombe-nommee-odt"),
]


@pytest.mark.parametrize(("fixture", "name", "fragment"), REFUSED_LIES)
def test_lying_extension_does_not_let_a_refused_file_in(tmp_path, fixture, name, fragment):
    """A refused file stays refused whatever name it is given."""
    message = refusal(copy_as(tmp_path, fixture, name))

    assert fragment in message
    assert f"« {name} »" in message


# --- generated content: more kinds, accepted or refused -----------------------------------------

GENERATED_REFUSED = [
    pytest.param(
        "script.txt", b"#!/bin/sh\nrm -rf ~\n", "script exécutable", id="shebang"
    ),
    pytest.param(
        "outil.pdf", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01" + bytes(64), "programme exécutable",
        id="mach-o",
    ),
    pytest.param("ancien.pdf", b"MZ" + bytes(200), "programme exécutable", id="dos-mz"),
    pytest.param(
        "ancien.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(512),
        "anciens formats Office", id="ole2-doc",
    ),
    pytest.param(
        "note.txt", "Bonjour à tous".encode("utf-16"), "type de fichier n’est pas accepté",
        id="utf16",
    ),
    pytest.param(
        "logo.txt", b'\n  <svg xmlns="http://www.w3.org/2000/svg"><circle r="4"/></svg>',
        "images SVG", id="svg-sans-prologue",
    ),
    pytest.param(
        "page.txt", b"\xef\xbb\xbf<!doctype html><p>Bonjour</p>", "pages HTML", id="html-bom"
    ),
    pytest.param(
        "note.txt", b"Bonjour,\n<script>alert(1)</script>\n", "pages HTML", id="script-au-debut"
    ),
    pytest.param(
        "donnees.xml", b"<?xml version='1.0'?><racine/>", "type de fichier n’est pas accepté",
        id="xml",
    ),
    pytest.param(
        "lettre.rtf", b"{\\rtf1\\ansi Bonjour}", "type de fichier n’est pas accepté", id="rtf"
    ),
    pytest.param(
        "archive.gz", b"\x1f\x8b\x08\x00" + bytes(32), "type de fichier n’est pas accepté",
        id="gzip",
    ),
    pytest.param(
        "casse.docx", b"PK\x03\x04" + b"pas vraiment une archive" * 4, "endommagée",
        id="zip-endommage",
    ),
    pytest.param(
        "binaire.txt", b"texte\x01\x02\x03\x04\x05\x06\x07\x08" * 4,
        "type de fichier n’est pas accepté", id="controles-sans-nul",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "fragment"), GENERATED_REFUSED)
def test_generated_content_is_refused(tmp_path, name, data, fragment):
    """Executables, scripts, markup, old Office, UTF-16 and damaged archives are refused."""
    path = tmp_path / name
    path.write_bytes(data)

    assert fragment in refusal(path)


def test_text_that_merely_starts_with_mz_is_not_an_executable(tmp_path):
    """Only a real DOS/PE header counts as a program; "MZ Conseil" is a company name."""
    path = tmp_path / "prestataire.txt"
    path.write_text("MZ Conseil : compte rendu de l’audit blanc\n", encoding="utf-8")

    assert inspect_file(path, path.name).media_type == "text/plain"


def test_gif_and_webp_are_identified_by_magic_bytes(tmp_path):
    """GIF and WebP are recognised from their signatures, shown inline, without search text."""
    gif = tmp_path / "a.gif"
    gif.write_bytes(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")
    webp = tmp_path / "a.webp"
    webp.write_bytes(b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00" + bytes(10))

    assert inspect_file(gif, "a.gif").label == "Image GIF"
    assert inspect_file(webp, "a.webp").media_type == "image/webp"
    assert inspect_file(webp, "a.webp").inline_preview is True


def test_pdf_header_after_leading_bytes_is_still_a_pdf(tmp_path):
    """A %PDF- header within the first 1024 bytes is enough, as PDF readers allow."""
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"\r\n" * 20 + (UPLOADS / "preuve.pdf").read_bytes())

    assert inspect_file(path, path.name).media_type == PDF


@pytest.mark.parametrize(
    ("media_type", "body", "label", "fragment"),
    [
        pytest.param(
            ODS,
            "<office:spreadsheet><text:p>Indicateur 12 : satisfaction</text:p>"
            "</office:spreadsheet>",
            "Classeur OpenDocument (ODS)",
            "Indicateur 12 : satisfaction",
            id="ods",
        ),
        pytest.param(
            ODP,
            "<office:presentation><text:p>Bilan annuel</text:p></office:presentation>",
            "Présentation OpenDocument (ODP)",
            "Bilan annuel",
            id="odp",
        ),
    ],
)
def test_other_opendocument_kinds_are_identified_by_their_mimetype_entry(
    tmp_path, media_type, body, label, fragment
):
    """ODS and ODP are told apart by the ``mimetype`` entry, and their text is extracted."""
    name = {ODS: "doc.ods", ODP: "doc.odp"}[media_type]
    inspection = inspect_file(write_odf(tmp_path / "doc.zip", media_type, body), name)

    assert (inspection.media_type, inspection.label) == (media_type, label)
    assert fragment in inspection.text


def test_pptx_is_identified_and_slide_text_extracted(tmp_path):
    """A PPTX is recognised from its content types; slide text is searchable, in slide order."""
    slide = (
        '<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
        "<a:p><a:r><a:t>{}</a:t></a:r></a:p></p:sld>"
    )
    path = write_zip(
        tmp_path / "bilan.pptx",
        {
            "[Content_Types].xml": CONTENT_TYPES.format(
                part="/ppt/presentation.xml",
                content_type="application/vnd.openxmlformats-officedocument.presentationml."
                "presentation.main+xml",
            ),
            "ppt/presentation.xml": "<p:presentation/>",
            "ppt/slides/slide10.xml": slide.format("Dixième diapositive"),
            "ppt/slides/slide2.xml": slide.format("Deuxième diapositive"),
        },
    )

    inspection = inspect_file(path, path.name)

    assert inspection.media_type == PPTX
    assert inspection.text == "Deuxième diapositive\nDixième diapositive"


def test_xlsx_shared_strings_are_searchable(tmp_path):
    """Text typed in Excel lives in xl/sharedStrings.xml; it becomes search text."""
    path = write_zip(
        tmp_path / "suivi.xlsx",
        {
            "[Content_Types].xml": CONTENT_TYPES.format(
                part="/xl/workbook.xml",
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml."
                "sheet.main+xml",
            ),
            "xl/workbook.xml": "<workbook/>",
            "xl/sharedStrings.xml": (
                '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                "<si><t>Taux d’assiduité</t></si><si><r><t>Objectif </t></r><r><t>atteint</t>"
                "</r></si></sst>"
            ),
        },
    )

    inspection = inspect_file(path, path.name)

    assert inspection.media_type == XLSX
    assert inspection.text == "Taux d’assiduité\nObjectif atteint"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
        "application/vnd.ms-word.document.macroEnabled.main+xml",
    ],
)
def test_macro_enabled_office_documents_are_refused(tmp_path, content_type):
    """XLSM and DOCM carry macros: refused, with a hint to save without them."""
    path = write_zip(
        tmp_path / "classeur.xlsx",
        {"[Content_Types].xml": CONTENT_TYPES.format(part="/main.xml", content_type=content_type)},
    )

    assert "contenant des macros" in refusal(path)


def test_docx_carrying_a_vba_project_is_refused(tmp_path):
    """A macro project inside a .docx-typed package is refused too."""
    path = write_docx(tmp_path / "piege.docx", "<w:p/>", **{"word/vbaProject.bin": b"\0" * 32})

    assert "contenant des macros" in refusal(path)


def test_other_zip_packages_with_a_mimetype_are_refused(tmp_path):
    """An EPUB (a zip with a mimetype entry, but not OpenDocument) is not accepted."""
    path = write_zip(tmp_path / "livre.odt", {"mimetype": "application/epub+zip"})

    assert "type de fichier n’est pas accepté" in refusal(path)


def test_xml_entity_bomb_inside_a_docx_gives_no_text_but_is_not_refused(tmp_path):
    """defusedxml stops the "billion laughs": no expansion, no search text, document accepted."""
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        f"<w:document {WORD_NS}><w:body><w:p><w:r><w:t>&c;</w:t></w:r></w:p></w:body>"
        "</w:document>"
    )
    path = write_docx(tmp_path / "entites.docx", "")
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning, match="Duplicate"):
        archive.writestr("word/document.xml", bomb)  # the later entry wins when read

    inspection = inspect_file(path, path.name)

    assert inspection.media_type == DOCX
    assert inspection.text == ""


# --- text and CSV -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "media_type"),
    [
        pytest.param("export", "nom,prenom\nDupont,Léa\nMartin,Paul\n", "text/csv", id="virgule"),
        pytest.param("export.dat", "nom;prenom\nDupont;Léa\n", "text/csv", id="point-virgule"),
        pytest.param("liste.csv", "une seule colonne\nsans séparateur\n", "text/csv", id="ext-csv"),
        pytest.param("note.txt", "nom,prenom\nDupont,Léa\n", "text/plain", id="ext-txt"),
        pytest.param(
            "compte-rendu", "Bonjour, voici le compte rendu.\nMerci.\n", "text/plain", id="prose"
        ),
    ],
)
def test_csv_is_told_from_plain_text_by_extension_or_a_consistent_delimiter(
    tmp_path, name, content, media_type
):
    """.csv is CSV, .txt is text; otherwise a ; or , present the same number of times per line."""
    path = tmp_path / "upload"
    path.write_text(content, encoding="utf-8")

    assert inspect_file(path, name).media_type == media_type


def test_utf8_byte_order_mark_is_not_part_of_the_search_text(tmp_path):
    """Notepad's UTF-8 BOM is recognised and dropped from the text."""
    path = tmp_path / "note.txt"
    path.write_bytes("\ufeffÉchéancier de l’audit".encode())

    assert inspect_file(path, path.name).text == "Échéancier de l’audit"


def test_cp1252_text_is_decoded_with_its_accents():
    """A CSV saved by Excel on French Windows (cp1252) keeps its accents in the search text."""
    inspection = inspect_file(UPLOADS / "emargement.csv", "emargement.csv")

    assert "Dupré;Hélène" in inspection.text
    assert "Lefèvre;François" in inspection.text


# --- PDF flags ------------------------------------------------------------------------------------


def test_pdf_protected_by_an_owner_password_only_is_flagged_but_searchable(tmp_path):
    """An empty user password opens it: still flagged chiffré, but its text is extracted."""
    writer = PdfWriter(clone_from=PdfReader(UPLOADS / "preuve.pdf"))
    writer.encrypt(user_password="", owner_password="proprietaire", algorithm="RC4-128")
    path = tmp_path / "protege.pdf"
    with path.open("wb") as handle:
        writer.write(handle)

    inspection = inspect_file(path, path.name)

    assert inspection.flags == {"chiffre"}
    assert "comité de pilotage" in inspection.text
    assert inspection.inline_preview is False


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"%PDF-1.7\nceci n'est pas un PDF\n%%EOF\n", id="corps-illisible"),
        pytest.param(b"%PDF-1.4\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n", id="sans-page"),
    ],
)
def test_corrupt_pdf_is_accepted_and_flagged_unreadable(tmp_path, data):
    """A PDF pypdf cannot read, or that has no page, is kept but flagged illisible."""
    path = tmp_path / "abime.pdf"
    path.write_bytes(data)

    inspection = inspect_file(path, path.name)

    assert inspection.media_type == PDF
    assert inspection.flags == {"illisible"}
    assert inspection.inline_preview is False


def test_pdf_with_broken_cross_references_is_repaired_when_small(tmp_path):
    """A wrong startxref offset is repaired by pypdf for an ordinary-sized file: no flag."""
    data = re.sub(rb"startxref\s+\d+", b"startxref\n17", (UPLOADS / "preuve.pdf").read_bytes())
    path = tmp_path / "repare.pdf"
    path.write_bytes(data)

    inspection = inspect_file(path, path.name)

    assert inspection.flags == frozenset()
    assert "comité de pilotage" in inspection.text


def test_pdf_repair_never_reads_a_large_file_whole(tmp_path, monkeypatch):
    """Past the whole-read limit, the repair that would load the file is stopped: flagged."""
    monkeypatch.setattr(filetypes, "_PDF_WHOLE_READ_LIMIT", 1024)
    data = re.sub(rb"startxref\s+\d+", b"startxref\n17", (UPLOADS / "preuve.pdf").read_bytes())
    path = tmp_path / "gros.pdf"
    path.write_bytes(data)

    assert inspect_file(path, path.name).flags == {"illisible"}


def test_pdf_parser_complaints_stay_out_of_the_logs(tmp_path, caplog):
    """pypdf's warnings about damaged files are silenced: the flag says it all."""
    caplog.set_level(logging.DEBUG)
    data = re.sub(rb"startxref\s+\d+", b"startxref\n17", (UPLOADS / "preuve.pdf").read_bytes())
    path = tmp_path / "repare.pdf"
    path.write_bytes(data)

    inspect_file(path, path.name)
    inspect_file(UPLOADS / "chiffre.pdf", "chiffre.pdf")

    assert [record for record in caplog.records if record.name.startswith("pypdf")] == []


# --- zip bombs ----------------------------------------------------------------------------------


def test_zip_bomb_is_refused_from_declared_sizes_without_extracting(monkeypatch):
    """The 300 MB DOCX bomb is refused by the central directory alone: no member is opened."""

    def no_extraction(*_args, **_kwargs):
        raise AssertionError("a zip member was opened before the bomb guard")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_extraction)
    bomb = UPLOADS / "bombe.docx"

    with pytest.raises(RefusedFile, match="taille décompressée excessive"):
        inspect_file(bomb, bomb.name)
    assert bomb.stat().st_size < 512 * 1024


def test_zip_part_with_an_abnormal_compression_ratio_is_refused(tmp_path):
    """Under the total cap, one part over 1 MiB compressed more than 100× is still refused."""
    path = write_docx(tmp_path / "ratio.docx", "<w:p/>", **{"word/media/fond.bin": bytes(2 << 20)})

    assert "taux de compression anormal" in refusal(path)


def test_small_parts_may_compress_very_well(tmp_path):
    """Parts under 1 MiB are exempt from the ratio rule: repetitive XML compresses > 100×."""
    path = write_docx(tmp_path / "styles.docx", "<w:p/>", **{"word/styles.xml": bytes(900_000)})

    assert inspect_file(path, path.name).media_type == DOCX


def test_zip_with_too_many_entries_is_refused(tmp_path):
    """More than 10,000 entries is refused before zipfile loads the whole directory."""
    path = tmp_path / "nombreux.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for number in range(10_001):
            archive.writestr(f"p/{number}", b"")

    assert "trop de fichiers" in refusal(path)


# --- bounds -------------------------------------------------------------------------------------


def test_large_text_file_is_inspected_in_bounded_memory(tmp_path):
    """A 30 MB text file is inspected with a peak under 16 MB: only the capped text is read."""
    path = tmp_path / "journal.txt"
    line = "Entretien de suivi avec la stagiaire : étape validée, prochaine échéance.\n"
    block = line * (1024 * 1024 // len(line.encode()))
    with path.open("w", encoding="utf-8") as handle:
        for _ in range(30):
            handle.write(block)
    assert path.stat().st_size > 29 * 1024 * 1024

    tracemalloc.start()
    try:
        inspection = inspect_file(path, path.name)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert peak < 16 * 1024 * 1024
    assert inspection.media_type == "text/plain"
    assert TEXT_LIMIT - len(line) < len(inspection.text) <= TEXT_LIMIT


def test_text_extraction_stops_at_text_limit(tmp_path):
    """A text longer than TEXT_LIMIT characters yields exactly TEXT_LIMIT of them."""
    path = tmp_path / "long.txt"
    path.write_text("é" * (TEXT_LIMIT + 5_000), encoding="utf-8")

    assert inspect_file(path, path.name).text == "é" * TEXT_LIMIT


@pytest.mark.parametrize(
    "fixture", ["preuve.pdf", "compte-rendu.docx", "document.odt", "tableau.xlsx", "note.txt"]
)
def test_every_extractor_honours_text_limit(monkeypatch, fixture):
    """PDF, DOCX, ODF, XLSX and text extraction all stop at TEXT_LIMIT characters."""
    monkeypatch.setattr(filetypes, "TEXT_LIMIT", 12)

    text = inspect_file(UPLOADS / fixture, fixture).text

    assert 0 < len(text) <= 12


# --- file names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("Procès-verbal été.pdf", "Procès-verbal été.pdf", id="accents"),
        pytest.param(
            unicodedata.normalize("NFD", "Procès-verbal été.pdf"),
            "Procès-verbal été.pdf",
            id="nfd-vers-nfc",
        ),
        pytest.param("a" * 251 + ".pdf", "a" * 251 + ".pdf", id="255-caracteres"),
        pytest.param("é" * 251 + ".pdf", "é" * 251 + ".pdf", id="255-caracteres-pas-octets"),
        pytest.param("..rapport (v2).pdf", "..rapport (v2).pdf", id="points-dans-le-nom"),
        pytest.param(" rapport.pdf ", " rapport.pdf ", id="espaces-gardes"),
    ],
)
def test_check_filename_keeps_the_name_as_the_user_wrote_it(name, expected):
    """Valid names come back unchanged apart from NFC normalisation."""
    assert check_filename(name) == expected


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        pytest.param("../etc/passwd", "chemin", id="remontee"),
        pytest.param("a/b.pdf", "chemin", id="barre"),
        pytest.param("a\\b.pdf", "chemin", id="antislash"),
        pytest.param("..", "chemin", id="point-point"),
        pytest.param("x\x00.pdf", "caractères invisibles ou de contrôle", id="nul"),
        pytest.param("x\n.pdf", "caractères invisibles ou de contrôle", id="saut-de-ligne"),
        pytest.param("rapport\u202efdp.exe", "caractères invisibles", id="bidi"),
        pytest.param("a" * 296 + ".pdf", "dépasse 255 caractères", id="300-caracteres"),
        pytest.param("", "Le nom du fichier est vide", id="vide"),
        pytest.param("   ", "Le nom du fichier est vide", id="blanc"),
    ],
)
def test_check_filename_refuses_dangerous_names_in_french(name, fragment):
    """Paths, control characters, over-long and blank names are refused with a French reason."""
    with pytest.raises(RefusedFile) as caught:
        check_filename(name)

    message = str(caught.value)
    assert fragment in message
    assert "\x00" not in message and "\u202e" not in message
    assert len(message) < 200  # a 300-character name is shortened in the message


def test_refusal_message_never_echoes_control_characters(tmp_path):
    """inspect_file may be called before check_filename: the message stays printable."""
    path = tmp_path / "vide"
    path.write_bytes(b"")

    with pytest.raises(RefusedFile) as caught:
        inspect_file(path, "piège\x1b[31m.pdf")

    assert "\x1b" not in str(caught.value)
    assert "« piège\ufffd[31m.pdf »" in str(caught.value)


def test_refused_file_is_a_value_error():
    """Callers that already catch ValueError keep working."""
    assert issubclass(RefusedFile, ValueError)


def test_inspection_is_immutable():
    """An Inspection is a frozen record, safe to cache and share."""
    inspection = inspect_file(UPLOADS / "image.png", "image.png")

    with pytest.raises(AttributeError):
        inspection.label = "autre"  # type: ignore[misc]


def test_pdf_fixture_is_a_real_two_page_document():
    """The sample PDF is genuine (two pages), so the PDF tests test pypdf, not a stub."""
    assert len(PdfReader(io.BytesIO((UPLOADS / "preuve.pdf").read_bytes())).pages) == 2
