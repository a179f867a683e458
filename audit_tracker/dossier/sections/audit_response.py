"""The answer to the audit report: per finding of the certification audits (AFNOR), the
school's answer, and its actions with their state and their closing proofs (pièces)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable, PageBreak

from ...findings.service import findings_of
from ...models import Finding
from ..assemble import OutlineNode
from ..document import Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> AuditResponsePart:
    """The certification audits' findings of the chosen frameworks, through the findings
    service."""
    chosen = {f.id for f in context.frameworks}
    found = [f for f in findings_of(context.session, context.campaign)
             if f.milestone.kind.is_certification_audit and f.framework_id in chosen]
    numbers = {piece.evidence.id: piece.number for piece in context.pieces}
    return AuditResponsePart(found, numbers)


@dataclass(frozen=True)
class AuditResponsePart(Part):
    findings: list[Finding]
    numbers: dict[int, int]  # evidence id -> pièce number

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = [page.heading(_("Réponse au rapport d’audit"), page.s.h1, 0,
                                            "reponse-audit")]
        if not self.findings:
            out.append(page.p(_("Aucun constat d’audit de certification n’est enregistré pour "
                                "cette campagne.")))
            out.append(PageBreak())
            return out
        for finding in self.findings:
            title = f"{finding.reference} – {finding.finding_type.label} : {finding.title}"
            out.append(CondPageBreak(35 * mm))
            out.append(page.heading(title, page.s.h3, 1, f"reponse-{finding.id}", toc=False))
            criteria = ", ".join(f"{c.code} – {c.title}" for c in finding.criteria)
            if criteria:
                out.append(page.p(_("Critères : %(criteria)s", criteria=criteria), page.s.small))
            if finding.description:
                out += page.t.markdown(finding.description)
            out.append(page.p(_("Réponse de l’école"), page.s.md_heading))
            answer = page.t.markdown(finding.response)
            out += answer or [page.p(_("Réponse en cours de rédaction."), page.s.small)]
            if finding.actions:
                rows = [page.head(_("Action"), _("Responsable"), _("Échéance"), _("État"),
                                  _("Preuve"))]
                for action in finding.actions:
                    number = self.numbers.get(action.closing_evidence_id or 0)
                    rows.append([page.cell(action.title), page.cell(action.owner.full_name),
                                 day(action.due_on), page.cell(action.status.label),
                                 page.cell(_("pièce %(number)s", number=number)
                                           if number is not None else "—")])
                out.append(page.table(rows, [w * mm for w in (74, 36, 18, 24, 18)]))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Réponse au rapport d’audit"), "reponse-audit")
        return [found] if found else []
