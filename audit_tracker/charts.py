"""Charts drawn once on the server, shown twice: SVG in the page, vector drawing in the PDF.

Each chart is a reportlab ``Drawing``. The page gets it through ``to_svg`` (reportlab's SVG
renderer, so no chart library and no CDN in the browser); the dossier places the very same
``Drawing`` as a flowable. Two renderings of one drawing cannot disagree.
"""

from __future__ import annotations

from markupsafe import Markup, escape
from reportlab.graphics import renderSVG
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors

FONT = "Helvetica"  # the page renders SVG text with the browser's fonts; the PDF maps it below

# One palette for both media; the readiness states keep the same colour everywhere.
PALETTE = {
    "non_applicable": colors.HexColor("#adb5bd"),
    "preuve_manquante": colors.HexColor("#dc3545"),
    "a_valider": colors.HexColor("#0dcaf0"),
    "a_risque": colors.HexColor("#fd7e14"),
    "demontrable": colors.HexColor("#198754"),
    "target": colors.HexColor("#212529"),
    "bar": colors.HexColor("#0d6efd"),
    "grid": colors.HexColor("#dee2e6"),
    "text": colors.HexColor("#212529"),
}


def to_svg(drawing: Drawing, title: str) -> Markup:
    """The drawing as inline SVG, with a title for screen readers and scaling to its box."""
    svg = renderSVG.drawToString(drawing)
    start = svg.index("<svg")
    svg = svg[start:]
    head_end = svg.index(">") + 1
    head = svg[:head_end]
    # Let the page size it: keep the viewBox, drop the fixed pixel size.
    width, height = drawing.width, drawing.height
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" '
        f'role="img" class="chart" preserveAspectRatio="xMinYMin meet">'
    )
    body = svg[head_end:]
    # The body is reportlab's own SVG output (our drawing, every label escaped by the renderer).
    return Markup(f"{head}<title>{escape(title)}</title>{body}")  # noqa: S704


def legend(drawing: Drawing, items: list[tuple[str, colors.Color]], x: float, y: float,
           font_size: float = 8) -> None:
    """A row of colour swatches with their labels, drawn from (x, y) to the right."""
    for label, colour in items:
        drawing.add(Rect(x, y, 8, 8, fillColor=colour, strokeColor=None))
        text = String(x + 11, y + 1, label, fontName=FONT, fontSize=font_size,
                      fillColor=PALETTE["text"])
        drawing.add(text)
        x += 11 + len(label) * font_size * 0.5 + 12
