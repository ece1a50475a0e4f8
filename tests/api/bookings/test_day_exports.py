"""The day's downloads: the list's very rows as CSV and XLSX, opened as a spreadsheet would, with no formula
a holder's name could smuggle in."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from app.runtime import Runtime
from app.services.bookings.exports import COLUMNS, safe_cell
from tests.desk import DAY, attend, book, day_list
from tests.factories import World

HOSTILE = ['=HYPERLINK("http://evil.example","Click")', "+33 CMD", "-2+3", "@SUM(A1:A9)"]


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _json_rows(world: World, **params: str) -> list[list[str]]:
    items = day_list(world.client, world.desk, world.office, **params).json()["items"]
    return [
        [
            item["booking_id"],
            item["entry"],
            item["service"],
            item["starts_at"],
            item["family_name"],
            item["given_names"],
            item["status"],
            " ".join(c["claim"] for c in item["claims_to_check"]),
            item["checked_in_at"] or "",
        ]
        for item in items
    ]


def _csv_rows(world: World, **params: str) -> tuple[list[str], list[list[str]]]:
    response = day_list(world.client, world.desk, world.office, format="csv", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="fairslot-{world.office}-{DAY.isoformat()}.csv"'
    )
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return header, rows


def _xlsx_sheet(world: World, **params: str):  # type: ignore[no-untyped-def]
    response = day_list(world.client, world.desk, world.office, format="xlsx", **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"].endswith(f'{DAY.isoformat()}.xlsx"')
    return load_workbook(io.BytesIO(response.content)).active


def _unquoted(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in ("=", "+", "-", "@", "\t", "\r") else value


def test_names_that_start_like_a_formula_are_neutralised_in_csv_and_xlsx_and_read_back_as_the_list(
    world: World,
) -> None:
    booked = book(world, [{"document": f"FORMULA{n}", "family": name} for n, name in enumerate(HOSTILE)])
    assert attend(world.client, world.desk, booked[0]).status_code == 200
    listed = _json_rows(world)

    header, rows = _csv_rows(world)
    sheet = _xlsx_sheet(world)

    assert header == list(COLUMNS)
    assert [[_unquoted(cell) for cell in row] for row in rows] == listed
    families = sorted(row[4] for row in rows)
    assert families == sorted("'" + name for name in HOSTILE)
    cells = list(sheet.iter_rows())
    assert [c.value for c in cells[0]] == list(COLUMNS)
    values = [[c.value or "" for c in line] for line in cells[1:]]
    assert values == rows
    for line in cells[1:]:
        for cell in line:
            assert cell.data_type != "f", (cell.coordinate, cell.value)
            assert cell.value is None or cell.data_type == "s", (cell.coordinate, cell.value)
            assert not str(cell.value or "").startswith(("=", "+", "-", "@"))


def test_the_downloads_follow_the_search_and_the_status_filter(world: World) -> None:
    first, second = book(world, [{"document": "FILTER01", "family": "Benali"}, {"document": "FILTER02"}])
    assert attend(world.client, world.desk, second).status_code == 200

    _header, searched = _csv_rows(world, q="BENALI")
    _header, attended = _csv_rows(world, status="attended")
    sheet = _xlsx_sheet(world, status="attended")

    assert [row[0] for row in searched] == [first["id"]]
    assert [row[0] for row in attended] == [second["id"]]
    assert next(sheet.iter_rows(min_row=2))[0].value == second["id"]
    assert sheet.max_row == 2


def test_an_empty_day_downloads_the_header_alone(world: World) -> None:
    header, rows = _csv_rows(world)
    assert (header, rows) == (list(COLUMNS), [])
    assert _xlsx_sheet(world).max_row == 1


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Diallo", "Diallo"),
        ("O'Brien", "O'Brien"),
        ("Jean-Paul", "Jean-Paul"),
        ("", ""),
    ],
)
def test_a_cell_that_could_start_a_formula_gets_a_leading_apostrophe(text: str, safe: str) -> None:
    assert safe_cell(text) == safe
