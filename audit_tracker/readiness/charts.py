"""Readiness charts: bars per framework and section, and the trend from the daily snapshots.

Both return reportlab ``Drawing`` objects: ``charts.to_svg`` puts them in the page, the dossier
places the same drawings in the PDF.
"""

from __future__ import annotations

from flask_babel import format_date, gettext
from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String

from ..charts import FONT, PALETTE, legend
from .rules import STATE_ORDER, Readiness, State
from .snapshots import TrendPoint

WIDTH = 520
LABEL_WIDTH = 190
ROW = 15
BAR = 10


def readiness_bars(readiness: Readiness) -> Drawing:
    """One stacked bar per section (worst state on the left), sections grouped by framework."""
    groups = readiness.groups()
    frameworks = list(dict.fromkeys(fw for fw, _section, _counts in groups))
    rows = len(groups) + len(frameworks)
    height = rows * ROW + 34
    drawing = Drawing(WIDTH, height)
    y = height - ROW
    bar_width = WIDTH - LABEL_WIDTH - 40
    current = None
    for framework, section, counts in groups:
        if framework != current:
            current = framework
            drawing.add(String(0, y + 2, framework, fontName=FONT + "-Bold", fontSize=8,
                               fillColor=PALETTE["text"]))
            y -= ROW
        total = sum(counts.values()) or 1
        label = section if len(section) <= 42 else section[:41] + "…"
        drawing.add(String(8, y + 2, label, fontName=FONT, fontSize=7.5,
                           fillColor=PALETTE["text"]))
        x: float = LABEL_WIDTH
        for state in STATE_ORDER:
            if counts[state]:
                width = bar_width * counts[state] / total
                drawing.add(Rect(x, y, width, BAR, fillColor=PALETTE[state.value],
                                 strokeColor=None))
                x += width
        shown = counts[State.DEMONSTRABLE]
        applicable = total - counts[State.NOT_APPLICABLE]
        drawing.add(String(LABEL_WIDTH + bar_width + 4, y + 2, f"{shown}/{applicable}",
                           fontName=FONT, fontSize=7.5, fillColor=PALETTE["text"]))
        y -= ROW
    legend(drawing, [(state.label, PALETTE[state.value]) for state in STATE_ORDER], 0, 4)
    return drawing


def trend_chart(points: list[TrendPoint]) -> Drawing:
    """Share of applicable criteria démontrables, day by day, from 0 to 100 %."""
    height, left, bottom, top = 160, 34, 22, 10
    drawing = Drawing(WIDTH, height)
    plot_w, plot_h = WIDTH - left - 10, height - bottom - top
    for share in (0, 0.25, 0.5, 0.75, 1):
        y = bottom + plot_h * share
        drawing.add(Line(left, y, left + plot_w, y, strokeColor=PALETTE["grid"],
                         strokeWidth=0.5))
        drawing.add(String(left - 4, y - 3, f"{round(share * 100)} %", fontName=FONT,
                           fontSize=7, textAnchor="end", fillColor=PALETTE["text"]))
    known = [(p.day, p.share_demonstrable) for p in points if p.share_demonstrable is not None]
    if len(known) < 2:
        drawing.add(String(left + plot_w / 2, bottom + plot_h / 2,
                           gettext("Pas encore assez d’instantanés quotidiens pour une tendance"),
                           fontName=FONT, fontSize=9, textAnchor="middle",
                           fillColor=PALETTE["text"]))
        return drawing
    first, last = known[0][0], known[-1][0]
    span = max((last - first).days, 1)
    coords = []
    for day, share in known:
        coords += [left + plot_w * (day - first).days / span, bottom + plot_h * share]
    drawing.add(PolyLine(coords, strokeColor=PALETTE["demontrable"], strokeWidth=2))
    for label_day, anchor, x in ((first, "start", left), (last, "end", left + plot_w)):
        drawing.add(String(x, 6, format_date(label_day, "dd/MM"), fontName=FONT, fontSize=7,
                           textAnchor=anchor, fillColor=PALETTE["text"]))
    return drawing
