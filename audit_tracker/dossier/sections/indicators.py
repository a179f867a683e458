"""The key indicators per site and their weighted total against the targets, with their charts;
absent when the school has entered none."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Spacer

from ...indicators.charts import indicator_chart
from ...indicators.service import IndicatorTable, Measure, indicator_table
from ..assemble import OutlineNode
from ..document import WIDTH, Writer, fit_drawing
from .base import DossierContext, Marks, Part


def gather(context: DossierContext) -> IndicatorsPart:
    """The table up to the reference date (the chosen sites, or all) and two of its charts,
    through the indicators' service."""
    table = indicator_table(context.campaign.school, sites=list(context.options.site_ids) or None,
                            end=context.as_of)
    if table.is_empty:
        return IndicatorsPart(None)
    charts = [indicator_chart(table, code) for code in ("qpv_rate", "positive_exit_rate")]
    return IndicatorsPart(table, charts)


@dataclass(frozen=True)
class IndicatorsPart(Part):
    table: IndicatorTable | None
    charts: list[Drawing] = field(default_factory=list)

    def flowables(self, page: Writer) -> list[Flowable]:
        table = self.table
        if table is None:
            return []
        out: list[Flowable] = [page.heading(_("Indicateurs clés"), page.s.h1, 0, "indicateurs")]
        period = _("toutes les périodes saisies")
        if table.periods:
            period = _("de %(start)s à %(end)s", start=format_date(table.periods[0], "MMMM yyyy"),
                       end=format_date(table.periods[-1], "MMMM yyyy"))
        out.append(page.p(_("Indicateurs par site et total pondéré (somme des effectifs, jamais "
                            "moyenne des pourcentages), %(period)s, comparés aux cibles.",
                            period=period)))
        indicators = table.indicators
        rows = [page.head(_("Site"), _("Entrées"), *[str(i.short_label) for i in indicators])]
        for row in [*table.rows, table.total]:
            cells = [page.p(row.label, page.s.cell_bold if row.is_total else page.s.cell),
                     str(row.counts.entries)]
            for indicator in indicators:
                cells.append(page.cell(measure_text(row[indicator.code])))
            rows.append(cells)
        widths = [40 * mm, 16 * mm] + [(WIDTH - 56 * mm) / max(1, len(indicators))] * len(
            indicators)
        out.append(page.table(rows, widths))
        for drawing in self.charts:
            out.append(Spacer(0, 6))
            out.append(fit_drawing(drawing, page.t))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Indicateurs clés"), "indicateurs")
        return [found] if found else []


def measure_text(measure: Measure) -> str:
    """« 16 % (cible ≥ 40 %) »: a site's value and its target, as printed in the table."""
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

