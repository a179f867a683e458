"""One chapter per framework: each criterion in référentiel order with the school's argument, its
state and reasons at the reference date, and the table of its numbered pièces.

In the edition the school sends, a criterion shows its argument and its pièces only, never an
internal state; the criteria without any pièce are listed once, plainly, in a short table at
the end of the chapter, with the school's argument or its reason for not applying."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Spacer,
    Table,
)

from ...models import Criterion, Framework, Section
from ...pdf import fonts as font_mod
from ...pdf.text import Para
from ...readiness.decisions import decisions_of
from ...readiness.rules import CriterionReadiness
from ..assemble import OutlineNode
from ..collect import Piece
from ..document import AnnexRef, Writer, day, nature, owner, period, validity
from .base import DossierContext, Marks, Part

# criterion, its readiness, the school's argument, its reason for not applying
Entry = tuple[Criterion, CriterionReadiness | None, str, str]
Chapter = tuple[Framework, list[tuple[Section, list[Entry]]]]


def gather(context: DossierContext) -> CriteriaPart:
    """The chosen criteria grouped by framework and section, with the school's decisions
    (through the readiness service)."""
    decisions = decisions_of(context.session, context.campaign)
    judged = {j.criterion_id: j for j in context.readiness.criteria}
    chapters: list[Chapter] = []
    for criterion in context.criteria:
        framework = next(f for f in context.frameworks if f.id == criterion.framework_id)
        if not chapters or chapters[-1][0] is not framework:
            chapters.append((framework, []))
        sections = chapters[-1][1]
        if not sections or sections[-1][0].id != criterion.section_id:
            sections.append((criterion.section, []))
        decision = decisions.get(criterion.id)
        sections[-1][1].append((
            criterion, judged.get(criterion.id),
            decision.argument if decision else "",
            decision.not_applicable_reason if decision and not decision.applicable else "",
        ))
    levels = {}
    for framework in context.frameworks:
        labels = {lv["code"]: lv["label"] for lv in framework.self_assessment_scale or []}
        for criterion in context.criteria:
            decision = decisions.get(criterion.id)
            if criterion.framework_id == framework.id and decision and decision.self_assessment:
                levels[criterion.id] = labels.get(decision.self_assessment, "")
    return CriteriaPart(chapters, context.per_criterion, context.as_of,
                        context.options.with_annexes, context.sent, levels)


@dataclass(frozen=True)
class CriteriaPart(Part):
    chapters: list[Chapter]
    per_criterion: dict[int, list[Piece]]
    as_of: date
    with_annexes: bool
    sent: bool = False
    levels: dict[int, str] = field(default_factory=dict)  # criterion id -> self-assessment

    def shown(self, criteria: list[Entry]) -> list[Entry]:
        """The criteria printed in full: all of them internally, those with a pièce when sent."""
        if not self.sent:
            return criteria
        return [entry for entry in criteria if self.per_criterion.get(entry[0].id)]

    def without_pieces(self, sections: list[tuple[Section, list[Entry]]]) -> list[Entry]:
        if not self.sent:
            return []
        return [entry for _section, criteria in sections for entry in criteria
                if not self.per_criterion.get(entry[0].id)]

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = []
        for framework, sections in self.chapters:
            out += self.chapter(page, framework, sections)
        return out

    def chapter(self, page: Writer, framework: Framework,
                sections: list[tuple[Section, list[Entry]]]) -> list[Flowable]:
        out: list[Flowable] = []
        title = f"{framework.name} · v{framework.version}"
        out.append(page.heading(title, page.s.h1, 0, f"fw-{framework.id}"))
        if framework.provisional:
            out.append(page.p(_("Structure provisoire : la grille officielle n’est pas publique."),
                              page.s.small))
        for section, criteria in sections:
            shown = self.shown(criteria)
            if not shown:
                continue
            out.append(CondPageBreak(40 * mm))
            out.append(page.heading(f"{section.code} – {section.title}", page.s.h2, 1,
                                    f"sec-{section.id}"))
            for criterion, judged, argument, na_reason in shown:
                out += self.criterion(page, framework, criterion, judged, argument, na_reason)
        missing = self.without_pieces(sections)
        if missing:
            out += self.missing_table(page, framework, missing)
        out.append(PageBreak())
        return out

    def missing_table(self, page: Writer, framework: Framework,
                      entries: list[Entry]) -> list[Flowable]:
        """The criteria without any pièce in this dossier, once, with the school's words."""
        out: list[Flowable] = [CondPageBreak(30 * mm), page.heading(
            _("Critères sans pièce jointe"), page.s.h2, 1, f"sans-piece-{framework.id}")]
        out.append(page.p(_("Ces critères ne sont illustrés par aucune pièce dans ce dossier."),
                          page.s.small))
        rows = [page.head(_("Critère"), _("Auto-évaluation"), _("Argumentaire de l’école"))]
        for criterion, _judged, argument, na_reason in entries:
            words: list[Flowable] | Flowable = page.cell("—")
            if na_reason:
                words = page.cell(_("Non applicable : %(reason)s", reason=na_reason))
            elif argument.strip():
                words = page.t.markdown(argument) or words
            rows.append([page.cell(f"{criterion.code} – {criterion.title}"),
                         page.cell(self.levels.get(criterion.id) or "—"), words])
        out.append(page.table(rows, [55 * mm, 25 * mm, 90 * mm]))
        return out

    def criterion(self, page: Writer, framework: Framework, criterion: Criterion,
                  judged: CriterionReadiness | None, argument: str,
                  na_reason: str) -> list[Flowable]:
        label = f"{framework.criterion_label} {criterion.code} – {criterion.title}"
        # In the outline, not the contents: the contents stay within two pages.
        head = [page.heading(label, page.s.h3, 2, f"crit-{criterion.id}", toc=False)]
        if criterion.indispensable:
            head.append(page.p(_("Critère indispensable"), page.s.small))
        if self.levels.get(criterion.id):
            head.append(page.p(_("Auto-évaluation : %(level)s", level=self.levels[criterion.id]),
                               page.s.small))
        if judged is not None and not self.sent:
            colour = judged.state.colour
            head.append(page.t.rich(
                page.t.markup(_("État au %(day)s :", day=day(self.as_of)))
                + f' <font color="{colour}"><b>{page.t.markup(judged.state.label)}</b></font>',
                page.s.body))
        out: list[Flowable] = [KeepTogether(head)]
        if judged is not None and not self.sent:
            for reason in judged.reasons:
                out.append(Para(page.t.markup(str(reason)), page.s.bullet(0),
                                     bulletText="•"))
        out.append(page.p(_("Argumentaire de l’école"), page.s.md_heading))
        flowables = page.t.markdown(argument)
        if flowables:
            out += flowables
        else:
            out.append(page.p(_("Aucun argumentaire rédigé pour ce critère."), page.s.small))
        if na_reason and (judged is None or judged.state.value != "non_applicable"):
            out.append(page.p(_("Motif de non-application : %(reason)s", reason=na_reason),
                              page.s.small))
        pieces = self.per_criterion.get(criterion.id, [])
        if pieces:
            out.append(Spacer(0, 3))
            out.append(self.pieces_table(page, criterion, pieces))
        else:
            out.append(page.p(_("Aucune pièce retenue pour ce critère dans ce dossier."),
                              page.s.small))
        out.append(Spacer(0, 6))
        return out

    def pieces_table(self, page: Writer, criterion: Criterion, pieces: list[Piece]) -> Table:
        rows = [page.head(_("N°"), _("Titre"), _("Nature"), _("Période couverte"),
                          _("Propriétaire"), _("Validité"), _("Version"), _("SHA-256"),
                          _("Page d’annexe"))]
        personal = _("données personnelles")
        for piece in pieces:
            evidence = piece.evidence
            title = page.t.markup(evidence.title)
            # Sent, every pièce is validated: its state would only repeat it.
            details = [] if self.sent else [evidence.status.label]
            if evidence.personal_data:
                details.append(personal)
            note = piece.notes.get(criterion.id)
            small = page.t.markup(" · ".join(details))
            if note:
                small += ("<br/>" if small else "") + f"<i>{page.t.markup(note)}</i>"
            if small:
                title += f'<br/><font size="6" color="#495057">{small}</font>'

            annex: Flowable | str = AnnexRef(piece, page.layout) if self.with_annexes else "—"
            rows.append([
                page.shared(piece.number, page.s.cell_bold),
                page.shared_rich(title, page.s.cell),
                page.cell(nature(piece)),
                page.cell(period(evidence)),
                page.cell(owner(evidence)),
                page.cell(validity(evidence, self.as_of)),
                f"v{piece.version.number}" if piece.version else "—",
                piece.short_hash or "—",
                annex,
            ])
        # Each heading fits its column on one line (no « Versio/n »).
        widths = [8, 37, 16, 19, 21, 19, 13, 21, 16]
        return page.table(rows, [w * mm for w in widths],
                          extra=[("FONT", (7, 1), (7, -1), font_mod.MONO, 6.5)])

    def outline(self, marks: Marks) -> list[OutlineNode]:
        """Framework → section → criterion, each criterion's pièces pointing at their annex."""
        roots: list[OutlineNode] = []
        for framework, sections in self.chapters:
            fw_node = marks.node(f"{framework.name} · v{framework.version}", f"fw-{framework.id}")
            if fw_node is None:
                continue
            fw_node.open = True
            roots.append(fw_node)
            for section, criteria in sections:
                sec_node = marks.node(f"{section.code} – {section.title}", f"sec-{section.id}")
                if sec_node is None:
                    continue
                fw_node.children.append(sec_node)
                for criterion, *_rest in self.shown(criteria):
                    crit_node = marks.node(f"{criterion.code} – {criterion.title}",
                                           f"crit-{criterion.id}")
                    if crit_node is None:
                        continue
                    sec_node.children.append(crit_node)
                    if marks.annexes:
                        for piece in self.per_criterion.get(criterion.id, []):
                            crit_node.add(_("Pièce %(number)s – %(title)s", number=piece.number,
                                            title=piece.title), marks.annex_index(piece))
            missing = marks.node(_("Critères sans pièce jointe"), f"sans-piece-{framework.id}")
            if missing is not None:
                fw_node.children.append(missing)
        return roots
