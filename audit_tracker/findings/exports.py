"""The action plan as a spreadsheet: XLSX, and CSV for French Excel (``;``, UTF-8 with BOM).

Every text cell that a spreadsheet would read as a formula (first character ``=``, ``+``, ``-``,
``@``, tab or carriage return) is prefixed with an apostrophe: a title typed by a user must not
run when the auditor opens the file (CSV/formula injection). The XLSX stores it as text too.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, has_app_context, send_file
from flask_babel import gettext as _

from ..accounts.permissions import Permission, requires
from ..clock import local_today
from ..extensions import db
from ..models import Action
from ..web.lookups import get_campaign_or_404
from . import service

exports_bp = Blueprint("exports", __name__)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATE_FORMAT = "DD/MM/YYYY"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_MAX_WIDTH = 60

Cell = str | int | date | None


def header() -> list[str]:
    return [
        _("Action"),
        _("Description"),
        _("Responsable"),
        _("Site"),
        _("Échéance"),
        _("Statut"),
        _("Retard (jours)"),
        _("Constats"),
        _("Critères"),
        _("Preuve de clôture"),
        _("Vérifiée par"),
        _("Vérifiée le"),
    ]


def _local_day(moment: datetime | None, tz: ZoneInfo | None) -> date | None:
    if moment is None:
        return None
    if tz is None and has_app_context():
        tz = ZoneInfo(current_app.config["TIMEZONE"])
    if tz is not None and moment.tzinfo is not None:
        moment = moment.astimezone(tz)
    return moment.date()


def action_rows(actions: Iterable[Action], today: date,
                tz: ZoneInfo | None = None) -> list[list[Cell]]:
    """The header, then one row per action; dates stay ``date`` (each format writes its own),
    the verification day in the school's time zone."""
    rows: list[list[Cell]] = [list(header())]
    for action in actions:
        rows.append([
            action.title,
            action.description,
            action.owner.full_name if action.owner else "",
            action.site.name if action.site else _("Toute l’école"),
            action.due_on,
            action.status.label,
            action.days_late(today),
            ", ".join(f.reference for f in action.findings),
            ", ".join(c.label for c in action.criteria),
            action.closing_evidence.title if action.closing_evidence else "",
            action.verified_by.full_name if action.verified_by else "",
            _local_day(action.verified_at, tz),
        ])
    return rows


def neutralise(text: str) -> str:
    """Text a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str):
        return neutralise(value)
    return str(value)  # numbers are ours, never a user's text


def to_csv(rows: Sequence[Sequence[Cell]]) -> bytes:
    """CSV as French Excel opens it by a double click: ``;``, CRLF, UTF-8 with its BOM."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx_text(text: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return neutralise(ILLEGAL_CHARACTERS_RE.sub("", text))


def to_xlsx(rows: Sequence[Sequence[Cell]], title: str | None = None) -> bytes:
    """One sheet: bold frozen header, widths fitted to the content (capped), real date cells
    shown dd/mm/yyyy, user text always stored as text (never as a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = re.sub(r"[\[\]:*?/\\]", "-", title or _("Plan d’actions"))[:31]
    widths: dict[int, int] = {}
    for row_index, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=row_index, column=column)
            if isinstance(value, str):
                cell.value = _xlsx_text(value)
                cell.data_type = "s"  # openpyxl would store a leading "=" as a formula
                shown = max((len(line) for line in cell.value.splitlines()), default=0)
            elif isinstance(value, date):
                cell.value = value.date() if isinstance(value, datetime) else value
                cell.number_format = _DATE_FORMAT
                shown = 10
            else:
                cell.value = value
                shown = len(str(value)) if value is not None else 0
            if row_index == 1:
                cell.font = Font(bold=True)
            else:
                cell.alignment = Alignment(vertical="top", wrap_text=isinstance(value, str))
            widths[column] = max(widths.get(column, 0), shown)
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(width + 2, _MAX_WIDTH)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:60] or "campagne"


def download_name(campaign, today: date, extension: str) -> str:
    return f"plan-actions-{_slug(campaign.name)}-{today.isoformat()}.{extension}"


# ------------------------------------------------------------------------------------ routes
# Registered at /campagnes/<campaign_id>/actions/export: the whole plan of the campaign.


def _plan(campaign_id: int):
    campaign = get_campaign_or_404(campaign_id)
    today = local_today()
    actions = service.actions_of(db.session, campaign, service.ActionFilters())
    return campaign, today, action_rows(actions, today)


def _attachment(data: bytes, mimetype: str, name: str):
    response = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True,
                         download_name=name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@exports_bp.get("/plan-actions.xlsx")
@requires(Permission.READ)
def plan_xlsx(campaign_id: int):
    """The whole plan as a spreadsheet, for a meeting or a partner who works outside the app."""
    campaign, today, rows = _plan(campaign_id)
    return _attachment(to_xlsx(rows), _XLSX, download_name(campaign, today, "xlsx"))


@exports_bp.get("/plan-actions.csv")
@requires(Permission.READ)
def plan_csv(campaign_id: int):
    """The same rows for any tool; French Excel opens it with a double click (``;``, BOM)."""
    campaign, today, rows = _plan(campaign_id)
    return _attachment(to_csv(rows), "text/csv",
                       download_name(campaign, today, "csv"))
