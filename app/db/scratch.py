"""Scratch PostgreSQL databases for the test suite and the benchmarks: created empty under a unique name
next to a server's own database, and dropped afterwards (its connections closed first)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, make_url, text


def _admin_url(base_url: str) -> str:
    return make_url(base_url.replace("postgresql://", "postgresql+psycopg://", 1)).render_as_string(
        hide_password=False
    )


def _run(base_url: str, statement: str) -> None:
    admin = create_engine(_admin_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(statement))
    finally:
        admin.dispose()


def create(base_url: str, prefix: str) -> tuple[str, str]:
    """A new empty database on ``base_url``'s server: its URL (psycopg 3) and its name, ``prefix_<hex>``."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    _run(base_url, f'CREATE DATABASE "{name}"')
    url = make_url(_admin_url(base_url)).set(database=name)
    return url.render_as_string(hide_password=False), name


def drop(base_url: str, name: str) -> None:
    """Drop the database ``name``, closing its connections."""
    _run(base_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database(base_url: str, prefix: str) -> Iterator[tuple[str, str]]:
    """A scratch database for the block: (URL, name); dropped on the way out, whatever happened."""
    url, name = create(base_url, prefix)
    try:
        yield url, name
    finally:
        drop(base_url, name)
