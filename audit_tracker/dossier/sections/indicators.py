"""The key figures, complete, as the monthly note tables them: per site its opening date, its
entries with their counts and rates (QPV, non-diplômés), the companies, the exits and positive
exits by kind; the weighted total, the targets and the gaps, the period stated; then the charts.
Absent when the school has entered none."""

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
from ..document import Writer, day, fit_drawing
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
        out: list[Flowable] = [page.heading(_("Chiffres clés"), page.s.h1, 0, "indicateurs")]
        period = _("toutes les périodes saisies")
        if table.periods:
            period = _("de %(start)s à %(end)s", start=format_date(table.periods[0], "MMMM yyyy"),
                       end=format_date(table.periods[-1], "MMMM yyyy"))
        out.append(page.p(_("Chiffres par site depuis son ouverture, %(period)s. Les totaux sont "
                            "pondérés : somme des effectifs sur somme des effectifs, jamais "
                            "moyenne des pourcentages.", period=period)))
        out.append(page.heading(_("Entrées"), page.s.h3, 1, "chiffres-entrees", toc=False))
        rows = [page.head(_("Site"), _("Ouverture"), _("Stagiaires entrés"),
                          _("Entrées par mois"), _("Issus des QPV"), _("Non-diplômés"),
                          _("Entreprises d’accueil"))]
        for row in [*table.rows, table.total]:
            c = row.counts
            rows.append([
                page.p(row.label, page.s.cell_bold if row.is_total else page.s.cell),
                day(row.site.opened_on) if row.site is not None else "",
                str(c.entries),
                plain(row["monthly_entries"]),
                count_and_rate(c.from_qpv, row["qpv_rate"]),
                count_and_rate(c.without_diploma, row["without_diploma_rate"]),
                str(c.host_companies),
            ])
        out.append(page.table(rows, [w * mm for w in (44, 19, 20, 20, 23, 23, 21)],
                              extra=[("ALIGN", (2, 1), (-1, -1), "RIGHT")]))
        out.append(page.heading(_("Sorties"), page.s.h3, 1, "chiffres-sorties", toc=False))
        rows = [page.head(_("Site"), _("Sorties"), _("Sorties positives"), _("en formation"),
                          _("en emploi"), _("en alternance"))]
        for row in [*table.rows, table.total]:
            c = row.counts
            rows.append([
                page.p(row.label, page.s.cell_bold if row.is_total else page.s.cell),
                str(c.exits), count_and_rate(c.positive_exits, row["positive_exit_rate"]),
                str(c.exits_training), str(c.exits_employment), str(c.exits_work_study),
            ])
        out.append(page.table(rows, [w * mm for w in (44, 22, 30, 25, 25, 24)],
                              extra=[("ALIGN", (1, 1), (-1, -1), "RIGHT")]))
        targets = target_rows(table)
        if targets:
            out.append(page.heading(_("Cibles et écarts"), page.s.h3, 1, "chiffres-cibles",
                                    toc=False))
            rows = [page.head(_("Indicateur"), _("Périmètre"), _("Valeur"), _("Cible"),
                              _("Écart"), _("Source"))]
            for label, scope, measure in targets:
                rows.append([page.cell(label), page.cell(scope), plain(measure),
                             goal_text(measure), gap_text(measure),
                             page.cell(measure.target.source or "—")])
            out.append(page.table(rows, [w * mm for w in (40, 26, 16, 18, 20, 50)]))
        for drawing in self.charts:
            out.append(Spacer(0, 6))
            out.append(fit_drawing(drawing, page.t))
        out.append(PageBreak())
        return out

    def outline(self, marks: Marks) -> list[OutlineNode]:
        found = marks.node(_("Chiffres clés"), "indicateurs")
        return [found] if found else []


def plain(measure: Measure) -> str:
    """A value alone: « 16 % », « 4,5 », « — »."""
    if measure.value is None:
        return "—"
    if measure.indicator.is_rate:
        return format_percent(measure.value, "#,##0 %")
    return format_decimal(measure.value, "#,##0.#")


def count_and_rate(count: int, measure: Measure) -> str:
    """« 40 (16 %) »: the count, and its rate over the row's denominator."""
    return f"{count} ({plain(measure)})"


def goal_text(measure: Measure) -> str:
    target = measure.target
    goal = (format_percent(target.value, "#,##0 %") if measure.indicator.is_rate
            else format_decimal(target.value, "#,##0.#"))
    return f"{target.comparison.sign} {goal}"


def gap_text(measure: Measure) -> str:
    """The gap to the target: percentage points for a rate, the unit otherwise."""
    if measure.gap is None:
        return "—"
    if measure.indicator.is_rate:
        return _("%(gap)s pts", gap=format_decimal(measure.gap_points, "+#,##0;−#,##0"))
    return format_decimal(measure.gap, "+#,##0.#;−#,##0.#")


def target_rows(table: IndicatorTable) -> list[tuple[str, str, Measure]]:
    """Each target once, where it applies: the school's on the total, a site's on its row."""
    found = []
    for indicator in table.indicators:
        measure = table.total[indicator.code]
        if measure.target is not None and measure.target.site_id is None:
            found.append((str(indicator.label), _("École"), measure))
        for row in table.rows:
            site_measure = row[indicator.code]
            if site_measure.target is not None and site_measure.target.site_id is not None:
                found.append((str(indicator.label), row.label, site_measure))
    return found


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

