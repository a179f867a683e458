"""Governance: the meetings held in the period, with their minutes as pièces. The internal
review flags the meetings held without minutes; the school's edition lists what was held."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from flask_babel import ngettext
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak

from ...models import Meeting
from ..assemble import OutlineNode
from ..collect import governance_period
from ..document import Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> GovernancePart:
    """The campaign's meetings held in the period (the chosen sites' and the school's)."""
    start, end = governance_period(context.as_of, context.built_on)
    site_ids = context.options.site_ids
    held = sorted((m for m in context.campaign.meetings
                   if start <= m.held_on <= end
                   and (not site_ids or m.site_id is None or m.site_id in site_ids)),
                  key=lambda m: (m.held_on, m.id))
    numbers = {piece.evidence.id: piece.number for piece in context.pieces}
    return GovernancePart(held, numbers, start, end, context.sent)


@dataclass(frozen=True)
class GovernancePart(Part):
    meetings: list[Meeting]
    numbers: dict[int, int]  # evidence id -> pièce number
    start: date
    end: date
    sent: bool

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = [page.heading(_("Gouvernance"), page.s.h1, 0, "gouvernance")]
        out.append(page.p(_("Instances réunies du %(start)s au %(end)s et leurs comptes rendus, "
                            "joints comme pièces.", start=day(self.start), end=day(self.end))))
        if not self.meetings:
            out.append(page.p(_("Aucune instance réunie sur la période.")))
            out.append(PageBreak())
            return out
        rows = [page.head(_("Date"), _("Instance"), _("Intitulé"), _("Site"),
                          _("Compte rendu"))]
        style = []
        missing = 0
        for index, meeting in enumerate(self.meetings, start=1):
            number = self.numbers.get(meeting.minutes_evidence_id or 0)
            if number is not None:
                minutes = _("pièce %(number)s", number=number)
            elif self.sent:
                minutes = ""  # the school's edition lists, it does not flag
            else:
                missing += 1
                minutes = (_("hors dossier") if meeting.minutes_evidence_id
                           else _("sans compte rendu"))
                style.append(("TEXTCOLOR", (4, index), (4, index), colors.HexColor("#b02a37")))
            rows.append([day(meeting.held_on), page.cell(meeting.kind.label),
                         page.cell(meeting.title),
                         page.cell(meeting.site.name if meeting.site else _("École")),
                         page.cell(minutes)])
        out.append(page.table(rows, [w * mm for w in (18, 34, 66, 30, 22)], extra=style))
        if missing:
            out.append(page.p(ngettext(
                "%(num)s instance réunie n’a pas de compte rendu dans ce dossier.",
                "%(num)s instances réunies n’ont pas de compte rendu dans ce dossier.",
                missing), page.s.small))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Gouvernance"), "gouvernance")
        return [found] if found else []
