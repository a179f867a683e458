"""The generated part of the dossier, laid out with reportlab's platypus.

Cover, table of contents, readiness summary, one chapter per framework with each criterion's
argument, state and pièces table, then the findings and actions, key indicators, governance
calendar and manifest. Built with ``multiBuild``: the table of contents and the part's own page
count (which the annex page numbers and the « page N / M » footers depend on) are settled by
passes until they no longer change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.tableofcontents import TableOfContents

from ..pdf import fonts as font_mod
from ..pdf.text import Styles, Text
from .assemble import LINK_SCHEME
from .collect import Integrity, Piece

PAGE = A4
MARGIN_X = 20 * mm
MARGIN_TOP = 22 * mm
MARGIN_BOTTOM = 20 * mm
WIDTH = PAGE[0] - 2 * MARGIN_X

STATE_COLOURS = {
    "non_applicable": "#6c757d",
    "preuve_manquante": "#b02a37",
    "a_valider": "#087990",
    "a_risque": "#ca6510",
    "demontrable": "#146c43",
}
GRID = colors.HexColor("#adb5bd")
HEAD_BG = colors.HexColor("#e9ecef")


def day(value: date | None) -> str:
    return format_date(value, "dd/MM/yyyy") if value else "—"


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


class Heading(Paragraph):
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

    def afterBuild(self):  # noqa: N802
        self.produced = self.layout.pages_this_pass
        self.layout.main_pages = self.produced

    def isSatisfied(self):  # noqa: N802
        return self.used == self.produced

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
        decorate(canvas, self.layout, page, cover=page == 1)

    def afterFlowable(self, flowable):  # noqa: N802 - reportlab's name
        if isinstance(flowable, Heading) and flowable.in_toc:
            self.notify("TOCEntry", (flowable.level, flowable.toc_markup, self.page,
                                     flowable.key))


# ----------------------------------------------------------------------------------- content


@dataclass
class Content:
    """Everything the main part shows, gathered by the builder."""

    campaign: Any
    school: Any
    frameworks: list  # Framework, in order
    sites: list  # Site shown on the cover (the chosen ones, or all)
    site_filter: bool
    as_of: date
    built_on: date
    readiness: Any  # Readiness, limited to the chosen criteria
    chapters: list  # (framework, [(section, [(criterion, criterion_readiness, argument,
    #                  not_applicable_reason)])])
    pieces: list[Piece]
    per_criterion: dict[int, list[Piece]]
    findings: list
    other_actions: list
    milestones: list
    meetings: list
    signoff: Any | None
    indicators: Any | None  # IndicatorTable or None
    with_annexes: bool
    include_personal_data: bool
    excluded_personal: int
    section_filter: bool
    bars: Drawing | None
    indicator_charts: list[Drawing]


class MainPart:
    """Builds the story of the main part."""

    def __init__(self, content: Content, text: Text, layout: Layout) -> None:
        self.c = content
        self.t = text
        self.s: Styles = text.styles
        self.layout = layout

    # -- helpers

    def p(self, value: object, style=None, **kwargs) -> Paragraph:
        return self.t.para(value, style, **kwargs)

    def heading(self, value: str, style, level: int, key: str, toc: bool = True) -> Heading:
        return Heading(self.t.markup(value), style, level=level, key=key, layout=self.layout,
                       toc=toc)

    def table(self, rows: list[list], widths: list[float], *, header: bool = True,
              extra: list | None = None) -> Table:
        table = Table(rows, colWidths=widths, repeatRows=1 if header else 0, hAlign="LEFT")
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
        return [self.p(label, self.s.cell_head) for label in labels]

    def cell(self, value: object) -> Paragraph:
        return self.p(value, self.s.cell)

    # -- the story

    def story(self) -> list[Flowable]:
        story: list[Flowable] = [PageCount(self.layout)]
        story += self.cover()
        story += self.contents()
        story += self.summary()
        for framework, sections in self.c.chapters:
            story += self.chapter(framework, sections)
        story += self.findings()
        story += self.indicators()
        story += self.calendar()
        story += self.manifest()
        return story

    def cover(self) -> list[Flowable]:
        c = self.c
        out: list[Flowable] = [Spacer(0, 25 * mm)]
        out.append(self.p(_("Dossier de preuves"), self.s.subtitle))
        out.append(self.p(c.school.name, self.s.title))
        out.append(self.p(c.campaign.name, self.s.subtitle))
        out.append(Spacer(0, 8 * mm))
        rows = []
        sites = ", ".join(site.name for site in c.sites) or "—"
        rows.append((_("Sites couverts") if c.site_filter else _("Sites"), sites))
        for framework in c.frameworks:
            label = f"{framework.name} · v{framework.version}"
            if framework.provisional and "provisoire" not in label.lower():
                label += " " + _("(structure provisoire)")
            rows.append((_("Référentiel"), label))
        rows.append((_("Date de référence"), format_date(c.as_of, "d MMMM yyyy")))
        rows.append((_("Dossier établi le"), format_date(c.built_on, "d MMMM yyyy")))
        rows.append((_("Pièces"), str(len(c.pieces))))
        rows.append((_("Pièces retenues"), _(
            "les preuves validées et celles à valider (leur statut est indiqué) ; les brouillons "
            "et les preuves refusées ne figurent pas dans ce dossier.")))
        if c.section_filter:
            rows.append((_("Périmètre"), _("une partie des sections du référentiel seulement")))
        rows.append((_("Annexes"), _("jointes") if c.with_annexes else _(
            "non jointes : les pièces sont listées avec leur empreinte")))
        if c.include_personal_data:
            rows.append((_("Données personnelles"), _(
                "les pièces contenant des données personnelles d’apprenants sont incluses, à la "
                "demande de l’auteur du dossier (listées au manifeste)")))
        elif c.excluded_personal:
            rows.append((_("Données personnelles"), _(
                "%(count)s pièce(s) contenant des données personnelles d’apprenants exclue(s), "
                "consultable(s) sur place", count=c.excluded_personal)))
        table = Table([[self.p(k, self.s.cell_bold), self.p(v, self.s.small)] for k, v in rows],
                      colWidths=[40 * mm, WIDTH - 40 * mm], hAlign="LEFT")
        table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                                   ("LINEBELOW", (0, 0), (-1, -1), 0.25, GRID)]))
        out.append(table)
        out.append(Spacer(0, 8 * mm))
        signoff = c.signoff
        if signoff is not None:
            text = _("État de préparation signé par %(name)s le %(day)s pour la date de référence "
                     "du %(as_of)s.", name=signoff.signed_by.full_name,
                     day=format_date(signoff.signed_at.date(), "dd/MM/yyyy"),
                     as_of=day(signoff.as_of))
            out.append(self.p(_("Validation de la direction"), self.s.h3))
            out.append(self.p(text))
            if signoff.comment:
                out.append(self.p("« " + signoff.comment + " »", self.s.quote))
            if signoff.snapshot is not None:
                out.append(self.p(_("Empreinte SHA-256 de l’état signé : %(hash)s",
                                    hash=signoff.snapshot.sha256), self.s.small,
                                  typography=False))
            if signoff.as_of != c.as_of:
                out.append(self.p(_("Attention : cette signature porte sur une autre date de "
                                    "référence que ce dossier."), self.s.small))
        else:
            out.append(self.p(_("L’état de préparation n’a pas encore été signé par la "
                                "direction."), self.s.small))
        out.append(Spacer(0, 6 * mm))
        out.append(self.p(_("Ce dossier montre ce que l’école peut démontrer à la date de "
                            "référence ; il ne dit pas si elle est conforme : l’auditeur en "
                            "décide."), self.s.small))
        out.append(PageBreak())
        return out

    def contents(self) -> list[Flowable]:
        toc = TableOfContents(dotsMinLevel=0)
        toc.levelStyles = self.s.toc_levels
        return [self.heading(_("Sommaire"), self.s.h1, 0, "sommaire", toc=False), toc,
                PageBreak()]

    def summary(self) -> list[Flowable]:
        readiness = self.c.readiness
        out: list[Flowable] = [self.heading(_("Synthèse de l’état de préparation"), self.s.h1, 0,
                                            "synthese")]
        out.append(self.p(_("État de chaque critère au %(day)s, date de référence du dossier.",
                            day=day(self.c.as_of))))
        counts = readiness.counts()
        from ..readiness.rules import STATE_ORDER

        rows = [self.head(_("État"), _("Critères"))]
        style = []
        for index, state in enumerate(STATE_ORDER, start=1):
            rows.append([self.cell(state.label), str(counts.get(state, 0))])
            style.append(("TEXTCOLOR", (0, index), (0, index),
                          colors.HexColor(STATE_COLOURS[state.value])))
        rows.append([self.p(_("Total"), self.s.cell_bold), str(len(readiness.criteria))])
        out.append(self.table(rows, [60 * mm, 25 * mm], extra=style))
        out.append(Spacer(0, 4))
        share = readiness.share_demonstrable
        if share is None:
            out.append(self.p(_("Aucun critère applicable dans ce périmètre.")))
        else:
            out.append(self.p(_("Part des critères applicables démontrables : %(share)s.",
                                share=format_percent(share, "#,##0 %"))))
        if self.c.bars is not None:
            out.append(Spacer(0, 4))
            out.append(fit_drawing(self.c.bars, self.t))
        out.append(PageBreak())
        return out

    def chapter(self, framework, sections) -> list[Flowable]:
        out: list[Flowable] = []
        title = f"{framework.name} · v{framework.version}"
        out.append(self.heading(title, self.s.h1, 0, f"fw-{framework.id}"))
        if framework.provisional:
            out.append(self.p(_("Structure provisoire : la grille officielle n’est pas publique."),
                              self.s.small))
        for section, criteria in sections:
            out.append(CondPageBreak(40 * mm))
            out.append(self.heading(f"{section.code} – {section.title}", self.s.h2, 1,
                                    f"sec-{section.id}"))
            for criterion, judged, argument, na_reason in criteria:
                out += self.criterion(framework, criterion, judged, argument, na_reason)
        out.append(PageBreak())
        return out

    def criterion(self, framework, criterion, judged, argument: str,
                  na_reason: str) -> list[Flowable]:
        label = f"{framework.criterion_label} {criterion.code} – {criterion.title}"
        head = [self.heading(label, self.s.h3, 2, f"crit-{criterion.id}")]
        if criterion.indispensable:
            head.append(self.p(_("Critère indispensable"), self.s.small))
        if judged is not None:
            colour = STATE_COLOURS.get(judged.state.value, "#212529")
            head.append(self.t.rich(
                self.t.markup(_("État au %(day)s :", day=day(self.c.as_of)))
                + f' <font color="{colour}"><b>{self.t.markup(judged.state.label)}</b></font>',
                self.s.body))
        out: list[Flowable] = [KeepTogether(head)]
        if judged is not None:
            for reason in judged.reasons:
                out.append(Paragraph(self.t.markup(str(reason)), self.s.bullet(0),
                                     bulletText="•"))
        out.append(self.p(_("Argumentaire de l’école"), self.s.md_heading))
        flowables = self.t.markdown(argument)
        if flowables:
            out += flowables
        else:
            out.append(self.p(_("Aucun argumentaire rédigé pour ce critère."), self.s.small))
        if na_reason and (judged is None or judged.state.value != "non_applicable"):
            out.append(self.p(_("Motif de non-application : %(reason)s", reason=na_reason),
                              self.s.small))
        pieces = self.c.per_criterion.get(criterion.id, [])
        if pieces:
            out.append(Spacer(0, 3))
            out.append(self.pieces_table(criterion, pieces))
        else:
            out.append(self.p(_("Aucune pièce retenue pour ce critère dans ce dossier."),
                              self.s.small))
        out.append(Spacer(0, 6))
        return out

    def pieces_table(self, criterion, pieces: list[Piece]) -> Table:
        rows = [self.head(_("N°"), _("Titre"), _("Nature"), _("Période couverte"),
                          _("Propriétaire"), _("Validité"), _("Version"), _("SHA-256"),
                          _("Page d’annexe"))]
        for piece in pieces:
            evidence = piece.evidence
            title = self.t.markup(evidence.title)
            details = [evidence.status.label]
            if evidence.personal_data:
                details.append(_("données personnelles"))
            note = piece.notes.get(criterion.id)
            title += f'<br/><font size="6" color="#495057">{self.t.markup(" · ".join(details))}'
            if note:
                title += f"<br/><i>{self.t.markup(note)}</i>"
            title += "</font>"
            page: Flowable | str = AnnexRef(piece, self.layout) if self.c.with_annexes else "—"
            rows.append([
                self.p(str(piece.number), self.s.cell_bold),
                self.t.rich(title, self.s.cell),
                self.cell(nature(piece)),
                self.cell(period(evidence)),
                self.cell(owner(evidence)),
                self.cell(validity(evidence, self.c.as_of)),
                f"v{piece.version.number}" if piece.version else "—",
                piece.short_hash or "—",
                page,
            ])
        widths = [8, 41, 16, 19, 21, 19, 11, 21, 14]
        return self.table(rows, [w * mm for w in widths],
                          extra=[("FONT", (7, 1), (7, -1), font_mod.MONO, 6.5)])

    def findings(self) -> list[Flowable]:
        out: list[Flowable] = [self.heading(_("Constats et plan d’actions"), self.s.h1, 0,
                                            "constats")]
        if not self.c.findings and not self.c.other_actions:
            out.append(self.p(_("Aucun constat ni action enregistré pour cette campagne.")))
            out.append(PageBreak())
            return out
        out.append(self.p(_("Tous les constats des visites et audits de la campagne, points "
                            "forts compris, avec les actions qui y répondent et leur statut.")))
        current = None
        rows: list[list] = []
        for finding in self.c.findings:
            if finding.milestone_id != current:
                if rows:
                    out.append(self.findings_table(rows))
                current = finding.milestone_id
                milestone = finding.milestone
                dates = day(milestone.starts_on)
                if milestone.ends_on and milestone.ends_on != milestone.starts_on:
                    dates += " – " + day(milestone.ends_on)
                out.append(self.heading(f"{milestone.title} ({dates})", self.s.h3, 1,
                                        f"event-{milestone.id}"))
                rows = [self.head(_("N°"), _("Type"), _("Constat et actions"), _("Critères"),
                                  _("Statut"), _("Échéance"))]
            body = self.t.markup(finding.title)
            if finding.description:
                body += ('<br/><font size="6.5" color="#495057">'
                         + self.t.markup(finding.description) + "</font>")
            for action in finding.actions:
                body += "<br/>• " + self.t.markup(action_line(action))
            rows.append([
                str(finding.number), self.cell(finding.finding_type.label),
                self.t.rich(body, self.s.cell),
                self.cell(", ".join(c.code for c in finding.criteria) or "—"),
                self.cell(finding.status.label), day(finding.due_on),
            ])
        if rows:
            out.append(self.findings_table(rows))
        if self.c.other_actions:
            out.append(self.heading(_("Actions sans constat"), self.s.h3, 1, "actions-seules"))
            rows = [self.head(_("Action"), _("Critères"), _("Responsable"), _("Échéance"),
                              _("Statut"))]
            for action in self.c.other_actions:
                rows.append([self.cell(action.title),
                             self.cell(", ".join(c.code for c in action.criteria) or "—"),
                             self.cell(action.owner.full_name), day(action.due_on),
                             self.cell(action.status.label)])
            out.append(self.table(rows, [70 * mm, 25 * mm, 30 * mm, 20 * mm, 25 * mm]))
        out.append(PageBreak())
        return out

    def findings_table(self, rows: list[list]) -> Table:
        return self.table(rows, [w * mm for w in (8, 24, 78, 22, 20, 18)])

    def indicators(self) -> list[Flowable]:
        table = self.c.indicators
        if table is None:
            return []
        out: list[Flowable] = [self.heading(_("Indicateurs clés"), self.s.h1, 0, "indicateurs")]
        period = _("toutes les périodes saisies")
        if table.periods:
            period = _("de %(start)s à %(end)s", start=format_date(table.periods[0], "MMMM yyyy"),
                       end=format_date(table.periods[-1], "MMMM yyyy"))
        out.append(self.p(_("Indicateurs par site et total pondéré (somme des effectifs, jamais "
                            "moyenne des pourcentages), %(period)s, comparés aux cibles.",
                            period=period)))
        indicators = table.indicators
        rows = [self.head(_("Site"), _("Entrées"), *[str(i.short_label) for i in indicators])]
        for row in [*table.rows, table.total]:
            cells = [self.p(row.label, self.s.cell_bold if row.is_total else self.s.cell),
                     str(row.counts.entries)]
            for indicator in indicators:
                cells.append(self.cell(measure_text(row[indicator.code])))
            rows.append(cells)
        widths = [40 * mm, 16 * mm] + [(WIDTH - 56 * mm) / max(1, len(indicators))] * len(
            indicators)
        out.append(self.table(rows, widths))
        for drawing in self.c.indicator_charts:
            out.append(Spacer(0, 6))
            out.append(fit_drawing(drawing, self.t))
        out.append(PageBreak())
        return out

    def calendar(self) -> list[Flowable]:
        out: list[Flowable] = [self.heading(_("Calendrier de gouvernance"), self.s.h1, 0,
                                            "calendrier")]
        out.append(self.heading(_("Échéances de la campagne"), self.s.h3, 1, "echeances"))
        if self.c.milestones:
            rows = [self.head(_("Dates"), _("Nature"), _("Intitulé"), _("Lieu"))]
            for milestone in self.c.milestones:
                dates = day(milestone.starts_on)
                if milestone.ends_on and milestone.ends_on != milestone.starts_on:
                    dates += " – " + day(milestone.ends_on)
                rows.append([dates, self.cell(milestone.kind.label), self.cell(milestone.title),
                             self.cell(milestone.place or "—")])
            out.append(self.table(rows, [w * mm for w in (34, 32, 70, 34)]))
        else:
            out.append(self.p(_("Aucune échéance enregistrée.")))
        out.append(self.heading(_("Instances de gouvernance"), self.s.h3, 1, "instances"))
        if self.c.meetings:
            numbers = {piece.evidence.id: piece.number for piece in self.c.pieces}
            rows = [self.head(_("Date"), _("Horaire"), _("Instance"), _("Intitulé"), _("Site"),
                              _("Compte rendu"))]
            for meeting in self.c.meetings:
                hours = "—"
                if meeting.starts_at:
                    hours = meeting.starts_at.strftime("%H:%M")
                    if meeting.ends_at:
                        hours += "–" + meeting.ends_at.strftime("%H:%M")
                minutes = _("non joint")
                if meeting.minutes_evidence_id in numbers:
                    minutes = _("pièce %(number)s", number=numbers[meeting.minutes_evidence_id])
                elif meeting.minutes_evidence_id:
                    minutes = _("hors dossier")
                rows.append([day(meeting.held_on), hours, self.cell(meeting.kind.label),
                             self.cell(meeting.title),
                             self.cell(meeting.site.name if meeting.site else _("École")),
                             self.cell(minutes)])
            out.append(self.table(rows, [w * mm for w in (18, 20, 34, 56, 22, 20)]))
        else:
            out.append(self.p(_("Aucune instance enregistrée.")))
        out.append(PageBreak())
        return out

    def manifest(self) -> list[Flowable]:
        out: list[Flowable] = [self.heading(_("Manifeste des pièces"), self.s.h1, 0,
                                            "manifeste")]
        out.append(self.p(_("Chaque pièce avec l’empreinte SHA-256 complète de sa version "
                            "déposée. Chaque fichier a été relu depuis le stockage et son "
                            "empreinte recalculée au moment de l’établissement du dossier.")))
        rows = [self.head(_("N°"), _("Titre et fichier"), _("Taille (octets)"), _("SHA-256"),
                          _("Contrôle"))]
        altered = []
        for piece in self.c.pieces:
            version = piece.version
            if version is not None:
                name, size = version.filename, format_decimal(version.size, "#,##0")
                digest = version.sha256
            else:
                name, size, digest = nature(piece), "—", "—"
            check = {
                Integrity.OK: _("conforme"),
                Integrity.ALTERED: _("ALTÉRÉE"),
                Integrity.MISSING: _("INTROUVABLE"),
                Integrity.NO_FILE: "—",
            }[piece.integrity]
            if piece.integrity is Integrity.ALTERED:
                altered.append(piece)
                digest += "\n" + _("relue : %(hash)s", hash=piece.computed_sha256 or "")
            title = (self.t.markup(piece.title) + '<br/><font size="6" color="#495057">'
                     + self.t.markup(name, typography=False) + "</font>")
            rows.append([str(piece.number), self.t.rich(title, self.s.cell), size,
                         self.p(digest, self.s.cell_hash, typography=False),
                         self.p(check, self.s.cell_bold if piece.integrity in {
                             Integrity.ALTERED, Integrity.MISSING} else self.s.cell)])
        if len(rows) == 1:
            out.append(self.p(_("Aucune pièce dans ce dossier.")))
        else:
            out.append(self.table(rows, [w * mm for w in (8, 48, 14, 82, 18)]))
        if altered:
            out.append(Spacer(0, 4))
            out.append(self.p(_("%(count)s pièce(s) dont le fichier stocké ne correspond plus à "
                                "l’empreinte enregistrée : à vérifier avant envoi.",
                                count=len(altered))))
        personal = [p for p in self.c.pieces if p.evidence.personal_data]
        out.append(Spacer(0, 4))
        if personal:
            out.append(self.p(_("Pièces contenant des données personnelles d’apprenants, "
                                "incluses à la demande de l’auteur du dossier :"), self.s.h3))
            for piece in personal:
                out.append(Paragraph(self.t.markup(_("Pièce %(number)s – %(title)s",
                                                     number=piece.number, title=piece.title)),
                                     self.s.bullet(0), bulletText="•"))
        elif self.c.excluded_personal:
            out.append(self.p(_("%(count)s pièce(s) contenant des données personnelles "
                                "d’apprenants ne sont pas incluses dans ce dossier.",
                                count=self.c.excluded_personal)))
        return out


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


def action_line(action) -> str:
    return _("%(title)s — %(owner)s, échéance %(due)s : %(status)s", title=action.title,
             owner=action.owner.full_name, due=day(action.due_on), status=action.status.label)


def measure_text(measure) -> str:
    indicator = measure.indicator
    if measure.value is None:
        value = "—"
    elif indicator.is_rate:
        value = format_percent(measure.value, "#,##0 %")
    else:
        value = format_decimal(measure.value, "#,##0.#")
    target = measure.target
    if target is None:
        return value
    sign = "≥" if str(getattr(target.comparison, "value", target.comparison)).lower() in {
        "min", "minimum", "au_moins", ">="} else "≤"
    goal = (format_percent(target.value, "#,##0 %") if indicator.is_rate
            else format_decimal(target.value, "#,##0.#"))
    return _("%(value)s (cible %(sign)s %(goal)s)", value=value, sign=sign, goal=goal)


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


def build_main(path: Path, content: Content, text: Text, layout: Layout, *, title: str,
               author: str, max_passes: int = 8) -> int:
    """Lay the main part out until its TOC and page count are stable; returns its pages."""
    doc = DossierDoc(path, layout, title=title, author=author)
    story = MainPart(content, text, layout).story()
    doc.multiBuild(story, maxPasses=max_passes)
    return layout.main_pages
