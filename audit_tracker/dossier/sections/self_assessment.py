"""The self-assessment grid: one line per criterion with the school's level on the framework's
scale (data, like the finding scale) and its pièces; the detail (argument and pièces) follows
in the criteria's chapters."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak

from ...models import Criterion, Framework
from ...readiness.decisions import decisions_of
from ..assemble import OutlineNode
from ..collect import Piece
from ..document import Writer
from .base import DossierContext, Marks, Part

# framework, then per criterion: the criterion, its level's label (or None), its pièces
Line = tuple[Criterion, str | None, list[Piece]]


def gather(context: DossierContext) -> SelfAssessmentPart:
    """The school's levels through the readiness service's decisions."""
    decisions = decisions_of(context.session, context.campaign)
    grids: list[tuple[Framework, list[Line]]] = []
    for framework in context.frameworks:
        labels = {level["code"]: level["label"]
                  for level in framework.self_assessment_scale or []}
        lines = []
        for criterion in context.criteria:
            if criterion.framework_id != framework.id:
                continue
            decision = decisions.get(criterion.id)
            code = decision.self_assessment if decision else None
            lines.append((criterion, labels.get(code or ""),
                          context.per_criterion.get(criterion.id, [])))
        if lines:
            grids.append((framework, lines))
    return SelfAssessmentPart(grids)


@dataclass(frozen=True)
class SelfAssessmentPart(Part):
    grids: list[tuple[Framework, list[Line]]]

    def flowables(self, page: Writer) -> list[Flowable]:
        if not self.grids:
            return []
        out: list[Flowable] = [page.heading(_("Grille d’auto-évaluation"), page.s.h1, 0,
                                            "auto-evaluation")]
        out.append(page.p(_("Le niveau que l’école s’attribue pour chaque critère, sur l’échelle "
                            "du référentiel, et ses pièces ; l’argumentaire et le détail des "
                            "pièces suivent, critère par critère.")))
        for framework, lines in self.grids:
            out.append(page.heading(f"{framework.name} · v{framework.version}", page.s.h3, 1,
                                    f"auto-evaluation-{framework.id}", toc=False))
            scale = " < ".join(level["label"] for level in framework.self_assessment_scale or [])
            if scale:
                out.append(page.p(_("Échelle : %(scale)s", scale=scale), page.s.small))
            rows = [page.head(_("Critère"), _("Auto-évaluation"), _("Pièces"))]
            for criterion, level, pieces in lines:
                rows.append([page.cell(f"{criterion.code} – {criterion.title}"),
                             page.cell(level or _("non évalué")),
                             page.cell(", ".join(str(p.number) for p in pieces) or "—")])
            out.append(page.table(rows, [112 * mm, 36 * mm, 22 * mm]))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Grille d’auto-évaluation"), "auto-evaluation")
        return [found] if found else []
