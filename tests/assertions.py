"""Assertions and database probes shared by the API tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import JSON, Engine, String, column, func, inspect, select, table

from app.runtime import Runtime


def count_rows(runtime: Runtime, model: Any) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model.__table__)).scalar_one()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert {"type", "title", "detail"} <= body.keys()
    return body


def text_cells(engine: Engine) -> Iterator[tuple[str, str, str]]:
    """Every text or JSON value of every table, as ``(table, column, text)``."""
    inspector = inspect(engine)
    columns = {
        name: [c["name"] for c in inspector.get_columns(name) if isinstance(c["type"], String | JSON)]
        for name in inspector.get_table_names()
    }
    with engine.connect() as conn:  # opened after the inspection: SQLite transactions take the write lock
        for table_name, names in columns.items():
            if not names:
                continue
            for row in conn.execute(select(*[column(n) for n in names]).select_from(table(table_name))):
                for name, value in zip(names, row, strict=True):
                    if value is None:
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    yield table_name, name, text
