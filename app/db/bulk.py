"""Bulk inserts: COPY on PostgreSQL (a draw may write a million rows), executemany elsewhere; and the
upkeep of the indexes such writes append to."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlmodel import Session

_BATCH = 5000
#: COPY lines sent to the server at a time.
_COPY_PIECE = 10_000
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_lines(session: Session, table: Table, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY rows the caller wrote in PostgreSQL's text format (a line each, values escaped), gathered into
    pieces: for the million rows of a draw, one f-string per row instead of a driver call per row."""
    raw = session.connection().connection.driver_connection
    assert raw is not None
    with raw.cursor() as cursor, cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        piece: list[str] = []
        for line in lines:
            piece.append(line)
            if len(piece) >= _COPY_PIECE:
                copy.write("".join(piece))
                piece = []
        if piece:
            copy.write("".join(piece))


def settle_appended(session: Session, table: str, brin_index: str) -> None:
    """After a bulk append to ``table`` (PostgreSQL; nothing elsewhere): summarize the pages appended since
    ``brin_index``'s last summary, and refresh the planner's statistics of the table.

    Until then a query on those pages reads every one of them, and a planner that has no statistics yet
    (the first big draw) would scan the whole table for a few ranks; autovacuum would get to both, but
    later. Called outside the transaction that appended, and once per append: ``ANALYZE`` samples a fixed
    number of rows, a fraction of a second whatever the table's size.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT brin_summarize_new_values(CAST(:index AS regclass))"), {"index": brin_index}
        )
        session.execute(text(f"ANALYZE {table}"))  # our own table name, never input


def copy_text(value: str | None) -> str:
    """A text value as COPY text reads it (``\\N`` for NULL, backslashes and line breaks escaped)."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


def bulk_insert(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    json_ready: bool = False,
) -> None:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table`` within the session's transaction.

    With ``json_ready`` the JSON columns already hold JSON text (or None).
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        json_columns = {
            i for i, name in enumerate(columns) if table.c[name].type.__class__.__name__ == "JSON"
        }
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                if json_columns and not json_ready:
                    row = [
                        json.dumps(v) if i in json_columns and v is not None else v for i, v in enumerate(row)
                    ]
                copy.write_row(row)
        return
    decode = json_ready and any(table.c[name].type.__class__.__name__ == "JSON" for name in columns)
    json_names = {name for name in columns if table.c[name].type.__class__.__name__ == "JSON"}
    batch: list[dict[str, Any]] = []
    for row in rows:
        item = dict(zip(columns, row, strict=True))
        if decode:
            for name in json_names:
                if item[name] is not None:
                    item[name] = json.loads(item[name])
        batch.append(item)
        if len(batch) >= _BATCH:
            session.execute(insert(table), batch)
            batch = []
    if batch:
        session.execute(insert(table), batch)
