"""Text for the PDF: French typography, styles, and Markdown turned into reportlab flowables safely.

reportlab's ``Paragraph`` reads its own XML-like markup, so a user's ``<para>``, ``&`` or unclosed
tag would either break the build or inject formatting. Nothing the user wrote reaches that markup
as markup: Markdown is rendered to HTML by ``markdown``, sanitised by ``nh3`` to a small set of
tags, parsed, and each allowed tag is mapped to the markup we write ourselves while every text
node is escaped. Anything else becomes plain, escaped text.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from xml.sax.saxutils import escape, quoteattr

import markdown as markdown_lib
import nh3
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, HRFlowable, Paragraph, Spacer, Table, TableStyle

from . import fonts as font_mod

NNBSP = "\u202f"

_SPACE_BEFORE = re.compile(r"[ \u00a0\u202f]+(?=[;:!?%»])")
_AFTER_OPENING = re.compile(r"«[ \u00a0\u202f]*")
_BEFORE_CLOSING = re.compile(r"(?<=\S)(?<!\u202f)»")
# Only after a letter and before a space or the end: leaves "14:00", "https://" and "?q=" alone.
_BARE_PUNCT = re.compile(r"(?<=[^\W\d_])([;!?:])(?=\s|$)")
_PERCENT = re.compile(r"(?<=\d)%")
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])'(?=[^\W\d_])")


def french(text: str) -> str:
    """French typography: a narrow no-break space before « ; : ! ? % » and inside guillemets, and
    the typographic apostrophe. Only spaces already there are changed, plus the obvious cases."""
    text = _APOSTROPHE.sub("’", text)
    text = _SPACE_BEFORE.sub(NNBSP, text)
    text = _AFTER_OPENING.sub("«" + NNBSP, text)
    text = _BEFORE_CLOSING.sub(NNBSP + "»", text)
    text = _BARE_PUNCT.sub(NNBSP + r"\1", text)
    return _PERCENT.sub(NNBSP + "%", text)


def keep_narrow_no_break_spaces() -> None:
    """Make reportlab's paragraphs treat U+202F as the no-break space it is.

    reportlab splits a paragraph into words on every Unicode space, U+202F included (only U+00A0
    is spared), and rejoins them with plain spaces: « 16 % » would lose its narrow no-break
    space and could break before « % ». Its ``paragraph.split`` is wrapped so that U+202F stays
    inside the word, drawn with the font's own glyph. Applied once per process; idempotent.
    """
    from reportlab.platypus import paragraph

    if getattr(paragraph.split, "keeps_nnbsp", False):
        return
    original = paragraph.split
    spaces = re.escape(paragraph._wsc.replace(NNBSP, ""))  # noqa: SLF001 - its space list
    breaking = re.compile(f"[{spaces}]+")

    def split(text, delim=None):
        if isinstance(text, bytes):
            text = text.decode("utf8")
        if delim is None and NNBSP in text:
            return [word for word in breaking.split(text)]
        return original(text, delim)

    split.keeps_nnbsp = True
    paragraph.split = split


class Para(Paragraph):
    """A ``Paragraph`` that breaks its lines once per width.

    platypus wraps a table cell's paragraph several times at the same width (to size its row,
    again in each part of a split table, again to draw it) and once more in every layout pass:
    most of a big dossier's time was ``breakLines`` redoing the same work. The lines depend
    only on the width, the style and the text, so they are kept for each width they were
    broken at (a cell shared by columns of different widths keeps both); a split (which may
    mark the fragments it cuts) forgets them."""

    _kept: dict[float, tuple[float, float, object]] | None = None  # width -> (w, h, lines)

    def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
        kept = self._kept
        if kept is not None:
            found = kept.get(availWidth)
            if found is not None:
                self.width, self.height, self.blPara = found
                return self.width, self.height
        width, height = super().wrap(availWidth, availHeight)
        if kept is None:
            kept = self._kept = {}
        kept[availWidth] = (width, height, getattr(self, "blPara", None))
        return width, height

    def split(self, availWidth, availHeight):  # noqa: N803
        self._kept = None
        return super().split(availWidth, availHeight)

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 - reportlab's name
        if not is_dry_run(canvas):
            super().drawOn(canvas, x, y, _sW)


class Grid(Table):
    """A ``Table`` that measures each row once and draws nothing on a dry-run canvas (see
    :func:`is_dry_run`).

    platypus measures a long table's rows (wrapping every cell) only as far as the page
    needs, and again for each attempt: the frame's wrap, then its split, then the remainder's
    wrap and split on the next page, and all over again in the next layout pass; a 2,000-row
    manifest had its rows measured about five times. A row's height depends only on its
    cells and the column widths, so the first measure takes them all, keeps them as the
    table's row heights, and the parts of a split inherit them. Tables with spanned cells
    are left to platypus."""

    def _calc_height(self, availHeight, availWidth, H=None, W=None):  # noqa: N803
        if None in self._argH and not self._spanCmds:
            super()._calc_height(float("inf"), availWidth, H=H, W=W)
            self._argH = self._rowHeights  # every row measured: never again
            return
        super()._calc_height(availHeight, availWidth, H=H, W=W)

    def drawOn(self, canvas, x, y, _sW=0):  # noqa: N802 - reportlab's name
        if not is_dry_run(canvas):
            super().drawOn(canvas, x, y, _sW)


DRY_RUN = "audit_tracker_dry_run"


def is_dry_run(canvas) -> bool:
    """Whether ``canvas`` belongs to a layout pass whose pages are thrown away: one laid out
    only to learn where things land. Paragraphs and tables skip their drawing there; their
    size and breaks, which are all a layout pass decides, do not depend on it."""
    return bool(getattr(canvas, DRY_RUN, False))


class Styles:
    """The dossier's paragraph styles, all in the embedded font."""

    def __init__(self) -> None:
        keep_narrow_no_break_spaces()
        base = font_mod.REGULAR
        bold = font_mod.BOLD
        self.body = ParagraphStyle("body", fontName=base, fontSize=9.5, leading=12.5,
                                   spaceAfter=4)
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=10,
                                    spaceAfter=2)
        self.cell = ParagraphStyle("cell", parent=self.body, fontSize=7, leading=8.6,
                                   spaceAfter=0)
        self.cell_bold = ParagraphStyle("cell_bold", parent=self.cell, fontName=bold)
        self.cell_head = ParagraphStyle("cell_head", parent=self.cell_bold, fontSize=6.5,
                                        leading=8)
        self.cell_mono = ParagraphStyle("cell_mono", parent=self.cell, fontName=font_mod.MONO,
                                        fontSize=6.5)
        self.cell_hash = ParagraphStyle("cell_hash", parent=self.cell_mono, fontSize=5.8,
                                        leading=7.5)
        self.title = ParagraphStyle("title", parent=self.body, fontName=bold, fontSize=24,
                                    leading=30, spaceAfter=12)
        self.subtitle = ParagraphStyle("subtitle", parent=self.body, fontSize=13, leading=17,
                                       spaceAfter=8)
        self.h1 = ParagraphStyle("h1", parent=self.body, fontName=bold, fontSize=16,
                                 leading=20, spaceBefore=6, spaceAfter=10,
                                 textColor=colors.HexColor("#0b3d91"))
        self.h2 = ParagraphStyle("h2", parent=self.body, fontName=bold, fontSize=12.5,
                                 leading=16, spaceBefore=10, spaceAfter=6,
                                 textColor=colors.HexColor("#0b3d91"))
        self.h3 = ParagraphStyle("h3", parent=self.body, fontName=bold, fontSize=10.5,
                                 leading=13.5, spaceBefore=6, spaceAfter=4)
        self.md_heading = ParagraphStyle("md_heading", parent=self.body, fontName=bold,
                                         fontSize=10, leading=13, spaceBefore=4, spaceAfter=3)
        self.quote = ParagraphStyle("quote", parent=self.body, leftIndent=12,
                                    textColor=colors.HexColor("#495057"))
        self.code = ParagraphStyle("code", parent=self.body, fontName=font_mod.MONO,
                                   fontSize=8, leading=10, leftIndent=8,
                                   backColor=colors.HexColor("#f1f3f5"))
        self.toc_levels = [
            ParagraphStyle("toc0", parent=self.body, fontName=bold, fontSize=10, leading=13,
                           leftIndent=0, firstLineIndent=0, spaceBefore=4),
            ParagraphStyle("toc1", parent=self.body, fontSize=9, leading=11.5, leftIndent=12,
                           firstLineIndent=0),
            ParagraphStyle("toc2", parent=self.body, fontSize=8, leading=10, leftIndent=24,
                           firstLineIndent=0, spaceAfter=0),
        ]
        self.centered = ParagraphStyle("centered", parent=self.body, alignment=TA_CENTER)

    def bullet(self, level: int) -> ParagraphStyle:
        return ParagraphStyle(f"bullet{level}", parent=self.body, leftIndent=12 * (level + 1),
                              bulletIndent=12 * level + 2, spaceAfter=2)


class Text:
    """Turns untrusted strings into safe reportlab markup with the font's glyphs."""

    def __init__(self, font_set: font_mod.FontSet, styles: Styles) -> None:
        self.fonts = font_set
        self.styles = styles

    def markup(self, text: object, *, typography: bool = True) -> str:
        """Escaped markup for a plain string: nothing in it is read as a tag."""
        value = "" if text is None else str(text)
        value = font_mod.drawable(value, self.fonts)
        if typography:
            value = french(value)
        return escape(value).replace("\n", "<br/>")

    def para(self, text: object, style: ParagraphStyle | None = None, **kwargs) -> Paragraph:
        return Para(self.markup(text, **kwargs), style or self.styles.body)

    def rich(self, markup: str, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph from markup that this package built (its parts already escaped)."""
        return Para(markup, style or self.styles.body)

    def markdown(self, source: str | None) -> list[Flowable]:
        """The school's Markdown as flowables: formatted, never executed, never injected."""
        if not source or not source.strip():
            return []
        html = markdown_lib.markdown(source, extensions=["tables", "sane_lists"],
                                     output_format="html")
        clean = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href"}},
                          url_schemes={"http", "https", "mailto"}, link_rel=None)
        builder = _FlowableBuilder(self)
        builder.feed(clean)
        builder.close()
        return builder.finish()


_ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "b", "em", "i", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "a", "del",
}
_INLINE = {"strong": "b", "b": "b", "em": "i", "i": "i", "del": "strike"}
_HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
_BLOCKS = {"p", "blockquote", "pre", "ul", "ol", "li", "table", "hr"} | _HEADINGS


class _FlowableBuilder(HTMLParser):
    """Walks sanitised HTML and emits flowables; every text node goes through ``Text.markup``."""

    def __init__(self, text: Text) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.styles = text.styles
        self.flowables: list[Flowable] = []
        self.inline: list[str] = []  # markup of the paragraph being built
        self.open_inline: list[str] = []  # reportlab tags opened in it, to close on flush
        self.lists: list[list] = []  # [kind, counter] per nesting level
        self.pending_bullet: str | None = None
        self.heading = False
        self.quote_depth = 0
        self.pre_depth = 0
        self.code_depth = 0
        self.table: list[list[str]] | None = None
        self.cell: list[str] | None = None

    # -- paragraphs

    def _style(self) -> ParagraphStyle:
        if self.heading:
            return self.styles.md_heading
        if self.pre_depth:
            return self.styles.code
        if self.lists:
            return self.styles.bullet(len(self.lists) - 1)
        if self.quote_depth:
            return self.styles.quote
        return self.styles.body

    def _flush(self) -> None:
        for tag in reversed(self.open_inline):
            self.inline.append(f"</{tag}>")
        self.open_inline = []
        markup = "".join(self.inline).strip()
        self.inline = []
        if self.cell is not None:
            return
        if not markup or markup in {"<br/>"}:
            return
        bullet = self.pending_bullet if self.lists else None
        self.pending_bullet = None
        self.flowables.append(_safe_paragraph(markup, self._style(), bullet))

    # -- parser callbacks

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"td", "th"} and self.table is not None:
            self.cell = []
            self.inline = []
            self.open_inline = []
            if tag == "th":
                self._open("b")
            return
        if tag == "tr" and self.table is not None:
            self.table.append([])
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in _HEADINGS:
            self.heading = True
        elif tag == "blockquote":
            self.quote_depth += 1
        elif tag == "pre":
            self.pre_depth += 1
        elif tag in {"ul", "ol"}:
            self.lists.append([tag, 0])
        elif tag == "li":
            if self.lists:
                self.lists[-1][1] += 1
                kind, count = self.lists[-1]
                self.pending_bullet = f"{count}." if kind == "ol" else "•"
        elif tag == "hr":
            self.flowables.append(HRFlowable(width="100%", thickness=0.5,
                                             color=colors.HexColor("#adb5bd")))
        elif tag == "table":
            self.table = []
        elif tag == "br":
            self.inline.append("<br/>")
        elif tag in _INLINE:
            self._open(_INLINE[tag])
        elif tag == "code" and not self.pre_depth:
            self.code_depth += 1
            self._open("font", f' name="{font_mod.MONO}"')
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            if href.startswith(("http://", "https://", "mailto:")):
                self._open("a", f" href={quoteattr(href)} color=\"#0b5ed7\"")
            else:
                self._open("a_plain")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"td", "th"} and self.table is not None and self.cell is not None:
            for name in reversed(self.open_inline):
                self.inline.append(f"</{name}>")
            if self.table:
                self.table[-1].append("".join(self.inline).strip())
            self.cell = None
            self.inline = []
            self.open_inline = []
            return
        if tag == "table" and self.table is not None:
            rows, self.table = self.table, None
            self._emit_table(rows)
            return
        if tag in _BLOCKS:
            self._flush()
        if tag in _HEADINGS:
            self.heading = False
        elif tag == "blockquote":
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag == "pre":
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
        elif tag in _INLINE:
            self._close(_INLINE[tag])
        elif tag == "code" and self.code_depth:
            self.code_depth -= 1
            self._close("font")
        elif tag == "a":
            self._close("a") or self._close("a_plain")

    def handle_data(self, data: str) -> None:
        if self.pre_depth:
            lines = self.text.markup(data, typography=False).split("<br/>")
            # Keep the code's indentation: leading spaces become no-break spaces.
            lines = [re.sub(r"^ +", lambda m: "\u00a0" * len(m.group()), line) for line in lines]
            self.inline.append("<br/>".join(lines))
            return
        if self.table is not None and self.cell is None:
            return  # whitespace between rows and cells
        data = re.sub(r"\s+", " ", data)
        self.inline.append(self.text.markup(data, typography=not self.code_depth))

    # -- helpers

    def _open(self, tag: str, attributes: str = "") -> None:
        if tag != "a_plain":
            self.inline.append(f"<{tag}{attributes}>")
        self.open_inline.append(tag)

    def _close(self, tag: str) -> bool:
        if tag not in self.open_inline:
            return False
        # Close what was opened after it too, in order, so the markup stays well nested.
        while self.open_inline:
            last = self.open_inline.pop()
            if last != "a_plain":
                self.inline.append(f"</{last}>")
            if last == tag:
                break
        return True

    def _emit_table(self, rows: list[list[str]]) -> None:
        rows = [row for row in rows if row]
        if not rows:
            return
        width = max(len(row) for row in rows)
        cells = [[_safe_paragraph(cell, self.styles.cell) for cell in row]
                 + [""] * (width - len(row)) for row in rows]
        column = 170 * mm / width
        table = Grid(cells, colWidths=[column] * width, repeatRows=1, hAlign="LEFT")
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#adb5bd")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        self.flowables.append(table)
        self.flowables.append(Spacer(0, 4))

    def finish(self) -> list[Flowable]:
        self._flush()
        return self.flowables


_TAGS = re.compile(r"<[^>]*>")


def _safe_paragraph(markup: str, style: ParagraphStyle, bullet: str | None = None) -> Paragraph:
    """A paragraph from our own markup; should reportlab still refuse it, its text alone."""
    try:
        return Para(markup, style, bulletText=bullet)
    except ValueError:
        plain = _TAGS.sub(" ", markup)  # the text nodes in it are already escaped
        return Para(plain, style, bulletText=bullet)
