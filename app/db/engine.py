"""Engines and sessions: SQLite in WAL mode with a busy timeout, PostgreSQL through psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 15_000


#: Connections a PostgreSQL pool may open unless told (``Settings.database_pool_capacity`` is the
#: service's; tests and tools take this), of which ``POOL_SIZE`` stay open between bursts.
POOL_CAPACITY = 40
POOL_SIZE = 10


def make_engine(url: str, *, capacity: int = POOL_CAPACITY, **kwargs: Any) -> Engine:
    """An engine for ``url`` tuned for its dialect; on PostgreSQL at most ``capacity`` connections."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", min(POOL_SIZE, capacity))
    kwargs.setdefault("max_overflow", capacity - kwargs["pool_size"])
    # No pre-ping (it costs a round trip per request); stale connections are recycled instead.
    kwargs.setdefault("pool_recycle", 300)
    return create_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling is switched off so that "begin" below decides.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        # A read transaction: a WAL snapshot that never takes (nor waits for) the write lock.
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    # BEGIN IMMEDIATE takes the write lock up front: SQLite has no row locks, so this is how a
    # read-check-write transaction stays serial instead of failing with "database is locked" midway.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


#: The execution option of a read-only connection (see :func:`read_snapshot`).
READ_ONLY = "fairslot_read_only"


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection for reading only: on SQLite a deferred transaction (a snapshot, no write lock), so a
    long read never stops the writers; elsewhere an ordinary transaction. Never commit through it."""
    with engine.connect() as conn:
        conn.execution_options(**{READ_ONLY: True})
        try:
            yield conn
        finally:
            conn.rollback()


@contextmanager
def begin_waiting_at_most(engine: Engine, seconds: float) -> Iterator[Connection]:
    """A transaction that waits at most ``seconds`` for SQLite's write lock (then "database is locked",
    a ``503 busy_retry``), for short work done on a request's way in: it must not outwait the request's own
    timeout. Elsewhere an ordinary transaction (PostgreSQL waits for row locks, not for the database)."""
    with engine.connect() as conn:
        raw = conn.connection.dbapi_connection if engine.dialect.name == "sqlite" else None
        if raw is not None:
            raw.execute(f"PRAGMA busy_timeout={max(1, int(seconds * 1000))}")
        try:
            with conn.begin():
                yield conn
        finally:
            if raw is not None:
                raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A plain transaction for tests and tools: commits at the end, rolls back on any exception.

    The application settles its transactions with ``app.services.unit_of_work`` (which also keeps what a
    ``FairslotError(keep_changes=True)`` asks to keep).
    """
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
