"""The governance calendar: the campaign's milestones, then its meetings with their minutes
(a pièce's number when the minutes are in the dossier)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak

from ...models import Meeting, Milestone
from ..assemble import OutlineNode
from ..collect import Piece
from ..document import Writer, day
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> CalendarPart:
    """The campaign's milestones and its meetings (the chosen sites' and the school's)."""
    site_ids = context.options.site_ids
    meetings = [m for m in context.campaign.meetings
                if not site_ids or m.site_id is None or m.site_id in site_ids]
    return CalendarPart(list(context.campaign.milestones), meetings, context.pieces)


@dataclass(frozen=True)
class CalendarPart(Part):
    milestones: list[Milestone]
    meetings: list[Meeting]
    pieces: list[Piece]

    def flowables(self, page: Writer) -> list[Flowable]:
        out: list[Flowable] = [page.heading(_("Calendrier de gouvernance"), page.s.h1, 0,
                                            "calendrier")]
        out.append(page.heading(_("Échéances de la campagne"), page.s.h3, 1, "echeances"))
        if self.milestones:
            rows = [page.head(_("Dates"), _("Nature"), _("Intitulé"), _("Lieu"))]
            for milestone in self.milestones:
                dates = day(milestone.starts_on)
                if milestone.ends_on and milestone.ends_on != milestone.starts_on:
                    dates += " – " + day(milestone.ends_on)
                rows.append([dates, page.cell(milestone.kind.label), page.cell(milestone.title),
                             page.cell(milestone.place or "—")])
            out.append(page.table(rows, [w * mm for w in (34, 32, 70, 34)]))
        else:
            out.append(page.p(_("Aucune échéance enregistrée.")))
        out.append(page.heading(_("Instances de gouvernance"), page.s.h3, 1, "instances"))
        if self.meetings:
            numbers = {piece.evidence.id: piece.number for piece in self.pieces}
            rows = [page.head(_("Date"), _("Horaire"), _("Instance"), _("Intitulé"), _("Site"),
                              _("Compte rendu"))]
            for meeting in self.meetings:
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
                rows.append([day(meeting.held_on), hours, page.cell(meeting.kind.label),
                             page.cell(meeting.title),
                             page.cell(meeting.site.name if meeting.site else _("École")),
                             page.cell(minutes)])
            out.append(page.table(rows, [w * mm for w in (18, 20, 34, 56, 22, 20)]))
        else:
            out.append(page.p(_("Aucune instance enregistrée.")))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Calendrier de gouvernance"), "calendrier")
        return [found] if found else []
