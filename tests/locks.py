"""Holding a database lock from another connection for a while (another client, a long migration)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy import Engine


@contextmanager
def locked_for(engine: Engine, seconds: float, table: str = "appointment_request") -> Iterator[None]:
    """Writes wait ``seconds``: SQLite's write lock (``BEGIN IMMEDIATE``), or on PostgreSQL ``LOCK TABLE
    table IN SHARE MODE``, held by another connection; released in the background after ``seconds``."""
    taken = threading.Event()

    def hold() -> None:
        url = engine.url
        if url.get_backend_name() == "sqlite":
            conn = sqlite3.connect(url.database or "", isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            conn.execute("ROLLBACK")
            conn.close()
            return
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as pg:
            pg.execute(f"LOCK TABLE {table} IN SHARE MODE")
            taken.set()
            time.sleep(seconds)
            pg.rollback()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    taken.wait(10)
    try:
        yield
    finally:
        thread.join()
