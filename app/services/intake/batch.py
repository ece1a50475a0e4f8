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

The rules do not change: the unique constraints on ``(service_id, active_identity_key)`` and
``(service_id, active_person_key)`` still decide duplicates, inside a batch as across batches and processes
(a row a constraint skipped is a ``409 duplicate_request``, or ``409 duplicate_person`` when no active request
holds its identity); identities and persons excluded after a refuted claim are looked up first and never
inserted (``409 identity_excluded``); the claims of the stored rows are written in the same transaction. A
failed batch fails each of its submissions, and nothing of it is stored.

A submission is prepared from this process's copy of its service (no catalogue query on the hot path); the
writer reads each service's ``revision`` in its transaction, and a submission prepared from an older copy
(an admin edited the service since) is not stored but prepared again from the database, so an edit counts
in every process from the moment it is committed.
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
from sqlmodel import Session, col

from app.db.errors import CONTENTION_STATES
from app.db.models import AppointmentRequest, AuditEvent, Claim, ClaimSanction, NoShow, OutboxMessage, Service
from app.db.types import utcnow
from app.domain.errors import BusyRetry, DuplicatePerson, DuplicateRequest, FairslotError
from app.domain.staff.actors import Via
from app.domain.verification import EntryVerification
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.services import audit
from app.services.claims import records
from app.services.intake import submission
from app.services.messages import outbox
from app.services.operations import catalog

log = logging.getLogger("fairslot.intake")
MAX_BATCH = 256
_REQUESTS = AppointmentRequest.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]
_OUTBOX = OutboxMessage.__table__  # type: ignore[attr-defined]
_CLAIMS = Claim.__table__  # type: ignore[attr-defined]


@dataclass
class Stored:
    """What the writer tells one submission: its columns (or None: refused) and its last no-show."""

    request: dict[str, Any] | None
    last_no_show: date | None
    error: FairslotError | None = None
    strict_vulnerability: bool = False


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
        self,
        data: RequestCreate,
        now: datetime,
        deadline: Hold | None = None,
        *,
        actor: str = "applicant",
        distinct_person: bool = False,
    ) -> tuple[dict[str, Any], Service, str, Stored]:
        """Store one request; returns its columns, its service, its access code and what the writer said.

        ``deadline`` is the request's (see the module's docstring): without one, a cancelled submission may
        still be written. ``distinct_person`` must already be authorised (an agent's override); ``actor`` is
        who files it.
        """
        for attempt in range(1, CATALOGUE_ATTEMPTS + 1):
            service = await _check_catalogue(self.runtime.engine, data)
            known = False
            if catalog.policy_of(service).entry_verification == EntryVerification.REGISTRY:
                known = await anyio.to_thread.run_sync(
                    _known_to_registry, self.runtime.engine, data, service, self.runtime.pepper, now
                )
            request, access_code = submission.prepare_values(
                data=data,
                service=service,
                pepper=self.runtime.pepper,
                now=now,
                distinct_person=distinct_person,
                registry_known=known,
            )
            future: asyncio.Future[Stored] = self.loop.create_future()
            self._queue.append(_Pending(request, service, future, deadline, actor, distinct_person))
            if not self._writing:
                self._writing = True
                self.loop.create_task(self._write_all())
            stored = await future
            if isinstance(stored.error, CatalogueChanged) and attempt < CATALOGUE_ATTEMPTS:
                # An admin edited the service since this process read it: read it again, prepare again.
                catalog.forget_service(self.runtime.engine, service.code)
                continue
            break
        if stored.error is not None:
            raise stored.error
        if stored.request is None:
            raise DuplicateRequest(submission.DUPLICATE_DETAIL)
        return stored.request, service, access_code, stored

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
            service = submission.check_catalogue(session, data)
            catalog.remember(session, service, data.offices)
        found = catalog.cached_service(engine, data.service)
        assert found is not None
        return found

    return await anyio.to_thread.run_sync(check)


class CatalogueChanged(BusyRetry):
    """A submission prepared from a copy of its service older than the service's revision: never stored,
    prepared again (``CATALOGUE_ATTEMPTS`` times at most, then a 503 ``busy_retry``)."""


#: How many times a submission is prepared when admins keep editing its service meanwhile.
CATALOGUE_ATTEMPTS = 3


def _stale(batch: list[_Pending], revisions: Any) -> dict[str, FairslotError]:
    """The submissions prepared from an older revision of their service than the database's."""
    current = dict(revisions)
    return {
        item.request["id"]: CatalogueChanged("the service changed while the request was prepared; retry")
        for item in batch
        if current.get(item.service.id) != item.service.revision
    }


def _service_ids(batch: list[_Pending]) -> list[int]:
    return sorted({item.request["service_id"] for item in batch})


def write_batch(engine: Engine, batch: list[_Pending]) -> list[Stored]:
    """The SQLite writer: a batch in one transaction; a request the unique constraint skipped comes back as
    ``None``. PostgreSQL batches go through ``write_batch_async`` instead."""
    with engine.begin() as conn:
        standings = records.standing_from_rows(
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
        refused.update(
            _stale(
                batch,
                conn.execute(
                    select(Service.id, Service.revision).where(col(Service.id).in_(_service_ids(batch)))  # type: ignore[call-overload]
                ).all(),
            )
        )
        unverified = _unverified_persons(batch, refused)
        if unverified:
            persons = conn.execute(
                select(
                    AppointmentRequest.active_person_key,  # type: ignore[call-overload]
                    AppointmentRequest.service_id,
                    AppointmentRequest.identity_key,
                ).where(AppointmentRequest.active_person_key.in_(unverified))  # type: ignore[union-attr]
            ).all()
            refused.update(_held_persons(batch, refused, persons))
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
            received = outbox.received_rows(item.request for item in stored)
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
    ("family_name_folded", "text"),
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
    ("verification_status", "text"),
    ("verification_method", "text"),
    ("verify_by", "timestamptz"),
    ("verified_at", "timestamptz"),
    ("phone_digest", "text"),
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
        await cursor.execute(
            "SELECT digest, service_id, effect, until FROM claim_sanction WHERE digest = ANY(%s)",
            [_digests(batch)],
        )
        standings = records.standing_from_rows(await cursor.fetchall(), _today(batch))
        refused = _excluded(batch, standings)
        await cursor.execute("SELECT id, revision FROM service WHERE id = ANY(%s)", [_service_ids(batch)])
        refused.update(_stale(batch, await cursor.fetchall()))
        unverified = _unverified_persons(batch, refused)
        if unverified:
            await cursor.execute(
                "SELECT active_person_key, service_id, identity_key FROM appointment_request "
                "WHERE active_person_key = ANY(%s)",
                [unverified],
            )
            refused.update(_held_persons(batch, refused, await cursor.fetchall()))
        admitted = [item for item in batch if item.request["id"] not in refused]
        inserted: dict[str, int] = {}
        inserted_now: dict[str, int] = {}
        if admitted:
            await cursor.execute(_PG_INSERT, _arrays(admitted))
            inserted_now = dict(await cursor.fetchall())
            inserted = inserted_now
            if retried and len(inserted_now) < len(admitted):
                missing = [item.request["id"] for item in admitted if item.request["id"] not in inserted_now]
                await cursor.execute("SELECT id, seq FROM appointment_request WHERE id = ANY(%s)", [missing])
                earlier: dict[str, int] = dict(await cursor.fetchall())
                inserted = {**inserted_now, **earlier}
        stored = [item for item in admitted if item.request["id"] in inserted_now]
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
                "INSERT INTO audit_event (occurred_at, action, subject, actor, details, actor_account_id, "
                "actor_key_id, actor_name, via, office) "
                "SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::json[], "
                "%s::int[], %s::int[], %s::text[], %s::text[], %s::text[])",
                [
                    [e["occurred_at"] for e in events],
                    [e["action"] for e in events],
                    [e["subject"] for e in events],
                    [e["actor"] for e in events],
                    [json.dumps(e["details"]) for e in events],
                    [e["actor_account_id"] for e in events],
                    [e["actor_key_id"] for e in events],
                    [e["actor_name"] for e in events],
                    [e["via"] for e in events],
                    [e["office"] for e in events],
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
            received = outbox.received_rows(item.request for item in stored)
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
    return _results(batch, inserted, no_shows, refused, standings)


def _digests(batch: list[_Pending]) -> list[str]:
    """The identity and person digests of a batch (what sanctions are keyed by)."""
    found = {item.request["identity_key"] for item in batch}
    found.update(item.request["person_key"] for item in batch if item.request.get("person_key"))
    return sorted(found)


def _today(batch: list[_Pending]) -> date:
    submitted: datetime = batch[0].request["submitted_at"]
    return submitted.date()


def _standing(item: _Pending, standings: dict[tuple[str, int], records.Standing]) -> records.Standing:
    request = item.request
    return records.combined(
        standings, request["service_id"], request["identity_key"], request.get("person_key")
    )


def _excluded(
    batch: list[_Pending], standings: dict[tuple[str, int], records.Standing]
) -> dict[str, FairslotError]:
    """The submissions refused because the identity or the person is excluded from the service."""
    refused: dict[str, FairslotError] = {}
    if not standings:
        return refused
    for item in batch:
        until = _standing(item, standings).excluded_until
        if until is not None:
            refused[item.request["id"]] = records.excluded_error(until)
    return refused


def _unverified_persons(batch: list[_Pending], refused: dict[str, FairslotError]) -> list[str]:
    """The person keys of the unverified submissions (they hold no person key, so no constraint checks
    them): a verified request of the same person blocks them too."""
    return sorted(
        {
            item.request["person_key"]
            for item in batch
            if item.request["id"] not in refused
            and item.request.get("person_key")
            and item.request.get("active_person_key") is None
            and not item.distinct_person
        }
    )


def _held_persons(
    batch: list[_Pending], refused: dict[str, FairslotError], holders: Any
) -> dict[str, FairslotError]:
    """The unverified submissions whose person a verified active request of the service holds under
    another document: ``409 duplicate_person``."""
    held = {(person, service_id): identity for person, service_id, identity in holders}
    found: dict[str, FairslotError] = {}
    for item in batch:
        request = item.request
        if request["id"] in refused or request.get("active_person_key") is not None or item.distinct_person:
            continue
        identity = held.get((request.get("person_key"), request["service_id"]))
        if identity is not None and identity != request["identity_key"]:
            found[request["id"]] = DuplicatePerson(submission.DUPLICATE_PERSON_DETAIL)
    return found


def _skip_reasons(skipped: list[_Pending], holders: set[tuple[str, int]]) -> dict[str, FairslotError]:
    """Why a constraint skipped each row: its identity is active (duplicate request), else its person is."""
    reasons: dict[str, FairslotError] = {}
    for item in skipped:
        request = item.request
        if (request["identity_key"], request["service_id"]) in holders:
            reasons[request["id"]] = DuplicateRequest(submission.DUPLICATE_DETAIL)
        else:
            reasons[request["id"]] = DuplicatePerson(submission.DUPLICATE_PERSON_DETAIL)
    return reasons


def _audit_events(stored: list[_Pending], at: datetime) -> list[dict[str, Any]]:
    return [
        {
            "occurred_at": item.request["submitted_at"],  # the runtime clock's, as the request's
            "action": "request.submitted",
            "subject": f"request:{item.request['id']}",
            **audit.actor_columns(item.actor, Via.API),
            "office": item.request["offices"][0] if item.request.get("offices") else None,
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
            records.claim_rows(
                inserted[request["id"]], request["permit_expires_on"], request["vulnerabilities"]
            )
        )
    return rows


def _results(
    batch: list[_Pending],
    inserted: dict[str, int],
    no_shows: dict[tuple[str, int], date],
    refused: dict[str, FairslotError],
    standings: dict[tuple[str, int], records.Standing],
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


def _known_to_registry(
    engine: Engine, data: RequestCreate, service: Service, pepper: bytes, now: datetime
) -> bool:
    with engine.connect() as connection:
        return submission.known_to_registry(connection, data, service, pepper, now)
