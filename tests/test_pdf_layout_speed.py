"""What keeps a big dossier's layout fast: reportlab's C accelerator, lines broken once per
width, and a dry layout pass that draws nothing."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfReader
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


def test_a_paragraph_keeps_its_lines_for_each_width(monkeypatch):
    # A cell shared by two columns of different widths is wrapped at both, turn by turn.
    para = Para("Responsable qualité (Site 2) " * 3,
                ParagraphStyle("t", fontName="Helvetica", fontSize=7, leading=8.6))
    calls = []
    original = Para.breakLines
    monkeypatch.setattr(Para, "breakLines",
                        lambda self, widths: calls.append(widths) or original(self, widths))
    wide, narrow = para.wrap(200, 500), para.wrap(60, 500)
    assert narrow[1] > wide[1]
    assert para.wrap(200, 500) == wide and para.wrap(60, 500) == narrow
    assert len(calls) == 2


def test_cells_with_the_same_text_share_one_paragraph_drawn_in_each_place(app):
    from audit_tracker.dossier.document import Layout, Writer
    from audit_tracker.pdf import fonts as font_mod
    from audit_tracker.pdf.text import Styles, Text

    with app.app_context():
        text = Text(font_mod.register_fonts(app.config.get("DOSSIER_FONT_DIR")), Styles())
        writer = Writer(text, Layout("École", "Campagne", "pied", 0, False))
        owner = writer.cell("Responsable qualité (Site 2)")
        assert writer.cell("Responsable qualité (Site 2)") is owner
        assert writer.cell("Responsable qualité") is not owner
        assert writer.head("Titre")[0] is writer.head("Titre")[0]
        assert writer.head("Titre")[0] is not writer.cell("Titre")  # another style
        # The same paragraph in a wide and a narrow column: wrapped and drawn in both.
        table = writer.table([writer.head("A", "B"), [owner, owner]], [150, 50])
        table.wrap(200, 500)
        buffer = io.BytesIO()
        canvas = Canvas(buffer)
        table.drawOn(canvas, 50, 500)
        canvas.save()
    shown = PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text()
    assert shown.count("Responsable") == 2
    # The narrow column broke the words onto their own lines; the wide one did not.
    assert "Responsable qualité (Site 2)\n" in shown
    assert "\nResponsable\nqualité (Site\n2)" in shown


def test_text_the_font_draws_is_kept_as_it_is_and_the_rest_replaced():
    from audit_tracker.pdf import fonts as font_mod

    fonts = font_mod.FontSet(Path("."), frozenset(map(ord, "abcé «»\u202f")))
    assert font_mod.drawable("abc é", fonts) == "abc é"
    assert font_mod.drawable("a\u202fb", fonts) == "a\u202fb"
    assert font_mod.drawable("a\tb\nc", fonts) == "a\tb\nc"
    assert font_mod.drawable("a\x00b\x7fc\u200bé", fonts) == "abcé"
    assert font_mod.drawable("a\ufe0fb", fonts) == "ab"
    assert font_mod.drawable("ax", fonts) == f"a{font_mod.REPLACEMENT}"


def test_the_collector_is_paused_for_overlapping_layouts_and_back_after_the_last():
    import gc
    import threading

    from audit_tracker.pdf.collector import collector_paused

    assert gc.isenabled()
    first_in, second_out = threading.Event(), threading.Event()
    seen = []

    def other_build():
        with collector_paused():
            first_in.set()
            second_out.wait(5)
            seen.append(gc.isenabled())  # the first build has ended; this one still runs

    thread = threading.Thread(target=other_build)
    with collector_paused():
        thread.start()
        first_in.wait(5)
        seen.append(gc.isenabled())
    second_out.set()
    thread.join(5)
    assert seen == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:  # a process that runs without the collector keeps it off
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_long_grid_measures_each_row_once_and_lays_out_as_a_table_does():
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Table

    style = ParagraphStyle("t", fontName="Helvetica", fontSize=7, leading=8.6)
    wraps: dict[int, int] = {}

    class Counted(Paragraph):
        def wrap(self, availWidth, availHeight):  # noqa: N803
            wraps[id(self)] = wraps.get(id(self), 0) + 1
            return super().wrap(availWidth, availHeight)

    def build(kind) -> list[bytes]:
        rows = [[Counted("N°", style), Counted("Titre", style)]]
        rows += [[Counted(str(n), style), Counted(f"Pièce {n} " + "mot " * (n % 40), style)]
                 for n in range(400)]
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(buffer, invariant=True)
        doc.build([kind(rows, colWidths=[40, 300], repeatRows=1)])
        return [page.get_contents().get_data()
                for page in PdfReader(io.BytesIO(buffer.getvalue())).pages]

    as_table = build(Table)
    table_wraps = sum(wraps.values())
    wraps.clear()
    as_grid = build(Grid)
    assert len(as_grid) > 5 and as_grid == as_table  # the same pages, split at the same rows
    # Each cell once to measure its row, once to draw it; the heading row is drawn on every
    # page. platypus alone measured rows again for each page's wrap and split.
    assert sorted(set(wraps.values())) == [2, 1 + len(as_grid)]
    assert list(wraps.values()).count(2) == 800
    assert table_wraps > 1.4 * sum(wraps.values())


def test_separator_lines_are_what_simple_split_gives():
    from reportlab.lib.utils import simpleSplit
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from audit_tracker.dossier.annexes import _lines

    def expected(value: str, width: float) -> list[str]:
        return [line for part in value.splitlines() or [""]
                for line in simpleSplit(part, "Helvetica", 7, width) or [""]]

    exact = "Responsable qualité (Site 2)"
    values = ["", "—", exact, "deux  espaces", " devant", "derrière ", "16\u202f%",
              "une\ndeux lignes", "mot " * 40, "a\u00a0b", "x" * 200]
    for width in (40.0, 120.0, 400.0, stringWidth(exact, "Helvetica", 7)):
        for value in values:
            assert _lines(value, "Helvetica", 7, width) == expected(value, width), value


def test_a_string_drawn_again_is_not_split_into_subsets_again(app, monkeypatch):
    from reportlab.pdfbase.ttfonts import TTFont

    from audit_tracker.pdf import fonts as font_mod

    with app.app_context():
        font_mod.register_fonts(app.config.get("DOSSIER_FONT_DIR"))
    calls = []
    original = TTFont.splitString
    monkeypatch.setattr(TTFont, "splitString", lambda self, text, doc, encoding="utf-8":
                        calls.append(text) or original(self, text, doc, encoding))

    def page(*lines: str) -> str:
        buffer = io.BytesIO()
        canvas = Canvas(buffer)
        canvas.setFont(font_mod.REGULAR, 9)
        for offset, line in enumerate(lines):
            canvas.drawString(50, 700 - 12 * offset, line)
        canvas.save()
        return PdfReader(io.BytesIO(buffer.getvalue())).pages[0].extract_text().strip()

    assert page("Pièce 3 – œuvre", "Nature", "Pièce 3 – œuvre", "Nature") \
        == "Pièce 3 – œuvre\nNature\nPièce 3 – œuvre\nNature"
    assert calls == ["Pièce 3 – œuvre", "Nature"]
    calls.clear()
    assert page("Nature") == "Nature"  # another document: its own subsets
    assert calls == ["Nature"]
