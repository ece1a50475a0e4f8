"""Reading a great many rows fast: plain tuples from a server-side cursor, a batch at a time.

A draw reads every pending request of a service (up to a million rows). SQLAlchemy's result rows cost more
per row than the draw's own work on them, so on PostgreSQL the statement is compiled by SQLAlchemy, its
parameters bound by their column types, and the rows read straight from the driver's named cursor; on
SQLite, SQLAlchemy's own streamed result.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count
from typing import Any

from sqlalchemy import Select
from sqlmodel import Session

_names = count(1)


def stream_tuples(session: Session, statement: Select[Any], batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """The rows of ``statement`` as tuples, read ``batch`` at a time, in the session's transaction.

    On PostgreSQL values are what the driver makes of them (a ``timestamptz`` is an aware datetime, not
    necessarily in UTC). Consume or close the iterator before the session runs another statement.
    """
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name != "postgresql":
        yield from connection.execute(statement.execution_options(yield_per=batch)).tuples()
        return
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    binds = compiled.binds
    params: dict[str, Any] = {}
    for name, value in compiled.params.items():
        # An expanded IN list names its values ``<bind>_1``, ``<bind>_2``...: each takes its bind's type.
        bind = binds[name] if name in binds else binds[name.rsplit("_", 1)[0]]
        process = bind.type.bind_processor(dialect)
        params[name] = process(value) if process is not None else value
    raw = connection.connection.driver_connection
    assert raw is not None
    with raw.cursor(name=f"fairslot_stream_{next(_names)}") as cursor:
        cursor.itersize = batch
        cursor.execute(str(compiled), params)
        while rows := cursor.fetchmany(batch):
            yield from rows
