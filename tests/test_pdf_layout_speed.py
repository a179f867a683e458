"""What keeps a big dossier's layout fast: reportlab's C accelerator, lines broken once per
width, and a dry layout pass that draws nothing."""

from __future__ import annotations

import io

from reportlab.lib import rl_accel
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfgen.canvas import Canvas

from audit_tracker.pdf.text import DRY_RUN, Grid, Para, is_dry_run


def test_reportlab_runs_with_its_c_accelerator():
    # The pure-Python fallbacks are Python functions; the accelerator's are built-ins.
    assert type(rl_accel.fp_str).__name__ == "builtin_function_or_method"
    assert type(rl_accel.instanceStringWidthTTF).__name__ == "builtin_function_or_method"


def test_a_paragraph_breaks_its_lines_once_per_width(monkeypatch):
    para = Para("Une phrase assez longue pour tenir sur plusieurs lignes " * 4,
                ParagraphStyle("t", fontName="Helvetica", fontSize=9, leading=11))
    calls = []
    original = Para.breakLines
    monkeypatch.setattr(Para, "breakLines",
                        lambda self, widths: calls.append(widths) or original(self, widths))
    first = para.wrap(200, 500)
    assert para.wrap(200, 300) == first and para.wrap(200, 500) == first
    assert len(calls) == 1
    narrower = para.wrap(100, 500)
    assert len(calls) == 2 and narrower[1] > first[1]
    parts = para.split(100, 30)  # a split forgets the lines: the next wrap breaks them again
    assert len(parts) == 2
    para.wrap(100, 500)
    assert len(calls) == 3


def test_a_dry_canvas_gets_no_drawing():
    style = ParagraphStyle("t", fontName="Helvetica", fontSize=9, leading=11)

    def drawn(dry: bool) -> bytes:
        canvas = Canvas(io.BytesIO())
        setattr(canvas, DRY_RUN, dry)
        assert is_dry_run(canvas) is dry
        para = Para("Texte de la page", style)
        para.wrap(200, 100)
        para.drawOn(canvas, 50, 700)
        grid = Grid([[Para("cellule", style)]], colWidths=[100])
        grid.wrap(200, 100)
        grid.drawOn(canvas, 50, 600)
        return canvas._code and "\n".join(canvas._code).encode()  # noqa: SLF001

    assert b"Texte de la page" in drawn(False) and b"cellule" in drawn(False)
    assert not drawn(True)
