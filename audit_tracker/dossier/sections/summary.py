"""The readiness summary: how many criteria in each state at the reference date, the share that
can be demonstrated, and the chart by framework and section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import format_percent
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from ...readiness.charts import readiness_bars
from ...readiness.rules import STATE_ORDER, Readiness
from ..assemble import OutlineNode
from ..document import Writer, day, fit_drawing
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> SummaryPart:
    """The judged criteria's readiness and its chart (the readiness service's own)."""
    readiness = context.readiness
    bars = readiness_bars(readiness) if readiness.criteria else None
    return SummaryPart(readiness, context.as_of, bars)


@dataclass(frozen=True)
class SummaryPart(Part):
    readiness: Readiness
    as_of: date
    bars: Drawing | None

    def flowables(self, page: Writer) -> list[Flowable]:
        readiness = self.readiness
        out: list[Flowable] = [page.heading(_("Synthèse de l’état de préparation"), page.s.h1, 0,
                                            "synthese")]
        out.append(page.p(_("État de chaque critère au %(day)s, date de référence du dossier.",
                            day=day(self.as_of))))
        counts = readiness.counts()
        rows = [page.head(_("État"), _("Critères"))]
        style = []
        for index, state in enumerate(STATE_ORDER, start=1):
            rows.append([page.cell(state.label), str(counts.get(state, 0))])
            style.append(("TEXTCOLOR", (0, index), (0, index),
                          colors.HexColor(state.colour)))
        rows.append([page.p(_("Total"), page.s.cell_bold), str(len(readiness.criteria))])
        out.append(page.table(rows, [60 * mm, 25 * mm], extra=style))
        out.append(Spacer(0, 4))
        share = readiness.share_demonstrable
        if share is None:
            out.append(page.p(_("Aucun critère applicable dans ce périmètre.")))
        else:
            out.append(page.p(_("Part des critères applicables démontrables : %(share)s.",
                                share=format_percent(share, "#,##0 %"))))
        if self.bars is not None:
            out.append(Spacer(0, 4))
            out.append(fit_drawing(self.bars, page.t))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Synthèse de l’état de préparation"), "synthese")
        return [found] if found else []
