"""The ZIP bundle: the dossier PDF, the original files in one folder per criterion, and
``manifest.csv``. Files are streamed into the archive from the copies fetched (and hashed) for
the build; nothing is held whole in memory."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from flask_babel import gettext as _

from .annexes import criteria_by_framework
from .collect import Integrity, Piece, slug

# PDFs, images and office files are already compressed: deflating them again costs time for
# nothing; the manifest and text files are small.
_STORED_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".gif", ".webp", ".docx", ".xlsx",
                    ".pptx", ".odt", ".ods", ".odp", ".zip"}


def criterion_folder(criterion) -> str:
    """« e2c-label-B2-part-de-stagiaires-issus-des-qpv »: code and slug, safe everywhere."""
    framework = criterion.framework.code if criterion.framework else "referentiel"
    return f"{slug(framework, 20)}-{slug(criterion.code, 20)}-{slug(criterion.title, 40)}"


def file_name(piece: Piece) -> str:
    version = piece.version
    suffix = Path(version.filename).suffix.lower() if version else ""
    stem = Path(version.filename).stem if version else piece.title
    safe_suffix = "." + slug(suffix.lstrip("."), 8) if suffix else ""
    return f"piece-{piece.number:04d}-{slug(stem, 60)}{safe_suffix}"


def build_zip(zip_path: Path, pdf_path: Path, pieces: list[Piece], *, pdf_name: str) -> None:
    """Write the archive; a file that could not be fetched intact is not included, and the
    manifest says so."""
    rows = []
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED,
                         allowZip64=True) as archive:
        archive.write(pdf_path, pdf_name, compress_type=zipfile.ZIP_STORED)
        for piece in pieces:
            folders = list(dict.fromkeys(criterion_folder(c) for c in piece.criteria))
            included = piece.integrity is Integrity.OK and piece.local_path is not None
            paths = []
            if included:
                name = file_name(piece)
                stored = Path(name).suffix in _STORED_SUFFIXES
                for folder in folders:
                    arcname = f"{folder}/{name}"
                    archive.write(piece.local_path, arcname,
                                  compress_type=zipfile.ZIP_STORED if stored
                                  else zipfile.ZIP_DEFLATED)
                    paths.append(arcname)
            rows.append(_manifest_row(piece, paths, included))
        archive.writestr("manifest.csv", _csv(rows))


def _manifest_row(piece: Piece, paths: list[str], included: bool) -> list[str]:
    evidence, version = piece.evidence, piece.version
    criteria = criteria_by_framework(piece.criteria, limit=len(piece.criteria))
    if included:
        where = " | ".join(paths)
    elif evidence.url:
        where = evidence.url
    elif evidence.paper_location:
        where = _("papier : %(place)s", place=evidence.paper_location)
    elif piece.integrity is Integrity.ALTERED:
        where = _("non fourni : empreinte différente de celle enregistrée")
    elif piece.integrity is Integrity.MISSING:
        where = _("non fourni : fichier introuvable")
    else:
        where = ""
    return [str(piece.number), evidence.title, criteria, where,
            version.sha256 if version else "", str(version.size) if version else ""]


def _csv(rows: list[list[str]]) -> bytes:
    """CSV as French Excel opens it by a double click: ``;``, CRLF, UTF-8 with its BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["piece", "titre", "criteres", "fichier", "sha256", "taille"])
    for row in rows:
        # A cell starting with = + - @ would be a formula in a spreadsheet: neutralised.
        writer.writerow(["'" + cell if cell[:1] in {"=", "+", "-", "@"} else cell
                         for cell in row])
    return buffer.getvalue().encode("utf-8-sig")
