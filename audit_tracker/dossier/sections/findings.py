"""Every finding of the campaign's visits and audits, strong points included, with the actions
answering each and their state; then the actions that answer no finding."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Table

from ...findings.service import ActionFilters, actions_of, findings_of
from ...models import Action, Finding
from ..assemble import OutlineNode
from ..document import Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> FindingsPart:
    """The findings of the chosen frameworks and the other actions, through the findings
    service."""
    chosen = {f.id for f in context.frameworks}
    framework_ids = context.options.framework_ids
    findings = [f for f in findings_of(context.session, context.campaign)
                if not framework_ids or f.framework_id in chosen]
    others = [a for a in actions_of(context.session, context.campaign, ActionFilters())
              if not a.findings]
    return FindingsPart(findings, others)


@dataclass(frozen=True)
class FindingsPart(Part):
    findings: list[Finding]
    other_actions: list[Action]

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = [page.heading(_("Constats et plan d’actions"), page.s.h1, 0,
                                            "constats")]
        if not self.findings and not self.other_actions:
            out.append(page.p(_("Aucun constat ni action enregistré pour cette campagne.")))
            out.append(PageBreak())
            return out
        out.append(page.p(_("Tous les constats des visites et audits de la campagne, points "
                            "forts compris, avec les actions qui y répondent et leur statut.")))
        current = None
        rows: list[list] = []
        for finding in self.findings:
            if finding.milestone_id != current:
                if rows:
                    out.append(self.findings_table(page, rows))
                current = finding.milestone_id
                milestone = finding.milestone
                dates = day(milestone.starts_on)
                if milestone.ends_on and milestone.ends_on != milestone.starts_on:
                    dates += " – " + day(milestone.ends_on)
                out.append(page.heading(f"{milestone.title} ({dates})", page.s.h3, 1,
                                        f"event-{milestone.id}"))
                rows = [page.head(_("N°"), _("Type"), _("Constat et actions"), _("Critères"),
                                  _("Statut"), _("Échéance"))]
            body = page.t.markup(finding.title)
            if finding.description:
                body += ('<br/><font size="6.5" color="#495057">'
                         + page.t.markup(finding.description) + "</font>")
            for action in finding.actions:
                body += "<br/>• " + page.t.markup(action_line(action))
            rows.append([
                str(finding.number), page.cell(finding.finding_type.label),
                page.t.rich(body, page.s.cell),
                page.cell(", ".join(c.code for c in finding.criteria) or "—"),
                page.cell(finding.status.label), day(finding.due_on),
            ])
        if rows:
            out.append(self.findings_table(page, rows))
        if self.other_actions:
            out.append(page.heading(_("Actions sans constat"), page.s.h3, 1, "actions-seules"))
            rows = [page.head(_("Action"), _("Critères"), _("Responsable"), _("Échéance"),
                              _("Statut"))]
            for action in self.other_actions:
                rows.append([page.cell(action.title),
                             page.cell(", ".join(c.code for c in action.criteria) or "—"),
                             page.cell(action.owner.full_name), day(action.due_on),
                             page.cell(action.status.label)])
            out.append(page.table(rows, [70 * mm, 25 * mm, 30 * mm, 20 * mm, 25 * mm]))
        out.append(PageBreak())
        return out

    def findings_table(self, page: Writer, rows: list[list]) -> Table:
        return page.table(rows, [w * mm for w in (8, 24, 78, 22, 20, 18)])

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Constats et plan d’actions"), "constats")
        return [found] if found else []


def action_line(action: Action) -> str:
    """« Title — owner, échéance 01/06/2018 : status », under its finding."""
    return _("%(title)s — %(owner)s, échéance %(due)s : %(status)s", title=action.title,
             owner=action.owner.full_name, due=day(action.due_on), status=action.status.label)
