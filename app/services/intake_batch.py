"""Intake in batches: concurrent submissions of one process share a transaction.

Each ``POST /api/v1/requests`` is validated and prepared on the event loop (no database), then queued; a
single writer per process takes whatever has queued (up to ``MAX_BATCH``) and stores it in one
transaction: one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the requests, one for their
audit events, one look-up of recent no-shows, one commit. Under load this turns N transactions and their
round trips into one, and a submission waits at most for the batch ahead of it. The "request received"
messages join the same transaction (one more multi-row insert into the outbox).

A submission is either written or abandoned, never both: one whose request was abandoned (its timeout
answered 503) before the writer took it is dropped; once taken, the writer holds off the request's deadline
(:data:`WRITE_HOLD_SECONDS`, longer than any write can last) so that its true answer, the 201 or the 503 of a
failed batch, is what the client sees. A lost PostgreSQL connection is retried once on a new one (rows the
first attempt did commit are recognised by their id).

The rules do not change: the unique constraint on ``(service_id, active_identity_key)`` still decides
duplicates, inside a batch as across batches and processes (a row the constraint skipped is a
``409 duplicate_request``); a failed batch fails each of its submissions, and nothing of it is stored.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import anyio.to_thread
import psycopg
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from app.db.errors import CONTENTION_STATES
from app.db.models import AppointmentRequest, AuditEvent, NoShow, OutboxMessage, Service
from app.db.types import utcnow
from app.domain.errors import DuplicateRequest
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.services import catalog, intake, notifications

log = logging.getLogger("fairslot.intake")
MAX_BATCH = 256
_REQUESTS = AppointmentRequest.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]


@dataclass
class Stored:
    """What the writer tells one submission: its columns (or None: a duplicate) and its last no-show."""

    request: dict[str, Any] | None
    last_no_show: date | None


class Hold(Protocol):
    """What the writer asks of a submission's request before writing it (``app.http.middleware.Deadline``)."""

    def hold(self, seconds: float) -> bool:
        """Keep the request alive ``seconds`` more; False once it was abandoned."""
        ...


#: How long a batch may take once taken, at most: SQLite's busy timeout (15 s) or PostgreSQL's lock and
#: statement timeouts of the writer's connection (5 s and 10 s), with room to spare.
WRITE_HOLD_SECONDS = 20.0
_PG_OPTIONS = "-c lock_timeout=5000 -c statement_timeout=10000"


@dataclass
class _Pending:
    request: dict[str, Any]
    service: Service
    future: asyncio.Future[Stored]
    deadline: Hold | None = None


class IntakeBatcher:
    """Queues prepared requests and writes them in shared transactions, one writer at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.loop = asyncio.get_running_loop()
        self._queue: list[_Pending] = []
        self._writing = False
        # On PostgreSQL the writer talks to the database from the event loop itself (psycopg's async
        # connection): no thread to hand the GIL to, so a flood on the loop does not stall the batch.
        self._postgres = runtime.engine.dialect.name == "postgresql"
        self._connection: psycopg.AsyncConnection[Any] | None = None

    async def aclose(self) -> None:
        """Close the writer's connection (application shutdown)."""
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _write(self, batch: list[_Pending]) -> list[Stored]:
        if not self._postgres:
            return await anyio.to_thread.run_sync(write_batch, self.runtime.engine, batch)
        for attempt in (1, 2):
            if self._connection is None or self._connection.closed:
                url = self.runtime.engine.url.set(drivername="postgresql").render_as_string(
                    hide_password=False
                )
                self._connection = await psycopg.AsyncConnection.connect(url, options=_PG_OPTIONS)
            try:
                return await write_batch_async(self._connection, batch, retried=attempt > 1)
            except psycopg.OperationalError as exc:
                await self.aclose()  # a broken connection is replaced
                if attempt > 1 or _contention(exc):
                    raise
                log.warning("intake writer lost its connection; retrying the batch once")
            except Exception:
                await self.aclose()
                raise
        raise AssertionError("unreachable")

    async def submit(
        self, data: RequestCreate, now: datetime, deadline: Hold | None = None
    ) -> tuple[dict[str, Any], Service, str, date | None]:
        """Store one request; returns its columns, its service, its access code and the identity's last no-show.

        ``deadline`` is the request's (see the module's docstring): without one, a cancelled submission may
        still be written."""
        service = await _check_catalogue(self.runtime.engine, data)
        request, access_code = intake.prepare_values(
            data=data, service=service, pepper=self.runtime.pepper, now=now
        )
        future: asyncio.Future[Stored] = self.loop.create_future()
        self._queue.append(_Pending(request, service, future, deadline))
        if not self._writing:
            self._writing = True
            self.loop.create_task(self._write_all())
        stored = await future
        if stored.request is None:
            raise DuplicateRequest(intake.DUPLICATE_DETAIL)
        return stored.request, service, access_code, stored.last_no_show

    async def _write_all(self) -> None:
        try:
            while self._queue:
                taken, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                batch = [item for item in taken if _still_wanted(item)]
                if not batch:
                    continue
                try:
                    results = await self._write(batch)
                except Exception as exc:
                    log.exception("intake batch of %s failed", len(batch))
                    for item in batch:
                        if not item.future.done():
                            item.future.set_exception(exc)
                    continue
                for item, result in zip(batch, results, strict=True):
                    if not item.future.done():
                        item.future.set_result(result)
        finally:
            self._writing = False


def _still_wanted(item: _Pending) -> bool:
    """Whether a queued submission is still awaited, its request's deadline then held for the write."""
    if item.future.done():  # cancelled: the request was abandoned while it waited
        return False
    if item.deadline is not None and not item.deadline.hold(WRITE_HOLD_SECONDS):
        item.future.cancel()
        return False
    return True


def _contention(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) in CONTENTION_STATES


async def _check_catalogue(engine: Engine, data: RequestCreate) -> Service:
    cached = catalog.cached_service(engine, data.service)
    if cached is not None and all(catalog.cached_office(engine, code) for code in data.offices):
        return cached  # the usual case: no database, no thread

    def check() -> Service:
        with Session(engine) as session:
            return intake.check_catalogue(session, data)

    return await anyio.to_thread.run_sync(check)


def write_batch(engine: Engine, batch: list[_Pending]) -> list[Stored]:
    """Store a batch in one transaction; a request the unique constraint skipped comes back as ``None``."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            inserted = _insert_postgresql(conn, batch)
        else:
            inserted = {
                row.id: row.seq
                for row in conn.execute(
                    sqlite.insert(_REQUESTS)
                    .on_conflict_do_nothing()
                    .returning(_REQUESTS.c.id, _REQUESTS.c.seq),
                    [item.request for item in batch],
                )
            }
        stored = [item for item in batch if item.request["id"] in inserted]
        at = utcnow()
        if stored:
            events = [
                {
                    "occurred_at": at,
                    "action": "request.submitted",
                    "subject": f"request:{item.request['id']}",
                    "actor": "applicant",
                    "details": {"entry": item.request["entry"], "service": item.service.code},
                }
                for item in stored
            ]
            conn.execute(insert(_AUDIT), events)
            received = notifications.received_rows(item.request for item in stored)
            if received:
                conn.execute(insert(_OUTBOX), received)
        identities = sorted({item.request["identity_key"] for item in stored})
        no_shows: dict[tuple[str, int], date] = {}
        if identities:
            for identity, service_id, missed in conn.execute(
                select(NoShow.identity_key, NoShow.service_id, func.max(NoShow.missed_on))  # type: ignore[call-overload]
                .where(NoShow.identity_key.in_(identities))  # type: ignore[attr-defined]
                .group_by(NoShow.identity_key, NoShow.service_id)
            ):
                no_shows[(identity, service_id)] = missed
    return _results(batch, inserted, no_shows)


#: Column and array type of each request column, for the PostgreSQL path.
_PG_COLUMNS = (
    ("id", "text"),
    ("entry", "text"),
    ("service_id", "int"),
    ("offices", "json"),
    ("identity_key", "text"),
    ("active_identity_key", "text"),
    ("family_name", "text"),
    ("given_names", "text"),
    ("permit_expires_on", "date"),
    ("vulnerabilities", "json"),
    ("availability", "json"),
    ("email", "text"),
    ("phone", "text"),
    ("language", "text"),
    ("access_code_hash", "text"),
    ("status", "text"),
    ("submitted_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("closed_at", "timestamptz"),
    ("purged_at", "timestamptz"),
)
_PG_INSERT = (
    f"INSERT INTO appointment_request ({', '.join(name for name, _t in _PG_COLUMNS)}) "  # noqa: S608 - constants
    f"SELECT * FROM unnest({', '.join(f'%s::{kind}[]' for _n, kind in _PG_COLUMNS)}) "
    "ON CONFLICT DO NOTHING RETURNING id, seq"
)


_OUTBOX_COLUMNS = (
    "request_id",
    "channel",
    "kind",
    "language",
    "recipient",
    "context",
    "status",
    "attempts",
    "next_attempt_at",
    "created_at",
)


def _insert_postgresql(conn: Any, batch: list[_Pending]) -> dict[str, int]:
    """One ``INSERT … SELECT FROM unnest(arrays)`` for the whole batch: one statement, no per-row binding."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(_PG_INSERT, _arrays(batch))
        return dict(cursor.fetchall())


async def write_batch_async(
    connection: psycopg.AsyncConnection[Any], batch: list[_Pending], *, retried: bool = False
) -> list[Stored]:
    """The PostgreSQL writer: three statements and a commit, without leaving the event loop.

    ``retried``: a first attempt lost its connection, perhaps after its commit; rows it stored are found
    by their id and reported as stored (their audit rows came with them), not as duplicates."""
    at = utcnow()
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(_PG_INSERT, _arrays(batch))
        inserted: dict[str, int] = dict(await cursor.fetchall())
        if retried and len(inserted) < len(batch):
            missing = [item.request["id"] for item in batch if item.request["id"] not in inserted]
            await cursor.execute("SELECT id, seq FROM appointment_request WHERE id = ANY(%s)", [missing])
            earlier: dict[str, int] = dict(await cursor.fetchall())
            inserted_now, inserted = inserted, {**inserted, **earlier}
        else:
            inserted_now = inserted
        stored = [item for item in batch if item.request["id"] in inserted_now]
        if stored:
            await cursor.execute(
                "INSERT INTO audit_event (occurred_at, action, subject, actor, details) "
                "SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::json[])",
                [
                    [at] * len(stored),
                    ["request.submitted"] * len(stored),
                    [f"request:{item.request['id']}" for item in stored],
                    ["applicant"] * len(stored),
                    [
                        json.dumps({"entry": item.request["entry"], "service": item.service.code})
                        for item in stored
                    ],
                ],
            )
            received = notifications.received_rows(item.request for item in stored)
            if received:
                await cursor.execute(
                    "INSERT INTO outbox_message (request_id, channel, kind, language, recipient, context, "
                    "status, attempts, next_attempt_at, created_at) SELECT * FROM unnest(%s::text[], "
                    "%s::text[], %s::text[], %s::text[], %s::text[], %s::json[], %s::text[], %s::int[], "
                    "%s::timestamptz[], %s::timestamptz[])",
                    [
                        [r[name] for r in received]
                        if name != "context"
                        else [json.dumps(r["context"]) for r in received]
                        for name in _OUTBOX_COLUMNS
                    ],
                )
            await cursor.execute(
                "SELECT identity_key, service_id, max(missed_on) FROM no_show "
                "WHERE identity_key = ANY(%s) GROUP BY identity_key, service_id",
                [sorted({item.request["identity_key"] for item in batch if item.request["id"] in inserted})],
            )
            no_shows = {
                (identity, service_id): missed for identity, service_id, missed in await cursor.fetchall()
            }
        else:
            no_shows = {}
    return _results(batch, inserted, no_shows)


def _results(
    batch: list[_Pending], inserted: dict[str, int], no_shows: dict[tuple[str, int], date]
) -> list[Stored]:
    results = []
    for item in batch:
        request = item.request
        if request["id"] in inserted:
            request["seq"] = inserted[request["id"]]
            results.append(Stored(request, no_shows.get((request["identity_key"], request["service_id"]))))
        else:
            results.append(Stored(None, None))
    return results


def _arrays(batch: list[_Pending]) -> list[list[Any]]:
    arrays: list[list[Any]] = [[] for _ in _PG_COLUMNS]
    for item in batch:
        for values, (name, kind) in zip(arrays, _PG_COLUMNS, strict=True):
            value = item.request[name]
            values.append(json.dumps(value) if kind == "json" and value is not None else value)
    return arrays


def batcher_for(app_state: Any, runtime: Runtime) -> IntakeBatcher:
    """The batcher of this process, runtime and event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    batcher: IntakeBatcher | None = getattr(app_state, "intake_batcher", None)
    if batcher is None or batcher.runtime is not runtime or batcher.loop is not loop:
        batcher = app_state.intake_batcher = IntakeBatcher(runtime)
    return batcher
