"""Bulk inserts: COPY on PostgreSQL (a draw may write a million rows), executemany elsewhere."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session

_BATCH = 5000


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
