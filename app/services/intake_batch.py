"""Intake in batches: concurrent submissions of one process share a transaction.

Each ``POST /api/v1/requests`` is validated and prepared on the event loop (no database), then queued; a
single writer per process takes whatever has queued (up to ``MAX_BATCH``) and stores it in one
transaction: one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the requests, one for their
audit events, one look-up of recent no-shows, one commit. Under load this turns N transactions and their
round trips into one, and a submission waits at most for the batch ahead of it.

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
from typing import Any

import anyio.to_thread
import psycopg
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.dialects import sqlite
from sqlmodel import Session

from app.db.models import AppointmentRequest, AuditEvent, NoShow, Service
from app.domain.errors import DuplicateRequest
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.services import catalog, intake

log = logging.getLogger("fairslot.intake")
MAX_BATCH = 256
_REQUESTS = AppointmentRequest.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass
class Stored:
    """What the writer tells one submission: its columns (or None: a duplicate) and its last no-show."""

    request: dict[str, Any] | None
    last_no_show: date | None


@dataclass
class _Pending:
    request: dict[str, Any]
    service: Service
    future: asyncio.Future[Stored]


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
        if self._connection is None or self._connection.closed:
            url = self.runtime.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._connection = await psycopg.AsyncConnection.connect(url)
        try:
            return await write_batch_async(self._connection, batch)
        except Exception:
            await self.aclose()  # a broken connection is replaced on the next batch
            raise

    async def submit(
        self, data: RequestCreate, now: datetime
    ) -> tuple[dict[str, Any], Service, str, date | None]:
        """Store one request; returns its columns, its service, its access code and the identity's last no-show."""
        service = await _check_catalogue(self.runtime.engine, data)
        request, access_code = intake.prepare_values(
            data=data, service=service, pepper=self.runtime.pepper, now=now
        )
        future: asyncio.Future[Stored] = self.loop.create_future()
        self._queue.append(_Pending(request, service, future))
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
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
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


async def _check_catalogue(engine: Engine, data: RequestCreate) -> Service:
    cached = catalog.cached_service(engine, data.service)
    if cached is not None and all(catalog.cached_office(engine, code) for code in data.offices):
        return cached  # the usual case: no database, no thread

    def check() -> Service:
        with Session(engine) as session:
            return intake.check_catalogue(session, data)

    return await anyio.to_thread.run_sync(check)


def write_batch(engine: Engine, batch: list[_Pending]) -> list[Stored]:
    """The SQLite writer: a batch in one transaction; a request the unique constraint skipped comes back as
    ``None``. PostgreSQL batches go through ``write_batch_async`` instead."""
    with engine.begin() as conn:
        inserted = {
            row.id: row.seq
            for row in conn.execute(
                sqlite.insert(_REQUESTS).on_conflict_do_nothing().returning(_REQUESTS.c.id, _REQUESTS.c.seq),
                [item.request for item in batch],
            )
        }
        stored = [item for item in batch if item.request["id"] in inserted]
        if stored:
            events = [
                {
                    "occurred_at": item.request["submitted_at"],
                    "action": "request.submitted",
                    "subject": f"request:{item.request['id']}",
                    "actor": "applicant",
                    "details": {"entry": item.request["entry"], "service": item.service.code},
                }
                for item in stored
            ]
            conn.execute(insert(_AUDIT), events)
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


async def write_batch_async(connection: psycopg.AsyncConnection[Any], batch: list[_Pending]) -> list[Stored]:
    """The PostgreSQL writer: three statements and a commit, without leaving the event loop."""
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(_PG_INSERT, _arrays(batch))
        inserted: dict[str, int] = dict(await cursor.fetchall())
        stored = [item for item in batch if item.request["id"] in inserted]
        if stored:
            await cursor.execute(
                "INSERT INTO audit_event (occurred_at, action, subject, actor, details) "
                "SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::json[])",
                [
                    [item.request["submitted_at"] for item in stored],
                    ["request.submitted"] * len(stored),
                    [f"request:{item.request['id']}" for item in stored],
                    ["applicant"] * len(stored),
                    [
                        json.dumps({"entry": item.request["entry"], "service": item.service.code})
                        for item in stored
                    ],
                ],
            )
            await cursor.execute(
                "SELECT identity_key, service_id, max(missed_on) FROM no_show "
                "WHERE identity_key = ANY(%s) GROUP BY identity_key, service_id",
                [sorted({item.request["identity_key"] for item in stored})],
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
