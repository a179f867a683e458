"""Reading the spreadsheets users upload (a référentiel, a year of indicators): CSV text as French
Excel saves it, and the first sheet of an XLSX workbook. The importers judge the rows; this
module only turns bytes into rows, or says in French why it cannot."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _

from .storage import archives

#: Rows read from a spreadsheet at most (the importers may allow fewer).
MAX_ROWS = 10_000
#: Columns read: the importers' formats have fewer than 20.
MAX_COLUMNS = 100
#: Uncompressed bytes a workbook may declare: 10,000 rows of text are far below.
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024


class UnreadableTable(ValueError):
    """The file is not a table we can read: ``reason`` in French, in lower case so an importer
    can put it after the ``line`` where it stopped (if any) or capitalise it."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line


def decode_csv(raw: bytes) -> str:
    """The text of a CSV file, in UTF-8 (with or without BOM) or Windows-1252."""
    for encoding in ("utf-8-sig", "cp1252"):  # French Excel saves CSV in Windows-1252
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:  # NUL: a binary file that happens to decode
            return text
        break
    raise UnreadableTable(_("ce fichier n’est pas un CSV texte"))


def csv_rows(raw: bytes) -> list[list[str]]:
    """The rows of a CSV file, its separator (« ; » as French Excel writes, or « , ») read from
    the header line; quoted line breaks and any line ending are understood."""
    text = decode_csv(raw)
    header = text.split("\n", 1)[0]
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(reader)
    except csv.Error as error:
        raise UnreadableTable(_("CSV illisible : %(why)s", why=error),
                              line=reader.line_num) from error


def xlsx_rows(raw: bytes, *, max_rows: int = MAX_ROWS) -> list[list[Any]]:
    """The values of the workbook's first sheet, row by row (formulas as their last result).

    A workbook is a zip: it passes the zip-bomb guard first (with a lower ceiling than proofs,
    since only its text is read), then its first sheet is streamed (``read_only``) and read no
    further than ``max_rows`` rows and ``MAX_COLUMNS`` columns, so neither a row numbered
    1,048,576 nor a sheet whose dimension claims every column costs more than those cells.
    """
    from openpyxl import load_workbook

    try:
        archives.open_zip(io.BytesIO(raw), len(raw), max_total=MAX_XLSX_UNCOMPRESSED).close()
    except archives.SuspiciousArchive as error:
        raise UnreadableTable(error.reason.rstrip(".")) from error
    except Exception:  # noqa: S110 - not a zip at all: openpyxl says why just below
        pass
    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise UnreadableTable(_("classeur XLSX illisible : %(why)s", why=error)) from error
    try:
        return _first_sheet_rows(workbook, max_rows)
    except UnreadableTable:
        raise
    except Exception as error:  # a sheet that breaks halfway is as unreadable as a broken file
        raise UnreadableTable(_("classeur XLSX illisible : %(why)s", why=error)) from error
    finally:
        workbook.close()


def _first_sheet_rows(workbook: Any, max_rows: int) -> list[list[Any]]:
    rows: list[list[Any]] = []
    width = 0
    cells = workbook.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True)
    for count, row in enumerate(cells, 1):
        if count > max_rows:
            raise UnreadableTable(_("le classeur dépasse %(max)s lignes ; découpez-le en "
                                    "plusieurs fichiers", max=max_rows))
        filled = [index for index, cell in enumerate(row) if cell is not None]
        if filled:
            width = max(width, filled[-1] + 1)
        rows.append(list(row))
    while rows and all(cell is None for cell in rows[-1]):
        rows.pop()  # formatted but empty rows at the end
    return [row[:width] for row in rows]
