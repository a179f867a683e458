"""The note as a PDF (reportlab, the dossier's embedded font and safe text) and as an editable
DOCX (python-docx), both laid out as the source note: title, network relation, governance, the
key-figures table with its footnotes and bullets, the free parts, the annex of coming meetings,
the co-funding mention. Both read the same dict (``service.content``), frozen once issued.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from typing import Any

import markdown as markdown_lib
import nh3
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt, RGBColor
from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ..pdf import fonts as font_mod
from ..pdf.text import Styles, Text
from .service import FREE_PARTS

BLUE = "#0b3d91"


def title_lines(data: dict[str, Any]) -> tuple[str, str, str]:
    """« Projet École de la 2e Chance du Var », « Point d'avancement », « février 2018 »."""
    return (_("Projet %(school)s", school=data["school"]), _("Point d’avancement"),
            data["month_label"].capitalize())


def network_lines(data: dict[str, Any]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """What happened this month (a paragraph per milestone, its findings as bullets by type)
    and the next dates with their days left."""
    passed = []
    for item in data["network"]["passed"]:
        line = f"{item['title']} ({item['dates']})"
        if item["outcome"]:
            line += f" : {item['outcome']}"
        if item.get("decision"):
            line += " " + _("Décision : %(decision)s.", decision=item["decision"])
        passed.append((line, [f"{group['type']} : " + " ; ".join(group["titles"])
                              for group in item["findings"]]))
    coming = [f"{c['dates']} : {c['title']} ({c['days_label']})" for c in data["network"]["next"]]
    return passed, coming


def annex_grid(body: dict[str, Any]) -> list[list[str]] | None:
    """A body met at several sites as the source lays it out: one column per site, its times
    under its name, its dates below; None for a body of the whole school."""
    sites = body["sites"]
    if len(sites) < 2 or any(not s["site"] for s in sites):
        return None
    head = [s["site"] + (f"\n{s['hours']}" if s["hours"] else "") for s in sites]
    cells = ["\n".join(d["date"] + ("" if s["hours"] or not d["hours"] else f" {d['hours']}")
                       for d in s["dates"]) for s in sites]
    return [head, cells]


def meeting_label(meeting: dict[str, Any]) -> str:
    """The meeting's title, with its body and site when the title does not already say them
    (« Commission de suivi des stagiaires – CAVEM » needs neither)."""
    title = meeting["title"]
    extra = [] if title.lower().startswith(meeting["body"].lower()) else [meeting["body"]]
    site = meeting["site"]
    if site and site.removeprefix("Site ").lower() not in title.lower():
        extra.append(site)
    return f"{title} ({', '.join(extra)})" if extra else title


def governance_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for meeting in data["governance"]["held"]:
        minutes = _("compte rendu versé") if meeting["minutes"] else _("compte rendu à verser")
        lines.append(f"{meeting['date']} : {meeting_label(meeting)} — {minutes}")
    return lines


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    sites = data["sites"]
    head = ["", *sites["columns"]]
    rows = [[r["site"], r["opened"], r["entries"], r["qpv"], r["companies"], r["positive"]]
            for r in sites["rows"]]
    total = sites["total"]
    return [head, *rows, [total["site"], "", total["entries"], total["qpv"], total["companies"],
                          total["positive"]]]


def annex_lines(data: dict[str, Any]) -> list[tuple[int, str]]:
    """(level, text): a body, then a site with its shared times, then each date."""
    lines: list[tuple[int, str]] = []
    for body in data["annex"]["bodies"]:
        lines.append((0, body["body"]))
        if annex_grid(body) is not None:
            continue
        for site in body["sites"]:
            if site["site"]:
                head = site["site"] + (f" — {site['hours']}" if site["hours"] else "")
                lines.append((1, head))
            for day in site["dates"]:
                when = day["long"]
                if not site["hours"] or not site["site"]:
                    when += f" {day['hours']}" if day["hours"] else ""
                lines.append((2, when.strip()))
    return lines


def replaces_line(data: dict[str, Any]) -> str | None:
    replaced = data.get("replaces")
    if not replaced:
        return None
    return _("Cette note remplace la note n° %(id)s émise le %(day)s (empreinte %(hash)s).",
             id=replaced["id"], day=replaced["issued_at"] or "—",
             hash=(replaced["sha256"] or "")[:12])


# ----------------------------------------------------------------------------------------- PDF


def journal_line(journal: tuple[int, str]) -> str:
    """The journal's head when the note was issued, worded as the dossier's cover words it."""
    return _("Journal : entrée n° %(seq)s, empreinte %(hash)s", seq=journal[0], hash=journal[1])


def note_pdf(data: dict[str, Any], sha256: str | None = None,
             journal: tuple[int, str] | None = None) -> bytes:
    """The note as an A4 PDF in the embedded font."""
    font_set = font_mod.register_fonts()
    styles = Styles()
    text = Text(font_set, styles)
    school, heading, month = title_lines(data)

    def bullet(value: str) -> Paragraph:
        return Paragraph(text.markup(value), styles.bullet(0), bulletText="•")

    story: list[Flowable] = [
        text.para(school, styles.subtitle),
        text.para(heading, styles.title),
        text.para(month, styles.subtitle),
    ]
    line = replaces_line(data)
    if line:
        story.append(text.para(line, styles.small))
    story.append(text.para(_("Cette note mensuelle présente les principales avancées de "
                             "l’%(school)s.", school=data["school"])))

    story.append(text.para(_("Relation réseau / labellisation"), styles.h2))
    passed, coming = network_lines(data)
    for line, findings in passed:
        story.append(text.para(line))
        story += [bullet(f) for f in findings]
    if coming:
        story.append(text.para(_("Prochaines échéances :")))
        story += [bullet(c) for c in coming]

    story.append(text.para(_("Gouvernance"), styles.h2))
    held = governance_lines(data)
    if held:
        story.append(text.para(_("Instances réunies ce mois-ci :")))
        story += [bullet(h) for h in held]
    story += text.markdown(data["texts"].get("governance_text"))

    sites = data["sites"]
    story.append(text.para(_("Sites E2C"), styles.h2))
    story.append(text.para(sites["title"], styles.h3))
    if sites.get("no_figures_message"):
        story.append(text.para(sites["no_figures_message"], styles.small))
    rows = table_rows(data)
    head = ParagraphStyle("note_head", parent=styles.cell_head, alignment=TA_CENTER)
    centred = ParagraphStyle("note_cell", parent=styles.cell, alignment=TA_CENTER)
    centred_bold = ParagraphStyle("note_total", parent=styles.cell_bold, alignment=TA_CENTER)
    last = len(rows) - 1
    cells = [[text.para(value, (styles.cell_bold if r in (0, last) else styles.cell) if c == 0
                        else head if r == 0 else centred_bold if r == last else centred)
              for c, value in enumerate(row)] for r, row in enumerate(rows)]
    grid = Table(cells, colWidths=[48 * mm, 20 * mm, 24 * mm, 16 * mm, 36 * mm, 24 * mm],
                 repeatRows=1)
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f8f9fa")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))
    story += [grid, Spacer(0, 2 * mm)]
    story += [text.para(f, styles.small) for f in sites["footnotes"]]
    story += [bullet(b) for b in sites["bullets"]]

    for name, label in FREE_PARTS.items():
        if name == "governance_text":
            continue
        story.append(text.para(_(label), styles.h2))
        story += text.markdown(data["texts"].get(name)) or [text.para("—")]

    annex = annex_lines(data)
    story.append(text.para(data["annex"]["title"], styles.h2))
    if annex:
        story.append(text.para(_("Prochaines dates :")))
        grids = {b["body"]: annex_grid(b) for b in data["annex"]["bodies"]}
        for level, value in annex:
            if level == 0:
                story.append(text.para(value, styles.h3))
                grid_rows = grids.get(value)
                if grid_rows:
                    story.append(_pdf_grid(text, styles, grid_rows))
            elif level == 1:
                story.append(text.para(value, styles.md_heading))
            else:
                story.append(bullet(value))
    else:
        story.append(text.para(_("Aucune manifestation à venir.")))
    if data.get("cofunding"):
        story += [Spacer(0, 6 * mm), text.para(data["cofunding"], styles.centered)]
    if sha256:
        story.append(text.para(_("Émise le %(day)s par %(who)s — SHA-256 %(hash)s",
                                 day=data.get("issued_label") or "—",
                                 who=data.get("issued_by") or "—", hash=sha256), styles.small))
    if journal:
        story.append(text.para(journal_line(journal), styles.small))
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm,
                            topMargin=16 * mm, bottomMargin=16 * mm,
                            title=f"{heading} · {month}", author=data["school"])
    doc.build(story)
    return out.getvalue()


def _pdf_grid(text: Text, styles: Styles, rows: list[list[str]]) -> Table:
    width = 174 * mm / len(rows[0])
    cells = [[text.para(value, styles.cell_bold if r == 0 else styles.cell) for value in row]
             for r, row in enumerate(rows)]
    grid = Table(cells, colWidths=[width] * len(rows[0]))
    grid.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e9ecef")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return grid


# ---------------------------------------------------------------------------------------- DOCX


class _DocxMarkdown(HTMLParser):
    """Sanitised Markdown HTML into Word paragraphs and runs (bold, italic, bullets): text only,
    nothing the user wrote becomes a field, a link target or a style name."""

    def __init__(self, document: Any) -> None:
        super().__init__(convert_charrefs=True)
        self.document = document
        self.paragraph: Any = None
        self.bold = 0
        self.italic = 0
        self.lists: list[str] = []

    def _ensure(self) -> Any:
        if self.paragraph is None:
            style = "List Bullet" if self.lists and self.lists[-1] == "ul" else (
                "List Number" if self.lists else None)
            self.paragraph = self.document.add_paragraph(style=style)
        return self.paragraph

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}:
            self.paragraph = None
            if tag.startswith("h"):
                self.bold += 1
        elif tag in {"ul", "ol"}:
            self.lists.append(tag)
            self.paragraph = None
        elif tag in {"strong", "b"}:
            self.bold += 1
        elif tag in {"em", "i"}:
            self.italic += 1
        elif tag == "br":
            self._ensure().add_run().add_break()

    def handle_endtag(self, tag: str) -> None:
        if tag in {"p", "li", "blockquote", "pre"}:
            self.paragraph = None
        elif tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
            self.bold = max(0, self.bold - 1)
            self.paragraph = None
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
            self.paragraph = None
        elif tag in {"strong", "b"}:
            self.bold = max(0, self.bold - 1)
        elif tag in {"em", "i"}:
            self.italic = max(0, self.italic - 1)

    def handle_data(self, data: str) -> None:
        if not data.strip() and self.paragraph is None:
            return
        run = self._ensure().add_run(data)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None


def _docx_markdown(document: Any, source: str | None) -> bool:
    if not source or not source.strip():
        return False
    html = markdown_lib.markdown(source, extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(html, tags={"p", "br", "strong", "b", "em", "i", "ul", "ol", "li", "h1",
                                  "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "code"},
                      attributes={})
    parser = _DocxMarkdown(document)
    parser.feed(clean)
    parser.close()
    return True


def _heading(document: Any, value: str, level: int = 1) -> None:
    paragraph = document.add_heading(value, level=level)
    for run in paragraph.runs:
        run.font.color.rgb = RGBColor.from_string(BLUE[1:])


def _docx_grid(document: Any, rows: list[list[str]]) -> None:
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
                    run.bold = r == 0 or None


def note_docx(data: dict[str, Any], sha256: str | None = None,
              journal: tuple[int, str] | None = None) -> bytes:
    """The note as an editable Word document, in the source note's order."""
    document = Document()
    document.core_properties.title = _("Point d’avancement")
    document.core_properties.author = data["school"]
    school, heading, month = title_lines(data)
    document.add_paragraph(school)
    document.add_heading(heading, level=0)
    document.add_paragraph(month)
    line = replaces_line(data)
    if line:
        document.add_paragraph(line)
    document.add_paragraph(_("Cette note mensuelle présente les principales avancées de "
                             "l’%(school)s.", school=data["school"]))

    _heading(document, _("Relation réseau / labellisation"))
    passed, coming = network_lines(data)
    for value, findings in passed:
        document.add_paragraph(value)
        for finding in findings:
            document.add_paragraph(finding, style="List Bullet")
    if coming:
        document.add_paragraph(_("Prochaines échéances :"))
        for value in coming:
            document.add_paragraph(value, style="List Bullet")

    _heading(document, _("Gouvernance"))
    held = governance_lines(data)
    if held:
        document.add_paragraph(_("Instances réunies ce mois-ci :"))
        for value in held:
            document.add_paragraph(value, style="List Bullet")
    _docx_markdown(document, data["texts"].get("governance_text"))

    sites = data["sites"]
    _heading(document, _("Sites E2C"))
    document.add_paragraph(sites["title"]).runs[0].bold = True
    if sites.get("no_figures_message"):
        document.add_paragraph(sites["no_figures_message"])
    rows = table_rows(data)
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    table.style = "Table Grid"
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            cell = table.cell(r, c)
            cell.text = value
            for paragraph in cell.paragraphs:
                if c:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                for run in paragraph.runs:
                    run.font.size = Pt(9)
                    run.bold = r in (0, len(rows) - 1) or None
    for value in sites["footnotes"]:
        document.add_paragraph(value).runs[0].font.size = Pt(8)
    for value in sites["bullets"]:
        document.add_paragraph(value, style="List Bullet")

    for name, label in FREE_PARTS.items():
        if name == "governance_text":
            continue
        _heading(document, _(label))
        if not _docx_markdown(document, data["texts"].get(name)):
            document.add_paragraph("—")

    _heading(document, data["annex"]["title"])
    annex = annex_lines(data)
    if annex:
        document.add_paragraph(_("Prochaines dates :"))
    grids = {b["body"]: annex_grid(b) for b in data["annex"]["bodies"]}
    for level, value in annex:
        if level == 0:
            _heading(document, value, level=2)
            grid_rows = grids.get(value)
            if grid_rows:
                _docx_grid(document, grid_rows)
        elif level == 1:
            document.add_paragraph(value).runs[0].bold = True
        else:
            document.add_paragraph(value, style="List Bullet")
    if data.get("cofunding"):
        paragraph = document.add_paragraph(data["cofunding"])
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if sha256:
        document.add_paragraph(_("Émise le %(day)s par %(who)s — SHA-256 %(hash)s",
                                 day=data.get("issued_label") or "—",
                                 who=data.get("issued_by") or "—", hash=sha256))
    if journal:
        document.add_paragraph(journal_line(journal))
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
