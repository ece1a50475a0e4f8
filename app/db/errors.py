"""Database failures as the designed 503s, wherever they surface (routes, middleware, the intake writer).

A lock that did not come in time, a deadlock or a serialisation failure is ``503 busy_retry`` (nothing
changed; retry at once); a lost or refused connection is ``503 unavailable``. Both carry ``Retry-After``.
SQLAlchemy wraps driver errors for the routes, while the idempotency store and the async PostgreSQL intake
writer may meet the drivers' own (``sqlite3``, ``psycopg``): all of them end here, never in a 500.
"""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.domain.errors import BusyRetry, FairslotError, Unavailable

#: SQLSTATEs of contention: deadlock, serialisation failure, lock not available, and query cancelled
#: (``lock_timeout`` and ``statement_timeout`` end a statement with 55P03 and 57014).
CONTENTION_STATES = frozenset({"40P01", "40001", "55P03", "57014"})


def _driver_error(exc: BaseException) -> BaseException:
    return exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a failure of the database or its connection (not a bug of ours); a connection pool
    exhausted for its whole wait is one too (every connection busy: the database is the bottleneck)."""
    if isinstance(exc, PoolTimeout):
        return True
    if isinstance(exc, DBAPIError):
        return (
            isinstance(
                exc.orig, sqlite3.OperationalError | psycopg.OperationalError | psycopg.errors.QueryCanceled
            )
            or exc.connection_invalidated
            or _state(exc) in CONTENTION_STATES
        )
    return isinstance(exc, sqlite3.OperationalError | psycopg.OperationalError | psycopg.errors.QueryCanceled)


def _state(exc: BaseException) -> str | None:
    state: str | None = getattr(_driver_error(exc), "sqlstate", None)
    return state


def is_disconnect(exc: BaseException) -> bool:
    """Whether the connection was lost (worth one retry on a fresh connection)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    driver = _driver_error(exc)
    return bool(isinstance(driver, psycopg.OperationalError) and _state(exc) not in CONTENTION_STATES)


def as_problem(exc: BaseException) -> FairslotError | None:
    """The 503 a database failure answers, or None when ``exc`` is not one."""
    if not is_database_error(exc):
        return None
    driver = _driver_error(exc)
    if isinstance(exc, PoolTimeout):
        return BusyRetry(
            "every database connection is busy; nothing changed, retry", headers={"Retry-After": "1"}
        )
    if _state(exc) in CONTENTION_STATES or "database is locked" in str(driver) or "busy" in str(driver):
        return BusyRetry(
            "the request met a lock or a concurrent change; nothing changed, retry",
            headers={"Retry-After": "1"},
        )
    return Unavailable(
        "the database is unavailable; nothing changed, retry later", headers={"Retry-After": "5"}
    )
