"""The school's presentation, at the front of the dossier: its legal entity and staff, its
sites with their opening date, address and capacity, its governance bodies, funders and
partners, the organigramme (a pièce) and the co-funding mention."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import format_decimal
from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from ...pdf.text import Para
from ...school.service import Presentation, presentation
from ..assemble import OutlineNode
from ..document import Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> PresentationPart:
    """The presentation through the school's service; the organigramme's pièce number."""
    shown = presentation(context.session, context.campaign.school)
    numbers = {piece.evidence.id: piece.number for piece in context.pieces}
    return PresentationPart(shown, numbers.get(shown.profile.organigramme_evidence_id or 0),
                            context.sent)


def fte(value) -> str:
    return format_decimal(value, "#,##0.#") if value is not None else "—"


@dataclass(frozen=True)
class PresentationPart(Part):
    shown: Presentation
    organigramme_piece: int | None
    sent: bool

    def flowables(self, page: Writer) -> list[Flowable]:
        shown, profile = self.shown, self.shown.profile
        out: list[Flowable] = [page.heading(_("Présentation de l’école"), page.s.h1, 0,
                                            "presentation")]
        if shown.is_empty and not self.sent:
            out.append(page.p(_("La présentation de l’école n’est pas renseignée (page "
                                "« École »)."), page.s.small))
        rows = [
            (_("Raison sociale"), profile.legal_name or shown.school.name),
            (_("Forme juridique"), profile.legal_form or "—"),
            (_("Siège"), profile.head_office or "—"),
            (_("Équipe (ETP)"), fte(shown.total_staff) + (
                " " + _("(dont coordination : %(fte)s)", fte=fte(profile.staff_fte))
                if profile.staff_fte is not None else "")),
        ]
        if self.organigramme_piece is not None:
            rows.append((_("Organigramme"), _("pièce %(number)s – %(title)s",
                                               number=self.organigramme_piece,
                                               title=profile.organigramme.title)))
        out.append(page.table([[page.p(k, page.s.cell_bold), page.cell(v)] for k, v in rows],
                              [40 * mm, 130 * mm], header=False))
        out.append(page.heading(_("Sites"), page.s.h3, 1, "presentation-sites", toc=False))
        site_rows = [page.head(_("Site"), _("Ouverture"), _("Adresse"), _("Places"),
                               _("ETP"))]
        for site in shown.sites:
            site_rows.append([page.cell(site.name), day(site.opened_on),
                              page.cell(site.address or "—"),
                              str(site.capacity) if site.capacity is not None else "—",
                              fte(site.staff_fte)])
        if shown.total_capacity is not None:
            site_rows.append([page.p(_("Total"), page.s.cell_bold), "", "",
                              str(shown.total_capacity), ""])
        out.append(page.table(site_rows, [w * mm for w in (50, 20, 68, 16, 16)],
                              extra=[("ALIGN", (3, 1), (4, -1), "RIGHT")]))
        for title, key, lines in (
            (_("Instances de gouvernance"), "presentation-gouvernance", shown.governance),
            (_("Financeurs"), "presentation-financeurs", shown.funders),
            (_("Partenaires"), "presentation-partenaires", shown.partners),
        ):
            if not lines:
                continue
            out.append(page.heading(title, page.s.h3, 1, key, toc=False))
            for line in lines:
                out.append(Para(page.t.markup(line), page.s.bullet(0), bulletText="•"))
        if profile.cofunding_statement:
            out.append(Spacer(0, 6))
            out.append(page.p(profile.cofunding_statement, page.s.quote))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Présentation de l’école"), "presentation")
        return [found] if found else []
