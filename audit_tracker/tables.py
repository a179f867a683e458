"""Reading the spreadsheets users upload (a référentiel, a year of indicators): CSV text as French
Excel saves it, and the first sheet of an XLSX workbook. The importers judge the rows; this
module only turns bytes into rows, or says in French why it cannot."""

from __future__ import annotations

import csv
import io
from typing import Any

from flask_babel import gettext as _


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


def xlsx_rows(raw: bytes) -> list[list[Any]]:
    """The values of the workbook's first sheet, row by row (formulas as their last result)."""
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a broken file
        raise UnreadableTable(_("classeur XLSX illisible : %(why)s", why=error)) from error
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
