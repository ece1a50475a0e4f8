"""The day's list as a download for the office's own records: CSV or XLSX, the very rows the list shows.

Columns are the list's fields, named as the API names them; times are ISO 8601 in the office's zone.
A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which
some strip first) as a formula, so a holder named ``=HYPERLINK(...)`` would run in the office's spreadsheet:
every such cell is written with a leading apostrophe in both formats, and XLSX cells are always text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from openpyxl import Workbook
from openpyxl.styles import Font
from sqlmodel import Session

from app.domain.statuses import DeskStatus
from app.services.bookings import day_list
from app.services.bookings.day_list import DayRow
from app.services.staff.keys import StaffPrincipal

Format = Literal["csv", "xlsx"]
COLUMNS = (
    "booking_id",
    "entry",
    "service",
    "starts_at",
    "family_name",
    "given_names",
    "status",
    "claims_to_check",
    "checked_in_at",
)
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: What a spreadsheet may read as the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Download:
    """A file to hand over as an attachment."""

    filename: str
    media_type: str
    body: bytes


def safe_cell(text: str) -> str:
    """``text`` as a cell no spreadsheet runs as a formula (a leading apostrophe when it could start one)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def cells(row: DayRow) -> list[str]:
    """One row of the list as the download's cells, each safe."""
    values = [
        row.booking_id,
        row.entry,
        row.service,
        row.starts_at.isoformat(),
        row.family_name,
        row.given_names,
        row.status.value,
        " ".join(claim["claim"] for claim in row.claims_to_check),
        row.checked_in_at.isoformat() if row.checked_in_at else "",
    ]
    return [safe_cell(value) for value in values]


def export(
    *,
    session: Session,
    staff: StaffPrincipal,
    office: str,
    day: date | None,
    now: datetime,
    kind: Format,
    q: str = "",
    statuses: Collection[DeskStatus] | None = None,
) -> Download:
    """The office's day list (as ``day_list.day_list`` reads it, same rules) as a CSV or XLSX file."""
    found = day_list.day_list(
        session=session, staff=staff, office=office, day=day, now=now, q=q, statuses=statuses
    )
    rows = [cells(row) for row in found.items]
    body = _csv(rows) if kind == "csv" else _xlsx(rows, found.date)
    return Download(f"fairslot-{found.office}-{found.date.isoformat()}.{kind}", MEDIA_TYPES[kind], body)


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    # A byte-order mark: spreadsheets then read the accents of the names as UTF-8.
    return buffer.getvalue().encode("utf-8-sig")


def _xlsx(rows: list[list[str]], day: date) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = day.isoformat()
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for values in rows:
        sheet.append([value or None for value in values])  # an empty cell, not an empty text
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if cell.value is not None:
                cell.data_type = "s"  # text, whatever it looks like: never a formula
    for letter, width in zip("ABCDEFGHI", (38, 16, 14, 27, 24, 24, 20, 28, 27), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
