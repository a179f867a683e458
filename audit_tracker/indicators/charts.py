"""The key-indicator chart: one horizontal bar per site (and the total) for one indicator, with
each row's target as a dark tick. Drawn once with reportlab shapes; the page shows it as SVG
(``charts.to_svg``) and the PDF dossier places the same ``Drawing``.

Contract with the dossier: ``indicator_chart(table, indicator="qpv_rate", *, width=480)``
takes the ``IndicatorTable`` of ``service.indicator_table`` and returns a ``Drawing``.
"""

from __future__ import annotations

from flask_babel import gettext as _
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors

from ..charts import FONT, PALETTE, legend
from .display import format_value
from .service import INDICATORS, IndicatorRow, IndicatorTable

LABEL_WIDTH = 190  # site names sit left of the bars; long names are cut with an ellipsis
VALUE_WIDTH = 48
ROW_HEIGHT = 20
BAR_HEIGHT = 12
TOP = 28  # room for the title
BOTTOM = 24  # room for the legend
TOTAL_COLOUR = colors.HexColor("#6c757d")


def _text(value: str) -> str:
    """Text a standard PDF font can show too: its encoding has the no-break space, not the
    narrow one that French puts before « % »."""
    return value.replace("\u202f", "\u00a0")


def _fit(text: str, width: float, font_size: float) -> str:
    """Cut ``text`` to about ``width`` points (Helvetica averages half an em a character)."""
    limit = max(4, int(width / (font_size * 0.52)))
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _scale_max(rows: list[IndicatorRow], code: str, is_rate: bool) -> float:
    """The value at the bars' full length: 100 % for a rate; the largest value or target."""
    if is_rate:
        return 1.0
    values = [r[code].value or 0 for r in rows]
    values += [r[code].target.value for r in rows if r[code].target is not None]
    return max(values + [1.0]) * 1.1


def indicator_chart(table: IndicatorTable, indicator: str = "qpv_rate", *,
                    width: float = 480) -> Drawing:
    """Bars per site and for the weighted total for ``indicator``, targets as ticks."""
    spec = INDICATORS[indicator]
    rows = [*table.rows, table.total]
    height = TOP + BOTTOM + ROW_HEIGHT * len(rows)
    drawing = Drawing(width, height)
    plot_left = LABEL_WIDTH
    plot_width = max(60.0, width - LABEL_WIDTH - VALUE_WIDTH)
    full = _scale_max(rows, indicator, spec.is_rate)

    drawing.add(String(0, height - 16, str(spec.label), fontName=FONT, fontSize=10,
                       fillColor=PALETTE["text"]))
    # Frame of the plot: its left axis, and 50 % / 100 % guides for a rate.
    plot_bottom, plot_top = BOTTOM, height - TOP + 4
    drawing.add(Line(plot_left, plot_bottom, plot_left, plot_top, strokeColor=PALETTE["grid"]))
    if spec.is_rate:
        for fraction in (0.5, 1.0):
            x = plot_left + plot_width * fraction
            drawing.add(Line(x, plot_bottom, x, plot_top, strokeColor=PALETTE["grid"],
                             strokeDashArray=[2, 2]))

    for index, row in enumerate(rows):
        measure = row[indicator]
        y = height - TOP - ROW_HEIGHT * (index + 1) + (ROW_HEIGHT - BAR_HEIGHT) / 2
        name = str(row.label) if not row.is_total else _("Total (pondéré)")
        drawing.add(String(plot_left - 6, y + 3, _fit(name, LABEL_WIDTH - 10, 8),
                           fontName=FONT, fontSize=8,
                           fillColor=PALETTE["text"], textAnchor="end"))
        value = measure.value
        if value is not None:
            length = plot_width * min(value / full, 1.0)
            colour = TOTAL_COLOUR if row.is_total else PALETTE["bar"]
            drawing.add(Rect(plot_left, y, length, BAR_HEIGHT, fillColor=colour,
                             strokeColor=None))
        drawing.add(String(plot_left + plot_width + 4, y + 3, _text(format_value(spec, value)),
                           fontName=FONT, fontSize=8, fillColor=PALETTE["text"]))
        if measure.target is not None:
            x = plot_left + plot_width * min(measure.target.value / full, 1.0)
            drawing.add(Line(x, y - 3, x, y + BAR_HEIGHT + 3, strokeColor=PALETTE["target"],
                             strokeWidth=2))

    targets = sorted({
        f"{t.comparison.label} {_text(format_value(spec, t.value))}"
        for t in (r[indicator].target for r in rows) if t is not None
    })
    items = [(_("Site"), PALETTE["bar"]), (_("Total pondéré"), TOTAL_COLOUR)]
    if targets:
        items.append((_("Objectif : %(targets)s", targets=", ".join(targets)),
                      PALETTE["target"]))
    legend(drawing, items, x=plot_left, y=4)
    return drawing
