"""Intake in batches: concurrent submissions of one process share a transaction.

Each ``POST /api/v1/requests`` is validated and prepared on the event loop (no database), then queued; a
single writer per process takes whatever has queued (up to ``MAX_BATCH``) and stores it in one
transaction: one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING`` for the requests, one for their
audit events, one look-up of recent no-shows, one commit. Under load this turns N transactions and their
round trips into one, and a submission waits at most for the batch ahead of it.

The rules do not change: the unique constraints on ``(service_id, active_identity_key)`` and
``(service_id, active_person_key)`` still decide duplicates, inside a batch as across batches and processes
(a row a constraint skipped is a ``409 duplicate_request``, or ``409 duplicate_person`` when no active request
holds its identity); identities and persons excluded after a refuted claim are looked up first and never
inserted (``409 identity_excluded``); the claims of the stored rows are written in the same transaction. A
failed batch fails each of its submissions, and nothing of it is stored.
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

from app.db.models import AppointmentRequest, AuditEvent, Claim, ClaimSanction, NoShow, Service
from app.db.types import utcnow
from app.domain.errors import DuplicatePerson, DuplicateRequest, FairslotError
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.services import catalog, claims, intake

log = logging.getLogger("fairslot.intake")
MAX_BATCH = 256
_REQUESTS = AppointmentRequest.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]


@dataclass
class Stored:
    """What the writer tells one submission: its columns (or None: refused) and its last no-show."""

    request: dict[str, Any] | None
    last_no_show: date | None
    error: FairslotError | None = None
    strict_vulnerability: bool = False


@dataclass
class _Pending:
    request: dict[str, Any]
    service: Service
    future: asyncio.Future[Stored]
    actor: str = "applicant"
    distinct_person: bool = False


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
        self, data: RequestCreate, now: datetime, *, actor: str = "applicant", distinct_person: bool = False
    ) -> tuple[dict[str, Any], Service, str, Stored]:
        """Store one request; returns its columns, its service, its access code and what the writer said.

        ``distinct_person`` must already be authorised (an agent's override); ``actor`` is who files it.
        """
        service = await _check_catalogue(self.runtime.engine, data)
        request, access_code = intake.prepare_values(
            data=data, service=service, pepper=self.runtime.pepper, now=now, distinct_person=distinct_person
        )
        future: asyncio.Future[Stored] = self.loop.create_future()
        self._queue.append(_Pending(request, service, future, actor, distinct_person))
        if not self._writing:
            self._writing = True
            self.loop.create_task(self._write_all())
        stored = await future
        if stored.error is not None:
            raise stored.error
        if stored.request is None:
            raise DuplicateRequest(intake.DUPLICATE_DETAIL)
        return stored.request, service, access_code, stored

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
    """Store a batch in one transaction; a request the unique constraint skipped comes back as ``None``."""
    with engine.begin() as conn:
        standings = claims.standing_from_rows(
            conn.execute(
                select(
                    ClaimSanction.digest,  # type: ignore[call-overload]
                    ClaimSanction.service_id,
                    ClaimSanction.effect,
                    ClaimSanction.until,
                ).where(ClaimSanction.digest.in_(_digests(batch)))  # type: ignore[attr-defined]
            ).all(),
            _today(batch),
        )
        refused = _excluded(batch, standings)
        admitted = [item for item in batch if item.request["id"] not in refused]
        if engine.dialect.name == "postgresql":
            inserted = _insert_postgresql(conn, admitted) if admitted else {}
        else:
            inserted = (
                {
                    row.id: row.seq
                    for row in conn.execute(
                        sqlite.insert(_REQUESTS)
                        .on_conflict_do_nothing()
                        .returning(_REQUESTS.c.id, _REQUESTS.c.seq),
                        [item.request for item in admitted],
                    )
                }
                if admitted
                else {}
            )
        stored = [item for item in admitted if item.request["id"] in inserted]
        skipped = [item for item in admitted if item.request["id"] not in inserted]
        if skipped:
            holders: set[tuple[str, int]] = set(
                conn.execute(
                    select(AppointmentRequest.active_identity_key, AppointmentRequest.service_id).where(  # type: ignore[call-overload]
                        AppointmentRequest.active_identity_key.in_(  # type: ignore[union-attr]
                            sorted({item.request["identity_key"] for item in skipped})
                        )
                    )
                ).tuples()
            )
            refused.update(_skip_reasons(skipped, holders))
        at = utcnow()
        if stored:
            conn.execute(insert(_AUDIT), _audit_events(stored, at))
            claim_rows = _claim_rows(stored, inserted)
            if claim_rows:
                conn.execute(insert(_CLAIMS), claim_rows)
        identities = sorted({item.request["identity_key"] for item in stored})
        no_shows: dict[tuple[str, int], date] = {}
        if identities:
            for identity, service_id, missed in conn.execute(
                select(NoShow.identity_key, NoShow.service_id, func.max(NoShow.missed_on))  # type: ignore[call-overload]
                .where(NoShow.identity_key.in_(identities))  # type: ignore[attr-defined]
                .group_by(NoShow.identity_key, NoShow.service_id)
            ):
                no_shows[(identity, service_id)] = missed
    return _results(batch, inserted, no_shows, refused, standings)


#: Column and array type of each request column, for the PostgreSQL path.
_PG_COLUMNS = (
    ("id", "text"),
    ("entry", "text"),
    ("service_id", "int"),
    ("offices", "json"),
    ("identity_key", "text"),
    ("active_identity_key", "text"),
    ("person_key", "text"),
    ("active_person_key", "text"),
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


def _insert_postgresql(conn: Any, batch: list[_Pending]) -> dict[str, int]:
    """One ``INSERT … SELECT FROM unnest(arrays)`` for the whole batch: one statement, no per-row binding."""
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(_PG_INSERT, _arrays(batch))
        return dict(cursor.fetchall())


async def write_batch_async(connection: psycopg.AsyncConnection[Any], batch: list[_Pending]) -> list[Stored]:
    """The PostgreSQL writer: three statements and a commit, without leaving the event loop."""
    at = utcnow()
    async with connection.transaction(), connection.cursor() as cursor:
        await cursor.execute(
            "SELECT digest, service_id, effect, until FROM claim_sanction WHERE digest = ANY(%s)",
            [_digests(batch)],
        )
        standings = claims.standing_from_rows(await cursor.fetchall(), _today(batch))
        refused = _excluded(batch, standings)
        admitted = [item for item in batch if item.request["id"] not in refused]
        inserted: dict[str, int] = {}
        if admitted:
            await cursor.execute(_PG_INSERT, _arrays(admitted))
            inserted = dict(await cursor.fetchall())
        stored = [item for item in admitted if item.request["id"] in inserted]
        skipped = [item for item in admitted if item.request["id"] not in inserted]
        if skipped:
            await cursor.execute(
                "SELECT active_identity_key, service_id FROM appointment_request "
                "WHERE active_identity_key = ANY(%s)",
                [sorted({item.request["identity_key"] for item in skipped})],
            )
            refused.update(_skip_reasons(skipped, set(await cursor.fetchall())))
        if stored:
            events = _audit_events(stored, at)
            await cursor.execute(
                "INSERT INTO audit_event (occurred_at, action, subject, actor, details) "
                "SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::json[])",
                [
                    [e["occurred_at"] for e in events],
                    [e["action"] for e in events],
                    [e["subject"] for e in events],
                    [e["actor"] for e in events],
                    [json.dumps(e["details"]) for e in events],
                ],
            )
            claim_rows = _claim_rows(stored, inserted)
            if claim_rows:
                await cursor.execute(
                    "INSERT INTO claim (request_seq, kind, declared, status) "
                    "SELECT * FROM unnest(%s::int[], %s::text[], %s::json[], %s::text[])",
                    [
                        [r["request_seq"] for r in claim_rows],
                        [r["kind"] for r in claim_rows],
                        [json.dumps(r["declared"]) for r in claim_rows],
                        [r["status"] for r in claim_rows],
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
    return _results(batch, inserted, no_shows, refused, standings)


def _digests(batch: list[_Pending]) -> list[str]:
    """The identity and person digests of a batch (what sanctions are keyed by)."""
    found = {item.request["identity_key"] for item in batch}
    found.update(item.request["person_key"] for item in batch if item.request.get("person_key"))
    return sorted(found)


def _today(batch: list[_Pending]) -> date:
    submitted: datetime = batch[0].request["submitted_at"]
    return submitted.date()


def _standing(item: _Pending, standings: dict[tuple[str, int], claims.Standing]) -> claims.Standing:
    request = item.request
    return claims.combined(
        standings, request["service_id"], request["identity_key"], request.get("person_key")
    )


def _excluded(
    batch: list[_Pending], standings: dict[tuple[str, int], claims.Standing]
) -> dict[str, FairslotError]:
    """The submissions refused because the identity or the person is excluded from the service."""
    refused: dict[str, FairslotError] = {}
    if not standings:
        return refused
    for item in batch:
        until = _standing(item, standings).excluded_until
        if until is not None:
            refused[item.request["id"]] = claims.excluded_error(until)
    return refused


def _skip_reasons(skipped: list[_Pending], holders: set[tuple[str, int]]) -> dict[str, FairslotError]:
    """Why a constraint skipped each row: its identity is active (duplicate request), else its person is."""
    reasons: dict[str, FairslotError] = {}
    for item in skipped:
        request = item.request
        if (request["identity_key"], request["service_id"]) in holders:
            reasons[request["id"]] = DuplicateRequest(intake.DUPLICATE_DETAIL)
        else:
            reasons[request["id"]] = DuplicatePerson(intake.DUPLICATE_PERSON_DETAIL)
    return reasons


def _audit_events(stored: list[_Pending], at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": at,
            "action": "request.submitted",
            "subject": f"request:{item.request['id']}",
            "actor": item.actor,
            "details": {
                "entry": item.request["entry"],
                "service": item.service.code,
                **({"distinct_person": True} if item.distinct_person else {}),
            },
        }
        for item in stored
    ]


def _claim_rows(stored: list[_Pending], inserted: dict[str, int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for item in stored:
        request = item.request
        rows.extend(
            claims.claim_rows(
                inserted[request["id"]], request["permit_expires_on"], request["vulnerabilities"]
            )
        )
    return rows


def _results(
    batch: list[_Pending],
    inserted: dict[str, int],
    no_shows: dict[tuple[str, int], date],
    refused: dict[str, FairslotError],
    standings: dict[tuple[str, int], claims.Standing],
) -> list[Stored]:
    results = []
    for item in batch:
        request = item.request
        if request["id"] in inserted:
            request["seq"] = inserted[request["id"]]
            results.append(
                Stored(
                    request,
                    no_shows.get((request["identity_key"], request["service_id"])),
                    strict_vulnerability=bool(standings) and _standing(item, standings).vulnerability_strict,
                )
            )
        else:
            results.append(Stored(None, None, refused.get(request["id"])))
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
