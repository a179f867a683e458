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
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Frame, KeepInFrame, Paragraph, Spacer, Table, TableStyle

from ..pdf import fonts as font_mod
from ..pdf.text import Text
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
    """Write one separator page per pièce, numbered as they will be in the final file."""
    canvas = Canvas(str(path), pagesize=PAGE, invariant=True)
    canvas.setTitle(_("Annexes"))
    height = PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM
    for index, piece in enumerate(pieces):
        page_number = layout.annex_page_of(piece)
        decorate(canvas, layout, page_number)
        top = MARGIN_BOTTOM + height
        info = Frame(MARGIN_X, top - INFO_HEIGHT, WIDTH, INFO_HEIGHT, leftPadding=0,
                     rightPadding=0, topPadding=0, bottomPadding=0, showBoundary=0)
        info.addFromList([KeepInFrame(WIDTH, INFO_HEIGHT, _describe(piece, text, as_of),
                                      mode="shrink")], canvas)
        below = height - INFO_HEIGHT - 6 * mm
        if piece.annex is AnnexKind.IMAGE:
            _draw_image(canvas, piece, MARGIN_BOTTOM, below)
        else:
            body = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, below, leftPadding=0, rightPadding=0,
                         topPadding=0, bottomPadding=0)
            body.addFromList([KeepInFrame(WIDTH, below, _what_follows(piece, text),
                                          mode="shrink")], canvas)
        canvas.showPage()
        if progress and index % 50 == 0:
            progress(index)
    if not pieces:
        canvas.showPage()  # a valid (unused) file; the builder does not merge it
    canvas.save()
    return len(pieces)


def _describe(piece: Piece, text: Text, as_of) -> list:
    s = text.styles
    evidence, version = piece.evidence, piece.version
    out = [
        text.para(_("Annexe – Pièce %(number)s", number=piece.number), s.h1),
        text.para(evidence.title, s.h2),
    ]
    rows = [
        (_("Nature"), nature(piece)),
        (_("Statut"), evidence.status.label),
        (_("Propriétaire"), owner(evidence)),
        (_("Période couverte"), period(evidence)),
        (_("Validité"), validity(evidence, as_of)),
    ]
    if version is not None:
        rows += [
            (_("Fichier"), version.filename),
            (_("Version"), _("v%(number)s du %(day)s", number=version.number,
                             day=day(version.uploaded_at.date()))),
            (_("Taille"), _("%(size)s octets", size=format_decimal(version.size, "#,##0"))),
            (_("SHA-256"), version.sha256),
        ]
    rows.append((_("Critères"), criteria_by_framework(piece.criteria)))
    if evidence.personal_data:
        rows.append((_("Données personnelles"), _("oui : à ne pas diffuser au-delà de l’audit")))
    table = Table([[text.para(k, s.cell_bold),
                    text.para(v, s.cell_mono if k == _("SHA-256") else s.cell,
                              typography=k not in {_("SHA-256"), _("Fichier")})]
                   for k, v in rows],
                  colWidths=[35 * mm, WIDTH - 35 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID)]))
    return [*out, Spacer(0, 2 * mm), table]


def _what_follows(piece: Piece, text: Text) -> list:
    s = text.styles
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
    box = [Paragraph(text.markup(line, typography=not line.startswith(("http", "mailto"))),
                     s.body) for line in lines]
    return [Spacer(0, 2 * mm), *box]


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
