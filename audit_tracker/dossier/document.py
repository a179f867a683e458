"""The generated part of the dossier, laid out with reportlab's platypus: its pages, headings,
tables and the wording its cells share. What it holds is the sections' (``dossier/sections``).

Built with ``multiBuild``: the table of contents and the part's own page count (which the annex
page numbers and the « page N / M » footers depend on) are settled by passes until they no
longer change. Nothing in the layout depends on those numbers (they are drawn, never measured),
and the contents are given their entries before the first pass, so the first pass already lands
everything where it will stay: it is laid out without drawing (a dry run), and the second draws
the pages with the numbers the first one found. Two passes, one of them cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from ..pdf import fonts as font_mod
from ..pdf.text import DRY_RUN, Grid, Para, Styles, Text, is_dry_run
from .assemble import LINK_SCHEME
from .collect import Piece

PAGE = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X

GRID = colors.HexColor("#adb5bd")
HEAD_BG = colors.HexColor("#e9ecef")


def day(value: date | None) -> str:
    """« 07/12/2026 »: digits only, the same in every locale (Babel's ``dd/MM/yyyy``, without
    its locale lookup for each of the dossier's thousands of dates)."""
    return value.strftime("%d/%m/%Y") if value else "—"


@dataclass
class Layout:
    """What the page decorations and the annex references read while a pass is laid out."""

    school: str
    campaign: str
    footer_note: str
    annex_pages: int  # pages of the annex part, known before the layout
    with_annexes: bool
    main_pages: int = 0  # the main part's page count, from the previous pass
    pages_this_pass: int = 0
    dry_run: bool = False  # the pass being laid out draws nothing (only where things land)
    positions: dict[str, tuple[int, float]] = field(default_factory=dict)  # key -> (page, top)

    @property
    def total_pages(self) -> int:
        return self.main_pages + (self.annex_pages if self.with_annexes else 0)

    def annex_page_of(self, piece: Piece) -> int:
        """1-based page number of the pièce's separator page in the final document."""
        return self.main_pages + piece.annex_offset + 1


def decorate(canvas, layout: Layout, page_number: int, *, cover: bool = False) -> None:
    """Header (school, campaign) and footer (« page N / M ») on every page, generated or not."""
    canvas.saveState()
    width, height = PAGE
    if not cover:
        canvas.setFont(font_mod.REGULAR, 7.5)
        canvas.setFillColor(colors.HexColor("#495057"))
        canvas.drawString(MARGIN_X, height - 13 * mm, layout.school[:90])
        canvas.drawRightString(width - MARGIN_X, height - 13 * mm, layout.campaign[:60])
        canvas.setStrokeColor(GRID)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, height - 14.5 * mm, width - MARGIN_X, height - 14.5 * mm)
    canvas.setFont(font_mod.REGULAR, 7.5)
    canvas.setFillColor(colors.HexColor("#495057"))
    canvas.drawString(MARGIN_X, 10 * mm, layout.footer_note[:110])
    total = max(layout.total_pages, page_number)
    canvas.drawRightString(width - MARGIN_X, 10 * mm,
                           _("page %(page)s / %(total)s", page=page_number, total=total))
    canvas.restoreState()


class Heading(Para):
    """A titled part: a TOC entry, a bookmark for links, and its position for the outline."""

    def __init__(self, markup: str, style, *, level: int, key: str, layout: Layout,
                 toc: bool = True) -> None:
        super().__init__(markup, style)
        self.level = level
        self.key = key
        self.layout = layout
        self.toc_markup = markup
        self.in_toc = toc

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 - reportlab's name
        top = y + self.height
        canvas.bookmarkPage(self.key, fit="XYZ", left=0, top=top + 8)
        self.layout.positions[self.key] = (canvas.getPageNumber(), top + 8)
        return super().drawOn(canvas, x, y, _sW)


class PageCount(Flowable):
    """An indexing flowable: ``multiBuild`` passes again until the page count it was laid out
    with is the page count it produced (the annex numbers and footers depend on it)."""

    def __init__(self, layout: Layout) -> None:
        super().__init__()
        self.layout = layout
        self.used: int | None = None
        self.produced: int | None = None
        self.dry = False

    def wrap(self, _w, _h):
        return 0, 0

    def draw(self):
        pass

    def isIndexing(self):  # noqa: N802 - reportlab's name
        return 1

    def beforeBuild(self):  # noqa: N802
        self.layout.pages_this_pass = 0
        self.layout.positions.clear()
        self.used = self.layout.main_pages
        self.dry = self.layout.dry_run

    def afterBuild(self):  # noqa: N802
        self.produced = self.layout.pages_this_pass
        self.layout.main_pages = self.produced
        self.layout.dry_run = False  # only a first pass is ever dry

    def isSatisfied(self):  # noqa: N802
        # A dry pass drew nothing: the one after it must draw, whatever the numbers say.
        return not self.dry and self.used == self.produced

    def notify(self, _kind, _stuff):
        pass  # indexing flowables hear every TOC entry; this one only counts pages


class AnnexRef(Flowable):
    """« p. 57 », the page where a pièce's annex starts, clickable; the number is that of the
    previous pass, hence right once the passes agree."""

    def __init__(self, piece: Piece, layout: Layout) -> None:
        super().__init__()
        self.piece = piece
        self.layout = layout

    def wrap(self, avail_width, _h):
        self.width = min(avail_width, 14 * mm)
        return self.width, 9

    def draw(self):
        text = str(self.layout.annex_page_of(self.piece))
        self.canv.setFont(font_mod.BOLD, 7)
        self.canv.setFillColor(colors.HexColor("#0b5ed7"))
        self.canv.drawString(0, 1.5, text)
        self.canv.linkURL(f"{LINK_SCHEME}piece/{self.piece.number}",
                          (0, 0, self.width, 9), relative=1, thickness=0)


class DossierDoc(BaseDocTemplate):
    def __init__(self, path: Path, layout: Layout, *, title: str, author: str) -> None:
        super().__init__(str(path), pagesize=PAGE, leftMargin=MARGIN_X, rightMargin=MARGIN_X,
                         topMargin=MARGIN_TOP, bottomMargin=MARGIN_BOTTOM, title=title,
                         author=author, creator="audit_tracker", lang="fr-FR",
                         invariant=True)
        self.layout = layout
        frame = Frame(MARGIN_X, MARGIN_BOTTOM, WIDTH, PAGE[1] - MARGIN_TOP - MARGIN_BOTTOM,
                      id="body", leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
        self.addPageTemplates([PageTemplate("page", [frame], onPage=self._on_page)])

    def _on_page(self, canvas, doc) -> None:
        page = canvas.getPageNumber()
        self.layout.pages_this_pass = max(self.layout.pages_this_pass, page)
        if not is_dry_run(canvas):
            decorate(canvas, self.layout, page, cover=page == 1)

    def afterFlowable(self, flowable):  # noqa: N802 - reportlab's name
        if isinstance(flowable, Heading) and flowable.in_toc:
            self.notify("TOCEntry", (flowable.level, flowable.toc_markup, self.page,
                                     flowable.key))


# ------------------------------------------------------------------------------------ writer


class Writer:
    """What a section writes the main part with: the text and its styles, the layout, and the
    house's paragraphs, headings and tables."""

    def __init__(self, text: Text, layout: Layout) -> None:
        self.t = text
        self.s: Styles = text.styles
        self.layout = layout
        self._cells: dict[tuple[str, int, bool], Paragraph] = {}

    def p(self, value: object, style=None, **kwargs) -> Paragraph:
        return self.t.para(value, style, **kwargs)

    def heading(self, value: str, style, level: int, key: str, toc: bool = True) -> Heading:
        return Heading(self.t.markup(value), style, level=level, key=key, layout=self.layout,
                       toc=toc)

    def table(self, rows: list[list], widths: list[float], *, header: bool = True,
              extra: list | None = None) -> Table:
        table = Grid(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
        style = [
            ("GRID", (0, 0), (-1, -1), 0.25, GRID),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("FONT", (0, 0), (-1, -1), font_mod.REGULAR, 7),
            ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
            ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
            ("TOPPADDING", (0, 0), (-1, -1), 2),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), HEAD_BG))
        table.setStyle(TableStyle(style + (extra or [])))
        return table

    def head(self, *labels: str) -> list[Paragraph]:
        return [self.shared(label, self.s.cell_head) for label in labels]

    def cell(self, value: object) -> Paragraph:
        return self.shared(value, self.s.cell)

    def shared(self, value: object, style) -> Paragraph:
        """A table cell's paragraph, made once per text and style in the whole build.

        Many cells repeat (every table's headings, a proof's nature, owner, validity): one
        paragraph parsed once, its lines broken once per column width, serves them all. Only
        for table cells, which platypus never splits (a split would leave the others a
        paragraph cut in two)."""
        key = ("" if value is None else str(value), id(style), False)
        found = self._cells.get(key)
        if found is None:
            found = self._cells[key] = self.p(value, style)
        return found

    def shared_rich(self, markup: str, style) -> Paragraph:
        """:meth:`shared` for markup this package built (a pièce's title cell, the same in
        each criterion it illustrates)."""
        key = (markup, id(style), True)
        found = self._cells.get(key)
        if found is None:
            found = self._cells[key] = self.t.rich(markup, style)
        return found


# --------------------------------------------------------------------------- cell wording


def nature(piece: Piece) -> str:
    evidence = piece.evidence
    label = evidence.kind.label
    if piece.version is not None:
        suffix = Path(piece.version.filename).suffix.lstrip(".").upper()
        if suffix:
            label = f"{label} ({suffix})"
    return label


def period(evidence) -> str:
    if evidence.covers_from and evidence.covers_to:
        return f"{day(evidence.covers_from)} – {day(evidence.covers_to)}"
    if evidence.covers_from:
        return _("depuis le %(day)s", day=day(evidence.covers_from))
    if evidence.covers_to:
        return _("jusqu’au %(day)s", day=day(evidence.covers_to))
    return "—"


def owner(evidence) -> str:
    name = evidence.owner.full_name if evidence.owner else "—"
    if evidence.site is not None:
        name += f" ({evidence.site.name})"
    return name


def validity(evidence, as_of: date) -> str:
    if evidence.valid_until is None:
        return _("sans limite")
    text = _("jusqu’au %(day)s", day=day(evidence.valid_until))
    if evidence.valid_until < as_of:
        text += " – " + _("expirée à la date de référence")
    return text


def fit_drawing(drawing: Drawing, text: Text) -> Drawing:
    """A chart for the PDF: its strings in the embedded font, scaled down to the frame."""
    _embed_font(drawing, text)
    if drawing.width > WIDTH:
        factor = WIDTH / drawing.width
        drawing.scale(factor, factor)
        drawing.width *= factor
        drawing.height *= factor
    return drawing


def _embed_font(node, text: Text) -> None:
    # The charts name Helvetica (the browser draws the SVG with its own fonts); in the PDF the
    # same strings use the embedded font, which has the narrow no-break space and œ.
    for child in getattr(node, "contents", []):
        if isinstance(child, String):
            child.fontName = font_mod.CHART_BOLD if "Bold" in (child.fontName or "") \
                else font_mod.CHART
            child.text = font_mod.drawable(str(child.text), text.fonts)
        elif isinstance(child, Group):
            _embed_font(child, text)


def build_main(path: Path, story: list[Flowable], layout: Layout, *, title: str, author: str,
               max_passes: int = 8) -> int:
    """Lay the main part out until its TOC and page count are stable; returns its pages.
    ``story`` starts with the layout's ``PageCount``, then every section's flowables.

    The contents get their entries (page numbers unknown) before the first pass, which is
    therefore laid out exactly as the last and is run dry; the second pass draws. Should the
    first pass still move something (a heading split across pages, say), ``multiBuild`` goes
    on as before until the numbers agree."""
    entries = [(h.level, h.toc_markup, 0, h.key) for h in headings(story) if h.in_toc]
    for flowable in story:
        if isinstance(flowable, TableOfContents):
            flowable.addEntries(entries)
    layout.dry_run = True

    def canvas_maker(*args, **kwargs) -> Canvas:
        canvas = Canvas(*args, **kwargs)
        setattr(canvas, DRY_RUN, layout.dry_run)
        return canvas

    doc = DossierDoc(path, layout, title=title, author=author)
    doc.multiBuild(story, maxPasses=max_passes, canvasmaker=canvas_maker)
    return layout.main_pages


def headings(flowables) -> list[Heading]:
    """The headings in ``flowables``, in order, looking inside the flowables that hold others
    (``KeepTogether`` and the like, which platypus unpacks into the story as it lays out)."""
    found: list[Heading] = []
    for flowable in flowables:
        if isinstance(flowable, Heading):
            found.append(flowable)
        elif isinstance(flowable, list | tuple):
            found += headings(flowable)
        else:
            inner = getattr(flowable, "_content", None)
            if isinstance(inner, list | tuple):
                found += headings(inner)
    return found
