"""Import of monthly counts from a CSV or XLSX file: all rows or none.

One row per site and month: ``site`` (the site's code or name), ``mois`` (AAAA-MM, MM/AAAA or a
date: its month is taken), then the counts. A blank count is 0. Every row is checked before
anything is written; one bad row refuses the whole file, with one French message per problem
(« ligne 4 : … »), and the data stays as it was.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import tables
from ..models import COUNT_COLUMNS, IndicatorEntry, School, Site, User
from .service import (
    COUNT_LABELS,
    Counts,
    IndicatorError,
    can_edit_site,
    check_counts,
    flush_entries,
    month_start,
)

#: The template's header, in order; each column also answers to the aliases below.
HEADER = ("site", "mois", "entrees", "qpv", "non_diplomes", "entreprises", "sorties",
          "sorties_formation", "sorties_emploi", "sorties_alternance")
COLUMNS = {  # normalised header → field
    "site": "site",
    "code site": "site",
    "mois": "period",
    "periode": "period",
    "month": "period",
    "entrees": "entries",
    "stagiaires entres": "entries",
    "entries": "entries",
    "qpv": "from_qpv",
    "dont qpv": "from_qpv",
    "from qpv": "from_qpv",
    "non diplomes": "without_diploma",
    "dont non diplomes": "without_diploma",
    "without diploma": "without_diploma",
    "entreprises": "host_companies",
    "host companies": "host_companies",
    "sorties": "exits",
    "exits": "exits",
    "sorties formation": "exits_training",
    "exits training": "exits_training",
    "sorties emploi": "exits_employment",
    "exits employment": "exits_employment",
    "sorties alternance": "exits_work_study",
    "exits work study": "exits_work_study",
}
REQUIRED = ("site", "period", "entries")
MAX_ROWS = 5000  # 159 sites × 2 years fits; more is not a monthly file
EXAMPLE_ROW = ("tpm", "2018-02", 14, 3, 9, 13, 9, 2, 1, 1)

_MONTH_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})(?:-(\d{1,2}))?"), ("year", "month", "day")),
    (re.compile(r"(\d{1,2})/(\d{4})"), ("month", "year")),
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("day", "month", "year")),
)


class ImportRefused(IndicatorError):
    """The file is refused whole; ``problems`` lists each reason with its line."""

    def __init__(self, problems: list[str]):
        super().__init__(" ".join(problems))
        self.problems = problems


@dataclass
class ImportRow:
    line: int
    site: Site
    period: date
    counts: Counts


@dataclass
class ImportReport:
    created: int
    updated: int

    @property
    def total(self) -> int:
        return self.created + self.updated


def _normalise(name: Any) -> str:
    text = unicodedata.normalize("NFKD", str(name or "")).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def parse_month(value: Any) -> date | None:
    """A month from a cell: a date, « 2018-02 », « 2018-02-01 », « 02/2018 », « 01/02/2018 »."""
    if isinstance(value, datetime):
        return month_start(value.date())
    if isinstance(value, date):
        return month_start(value)
    text = str(value or "").strip()
    for pattern, parts in _MONTH_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            found = dict(zip(parts, match.groups(), strict=True))
            try:
                return month_start(date(int(found["year"]), int(found["month"]),
                                        int(found.get("day") or 1)))
            except ValueError:
                return None
    return None


def _count(value: Any) -> int | None:
    """A whole number from a cell (12, 12.0, « 12 »); 0 for a blank; None when not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    text = str(value).strip().replace("\u00a0", "").replace(" ", "")
    return int(text) if re.fullmatch(r"-?\d+", text) else None


def read_rows(name: str, raw: bytes) -> list[list[Any]]:
    """The file's rows as lists of cells (CSV: ``;`` or ``,``, UTF-8 or Windows-1252)."""
    suffix = Path(name).suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise ImportRefused([_("Format non pris en charge : %(suffix)s (CSV ou XLSX).",
                               suffix=suffix or "?")])
    try:
        return tables.csv_rows(raw) if suffix == ".csv" else tables.xlsx_rows(raw)
    except tables.UnreadableTable as error:
        if error.line:
            message = _("ligne %(line)s : %(reason)s.", line=error.line, reason=error.reason)
        else:
            message = error.reason[:1].upper() + error.reason[1:] + "."
        raise ImportRefused([message]) from error


def parse_rows(rows: list[list[Any]], sites: list[Site], author: User,
               today: date | None = None) -> list[ImportRow]:
    """Check every row; the valid rows, or ``ImportRefused`` with every problem found."""
    if not any(_filled(row) for row in rows):
        raise ImportRefused([_("Le fichier est vide.")])
    columns: dict[str, int] = {}
    problems: list[str] = []
    for index, name in enumerate(rows[0]):
        column = COLUMNS.get(_normalise(name))
        if column in columns:
            problems.append(_("ligne 1 : la colonne « %(name)s » est en double.", name=name))
        elif column:
            columns[column] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        wanted = {"site": "site", "period": "mois", "entries": "entrees"}
        problems.append(_("ligne 1 : colonne(s) obligatoire(s) absente(s) : %(names)s. "
                          "Téléchargez le modèle pour voir l’en-tête attendu.",
                          names=", ".join(wanted[m] for m in missing)))
    if problems:
        raise ImportRefused(problems)
    if sum(1 for row in rows[1:] if _filled(row)) > MAX_ROWS:
        raise ImportRefused([_("Trop de lignes : %(count)s (au plus %(max)s par fichier).",
                               count=len(rows) - 1, max=MAX_ROWS)])

    by_key = {}
    for known in sites:
        by_key[known.code.lower()] = known
        by_key[_normalise(known.name)] = known
    parsed: list[ImportRow] = []
    seen: dict[tuple[int, date], int] = {}
    for line, row in enumerate(rows[1:], start=2):  # the file's own line numbers
        if not _filled(row):
            continue  # blank lines are common at the end of a sheet
        def cell(column: str, row=row) -> Any:
            index = columns.get(column)
            if index is None or index >= len(row):
                return None
            value = row[index]
            return value.strip() if isinstance(value, str) else value

        row_problems: list[str] = []
        raw_site = cell("site")
        site = by_key.get(str(raw_site or "").strip().lower()) or by_key.get(_normalise(raw_site))
        if site is None:
            row_problems.append(_("site inconnu « %(site)s » (codes : %(codes)s)",
                                  site=raw_site or "", codes=", ".join(s.code for s in sites)))
        elif not can_edit_site(author, site):
            row_problems.append(_("vous ne pouvez importer que les indicateurs de votre site "
                                  "(« %(site)s » refusé)", site=site.code))
        period = parse_month(cell("period"))
        if period is None:
            row_problems.append(_("mois illisible « %(value)s » (attendu AAAA-MM)",
                                  value=cell("period") or ""))
        elif today is not None and period > month_start(today):
            row_problems.append(_("le mois %(month)s n’est pas encore commencé",
                                  month=period.strftime("%m/%Y")))
        values = {}
        for name in COUNT_COLUMNS:
            value = _count(cell(name))
            if value is None:
                row_problems.append(_("« %(field)s » doit être un nombre entier (« %(value)s »)",
                                      field=COUNT_LABELS[name], value=cell(name)))
                value = 0
            values[name] = value
        counts = Counts(**values)
        row_problems += [p.rstrip(".") for p in check_counts(counts)]
        if site is not None and period is not None:
            other = seen.setdefault((site.id, period), line)
            if other != line:
                row_problems.append(_("%(site)s, %(month)s figure déjà ligne %(other)s",
                                      site=site.code, month=period.strftime("%m/%Y"), other=other))
        if row_problems:
            problems += [_("ligne %(line)s : %(problem)s.", line=line, problem=p)
                         for p in row_problems]
        else:
            parsed.append(ImportRow(line, site, period, counts))
    if problems:
        raise ImportRefused(problems)
    return parsed


def _filled(row: list[Any]) -> bool:
    return any(str(cell if cell is not None else "").strip() for cell in row)


def import_entries(session: Session, school: School, name: str, raw: bytes, author: User,
                   today: date | None = None) -> ImportReport:
    """Create or update every row of the file (flushed; the caller commits), or refuse it
    whole."""
    sites = list(session.scalars(select(Site).where(Site.school_id == school.id)))
    rows = parse_rows(read_rows(name, raw), sites, author, today)
    existing = {
        (e.site_id, e.period): e
        for e in session.scalars(select(IndicatorEntry).where(
            IndicatorEntry.school_id == school.id,
            IndicatorEntry.site_id.in_({r.site.id for r in rows}),
            IndicatorEntry.period.between(min(r.period for r in rows),
                                          max(r.period for r in rows)),
        ))
    } if rows else {}
    created = updated = 0
    for row in rows:
        entry = existing.get((row.site.id, row.period))
        if entry is None:
            entry = IndicatorEntry(school_id=school.id, site_id=row.site.id, period=row.period)
            session.add(entry)
            created += 1
        else:
            updated += 1
        for column in COUNT_COLUMNS:
            setattr(entry, column, getattr(row.counts, column))
        entry.updated_by_id = author.id
    flush_entries(session)
    return ImportReport(created, updated)


def template_rows() -> list[tuple]:
    return [HEADER, EXAMPLE_ROW]


def template_csv() -> bytes:
    """The import template as CSV (``;``, UTF-8 with BOM, as French Excel opens it)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(template_rows())
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def template_xlsx() -> bytes:
    """The import template as an XLSX workbook, with a second sheet explaining each column."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Indicateurs")
    for row in template_rows():
        sheet.append(list(row))
    help_sheet = workbook.create_sheet(_("Aide"))
    help_sheet.append([_("Colonne"), _("Contenu")])
    help_sheet.append(["site", _("Code du site (ou son nom)")])
    help_sheet.append(["mois", _("Mois : AAAA-MM, MM/AAAA ou une date (son mois est retenu)")])
    for column, name in zip(HEADER[2:], COUNT_COLUMNS, strict=True):
        help_sheet.append([column, str(COUNT_LABELS[name])])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
