"""The holes a red team found (issue 12): each test failed before its guard existed."""

from __future__ import annotations

import io
import time
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from audit_tracker.extensions import db
from audit_tracker.models import Campaign, Framework, IndicatorEntry, Role

# --------------------------------------------------------------------- 1. spreadsheet bombs

SHEET = "xl/worksheets/sheet1.xml"
SHEET_HEAD = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
              b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')


def inline_cell(text: str, ref: str = "") -> bytes:
    at = f' r="{ref}"' if ref else ""
    return f'<c{at} t="inlineStr"><is><t>{text}</t></is></c>'.encode()


def workbook_with_sheet(chunks) -> bytes:
    """A real openpyxl workbook whose first sheet is replaced by the given XML chunks."""
    workbook = Workbook()
    workbook.active.append(["site"])
    plain = io.BytesIO()
    workbook.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target:
        for item in source.infolist():
            if item.filename != SHEET:
                target.writestr(item.filename, source.read(item.filename))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            for chunk in chunks:
                sheet.write(chunk)
    return out.getvalue()


def deflate_bomb() -> bytes:
    """About 160 KB that inflate to 40 MB of rows (the red team's was 128 KB)."""
    header = b"<row>" + b"".join(inline_cell(n) for n in ("site", "mois", "entrees")) + b"</row>"
    row = b"<row>" + inline_cell("tpm") + inline_cell("2018-03") + inline_cell("1") + b"</row>"
    block = row * (1024 * 1024 // len(row))

    def chunks():
        yield SHEET_HEAD + b"<sheetData>" + header
        for _ in range(40):
            yield block
        yield b"</sheetData></worksheet>"

    return workbook_with_sheet(chunks())


def far_row_bomb() -> bytes:
    """A few hundred bytes: a sheet claiming every column and a cell on its last row."""
    return workbook_with_sheet([
        SHEET_HEAD, b'<dimension ref="A1:XFD1048576"/><sheetData>',
        b'<row r="1">', inline_cell("site", "A1"), inline_cell("mois", "B1"),
        inline_cell("entrees", "C1"), b"</row>",
        b'<row r="1048576">', inline_cell("tpm", "XFD1048576"), b"</row>",
        b"</sheetData></worksheet>"])


BOMBS = [
    pytest.param(deflate_bomb, "rchive suspecte (taux de compression anormal)", id="deflate"),
    pytest.param(far_row_bomb, "dépasse 10000 lignes", id="far-row"),
]


def campaign_url(path: str = "") -> str:
    campaign_id = db.session.scalar(select(Campaign.id).limit(1))
    return f"/campagnes/{campaign_id}/indicateurs/{path}"


@pytest.mark.parametrize(("bomb", "message"), BOMBS)
def test_a_spreadsheet_bomb_is_refused_fast_by_the_indicator_import(client, auth, demo,
                                                                    bomb, message):
    raw = bomb()
    assert len(raw) < 200_000
    auth.login_demo(demo, "tpm")  # a site manager may import
    before = db.session.scalar(select(func.count(IndicatorEntry.id)))
    started = time.perf_counter()
    response = client.post(campaign_url("import"), data={
        "file": (io.BytesIO(raw), "indicateurs.xlsx")})
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 400
    assert message in page and "rien n’a été importé" in page
    assert elapsed < 5, f"{elapsed:.1f} s"
    db.session.expire_all()
    assert db.session.scalar(select(func.count(IndicatorEntry.id))) == before


@pytest.mark.parametrize(("bomb", "message"), BOMBS)
def test_a_spreadsheet_bomb_is_refused_fast_by_the_referentiel_import(client, auth, make_user,
                                                                     bomb, message):
    raw = bomb()
    auth.login(make_user(Role.ADMIN))
    before = db.session.scalar(select(func.count(Framework.id)))
    started = time.perf_counter()
    response = client.post("/referentiels/import", data={
        "code": "grille-e2c", "version": "1", "name": "Grille", "file": (io.BytesIO(raw),
                                                                         "grille.xlsx")},
        content_type="multipart/form-data")
    elapsed = time.perf_counter() - started
    page = response.get_data(as_text=True)
    assert message in page and "rien n’a été importé" in page
    assert elapsed < 5, f"{elapsed:.1f} s"
    assert db.session.scalar(select(func.count(Framework.id))) == before


def test_an_honest_workbook_with_empty_formatted_rows_still_reads():
    from audit_tracker import tables

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["site", "mois", "entrees"])
    sheet.append(["tpm", "2018-03", 4])
    sheet.cell(row=40, column=2).number_format = "0"  # styled, empty
    out = io.BytesIO()
    workbook.save(out)
    assert tables.xlsx_rows(out.getvalue()) == [["site", "mois", "entrees"],
                                               ["tpm", "2018-03", 4]]
