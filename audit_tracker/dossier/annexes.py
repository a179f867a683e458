"""The annex part's generated pages: one separator page per pièce, always exactly one page.

Each separator names the pièce (number, title, full SHA-256) and says what follows: the PDF's own
pages (merged after it), the image (placed on it), or why nothing follows (a document or a link
provided in the archive, a paper proof to consult on site, an encrypted or unreadable PDF). One
page each is what lets the annex plan be computed before any layout.
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from ..pdf import fonts as font_mod
from ..pdf.text import Text, french
from .collect import AnnexKind, Piece
from .document import (
    GRID,
    MARGIN_BOTTOM,
    MARGIN_TOP,
    MARGIN_X,
    PAGE,
    WIDTH,
    Layout,
    day,
    decorate,
    nature,
    owner,
    period,
    validity,
)

INFO_HEIGHT = 105 * mm  # the pièce's description; the rest of the page is for what follows


def build_separators(path: Path, pieces: list[Piece], text: Text, layout: Layout, *,
                     as_of, progress=None) -> int:
    """Write one separator page per pièce, numbered as they will be in the final file.

    Drawn straight on the canvas (lines measured with the font's metrics) rather than laid
    out by platypus frames: 2,000 of them are a large share of a big dossier's build."""
    canvas = Canvas(str(path), pagesize=PAGE, invariant=True)
    canvas.setTitle(_("Annexes"))
    labels = Labels()
    height = PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM
    top = MARGIN_BOTTOM + height
    for index, piece in enumerate(pieces):
        decorate(canvas, layout, layout.annex_page_of(piece))
        _draw_describe(canvas, piece, as_of, top, top - INFO_HEIGHT, labels)
        below = height - INFO_HEIGHT - 6 * mm
        if piece.annex is AnnexKind.IMAGE:
            _draw_image(canvas, piece, MARGIN_BOTTOM, below)
        else:
            _draw_paragraphs(canvas, _what_follows_lines(piece), MARGIN_BOTTOM + below,
                             MARGIN_BOTTOM)
        canvas.showPage()
        if progress and index % 50 == 0:
            progress(index)
    if not pieces:
        canvas.showPage()  # a valid (unused) file; the builder does not merge it
    canvas.save()
    return len(pieces)


def _lines(value: str, font: str, size: float, width: float) -> list[str]:
    """``value`` broken into lines that fit ``width`` (explicit line breaks kept)."""
    out: list[str] = []
    for paragraph in str(value).splitlines() or [""]:
        # Most values are one short line: measured whole, they are what simpleSplit would
        # give (it rejoins words with single spaces: only text already so joined is taken).
        if stringWidth(paragraph, font, size) < width - 0.001 \
                and " ".join(paragraph.split()) == paragraph:
            out.append(paragraph)
        else:
            out += simpleSplit(paragraph, font, size, width) or [""]
    return out


class Labels:
    """The separator page's fixed wording, translated once per build rather than once per
    pièce (Babel's lookup was a fifth of the separators' time for 2,000 pages)."""

    def __init__(self) -> None:
        self.nature = _("Nature")
        self.status = _("Statut")
        self.owner = _("Propriétaire")
        self.period = _("Période couverte")
        self.validity = _("Validité")
        self.file = _("Fichier")
        self.version = _("Version")
        self.size = _("Taille")
        self.sha256 = _("SHA-256")
        self.criteria = _("Critères")
        self.personal = _("Données personnelles")
        self.personal_yes = _("oui : à ne pas diffuser au-delà de l’audit")
        self.shown = {label: french(label) for label in vars(self).values()}
        # Per pièce, filled in with ``%`` as ``gettext``'s variables are.
        self.heading = _("Annexe – Pièce %(number)s")
        self.version_of = _("v%(number)s du %(day)s")
        self.size_of = _("%(size)s octets")


def _draw_describe(canvas: Canvas, piece: Piece, as_of, top: float, bottom: float,
                   labels: Labels) -> None:
    """The pièce's number, title and details table, within ``top``…``bottom``."""
    y = top - 16
    canvas.setFillColor(colors.black)
    canvas.setFont(font_mod.BOLD, 16)
    canvas.drawString(MARGIN_X, y, french(labels.heading % {"number": piece.number}))
    y -= 8
    for line in _lines(french(piece.evidence.title), font_mod.BOLD, 12.5, WIDTH)[:3]:
        y -= 15
        canvas.setFont(font_mod.BOLD, 12.5)
        canvas.drawString(MARGIN_X, y, line)
    y -= 2 * mm + 4
    label_width = 35 * mm
    for label, value in _details(piece, as_of, labels):
        mono = label == labels.sha256
        font, size = (font_mod.MONO, 6.5) if mono else (font_mod.REGULAR, 7)
        shown = value if mono or label == labels.file else french(value)
        lines = _lines(shown, font, size, WIDTH - label_width - 4)[:4]
        needed = 8.6 * len(lines) + 4
        if y - needed < bottom:
            break
        canvas.setFont(font_mod.BOLD, 7)
        canvas.drawString(MARGIN_X, y - 7, labels.shown[label])
        canvas.setFont(font, size)
        for offset, line in enumerate(lines):
            canvas.drawString(MARGIN_X + label_width, y - 7 - 8.6 * offset, line)
        y -= needed
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.25)
        canvas.line(MARGIN_X, y + 1.5, MARGIN_X + WIDTH, y + 1.5)


def _draw_paragraphs(canvas: Canvas, lines: list[str], top: float, bottom: float) -> None:
    """What follows the separator page, in body text; cut at ``bottom``."""
    y = top - 2 * mm
    canvas.setFillColor(colors.black)
    canvas.setFont(font_mod.REGULAR, 9.5)
    for paragraph in lines:
        shown = paragraph if paragraph.startswith(("http", "mailto")) else french(paragraph)
        for line in _lines(shown, font_mod.REGULAR, 9.5, WIDTH):
            y -= 12.5
            if y < bottom:
                return
            canvas.drawString(MARGIN_X, y, line)
        y -= 3


def _details(piece: Piece, as_of, labels: Labels) -> list[tuple[str, str]]:
    """The separator page's details: nature, state, owner, period, validity, file, hash…"""
    evidence, version = piece.evidence, piece.version
    rows = [
        (labels.nature, nature(piece)),
        (labels.status, evidence.status.label),
        (labels.owner, owner(evidence)),
        (labels.period, period(evidence)),
        (labels.validity, validity(evidence, as_of)),
    ]
    if version is not None:
        rows += [
            (labels.file, version.filename),
            (labels.version, labels.version_of % {"number": version.number,
                                                  "day": day(version.uploaded_at.date())}),
            (labels.size, labels.size_of % {"size": format_decimal(version.size, "#,##0")}),
            (labels.sha256, version.sha256),
        ]
    rows.append((labels.criteria, criteria_by_framework(piece.criteria)))
    if evidence.personal_data:
        rows.append((labels.personal, labels.personal_yes))
    return rows


def _what_follows_lines(piece: Piece) -> list[str]:
    """What the page says about what follows it (or why nothing does)."""
    evidence, version = piece.evidence, piece.version
    kind = piece.annex
    if kind is AnnexKind.PDF:
        lines = [ngettext("Le document suit cette page : %(num)s page.",
                          "Le document suit cette page : %(num)s pages.", piece.pdf_pages)]
    elif kind is AnnexKind.ARCHIVE:
        lines = [_("Fichier fourni dans l’archive du dossier (dossier ZIP, même empreinte "
                   "SHA-256) : « %(name)s ».", name=version.filename if version else "—")]
        if version is not None and version.extracted_text:
            lines.append(_("Début du texte du document :"))
            lines.append(version.extracted_text[:1500])
    elif kind is AnnexKind.LINK:
        lines = [_("Lien externe, listé dans l’archive du dossier (manifest.csv) :"),
                 evidence.url or "—"]
    elif kind is AnnexKind.PAPER:
        lines = [_("Preuve papier, consultable sur place."),
                 _("Lieu : %(place)s", place=evidence.paper_location or "—"),
                 _("Détenteur : %(who)s", who=evidence.paper_custodian or "—")]
    else:
        lines = [piece.annex_reason]
    if evidence.description:
        lines.append(_("Description : %(text)s", text=evidence.description[:1500]))
    return [str(line) for line in lines]


def _draw_image(canvas: Canvas, piece: Piece, bottom: float, height: float) -> None:
    try:
        canvas.drawImage(str(piece.local_path), MARGIN_X, bottom, width=WIDTH, height=height,
                         preserveAspectRatio=True, anchor="n", mask="auto")
    except Exception:  # checked readable before; a decoder still refusing it is explained
        canvas.setFont(font_mod.REGULAR, 10)
        canvas.setFillColor(colors.black)
        canvas.drawString(MARGIN_X, bottom + height - 12,
                          _("Cette image ne peut pas être reproduite : fichier dans l’archive."))


def criteria_by_framework(criteria, limit: int = 40) -> str:
    """« Label E2C France : A1, B5 ; Référentiel National Qualité (Qualiopi) : 2 »: the
    référentiel's name, not its code, before its criteria's codes."""
    groups: dict[str, list[str]] = {}
    for criterion in criteria[:limit]:
        name = criterion.framework.name if criterion.framework else ""
        groups.setdefault(name, []).append(criterion.code)
    shown = " ; ".join(f"{name} : {', '.join(codes)}" if name else ", ".join(codes)
                       for name, codes in groups.items())
    return shown + (" …" if len(criteria) > limit else "") if shown else "—"
