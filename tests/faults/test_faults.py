"""Fault injection: a dependency hangs or dies, the service keeps answering, and nothing is lost.

Each test breaks one real component (no mocks): a Redis that accepts connections and never answers, the
PostgreSQL backends killed under the service (``pg_terminate_backend``), SQLite held locked by another
connection. Applicants keep submitting with an ``Idempotency-Key`` and retry what failed, as a client
should; at the end every applicant who got a 201 (or whose retry did) is stored exactly once, nothing else
is, no key is left in progress, and the service answers again. Latencies are printed (``-s``), never
asserted. The hung SMTP server has its own file (the messages engineer's).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import AppointmentRequest, IdempotencyRecord
from app.http import ratelimit
from app.main import create_app
from app.runtime import Runtime
from tests.conftest import test_settings
from tests.factories import World, request_body
from tests.locks import locked_for

RETRIES = 8


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _stored(runtime: Runtime) -> set[str]:
    with runtime.engine.connect() as conn:
        return set(conn.execute(select(AppointmentRequest.id)).scalars())  # type: ignore[call-overload]


def _in_progress(runtime: Runtime) -> int:
    table = IdempotencyRecord.__table__  # type: ignore[attr-defined]
    with runtime.engine.connect() as conn:
        return int(conn.execute(select(func.count()).where(table.c.status_code == 0)).scalar_one())


def _apply_until_answered(client: TestClient, body: dict[str, Any], key: str) -> tuple[list[int], Any, float]:
    """Submit, retrying a 503 with the same key as a client does; the statuses, the last answer and the
    first attempt's latency."""
    statuses: list[int] = []
    first = 0.0
    for attempt in range(RETRIES):
        started = time.perf_counter()
        response = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": key})
        if attempt == 0:
            first = time.perf_counter() - started
        statuses.append(response.status_code)
        if response.status_code != 503:
            return statuses, response, first
        time.sleep(float(response.headers.get("retry-after", "1")) / 4)
    return statuses, response, first


def _nothing_lost(runtime: Runtime, answers: dict[str, Any]) -> None:
    """Every applicant answered 201 is stored once, under the id it was given; nothing else is stored."""
    created = {key: r.json()["id"] for key, r in answers.items() if r.status_code == 201}
    assert len(created) == len(answers), {k: r.status_code for k, r in answers.items()}
    assert _stored(runtime) == set(created.values())
    assert _in_progress(runtime) == 0


def _answers_again(client: TestClient, world: World, answers: dict[str, Any]) -> None:
    """The fault is over: the service is ready and takes a new submission (added to ``answers``)."""
    assert client.get("/readyz").status_code == 200
    fresh = client.post("/api/v1/requests", json=request_body(world.service, [world.office]))
    assert fresh.status_code == 201, fresh.text
    answers["after"] = fresh


# --- a Redis that accepts connections and never answers ---------------------------------------------------


@pytest.fixture
def hung_redis() -> Iterator[str]:
    """A TCP server that accepts every connection and never sends a byte; its redis:// URL."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)  # read nothing, answer nothing

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(2)
    for connection in held:
        connection.close()
    server.close()


def test_a_hung_redis_costs_one_short_timeout_then_the_limiter_counts_in_this_process(
    runtime: Runtime, world: World, hung_redis: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Twenty-one submissions from one address within a second or so: a ceiling whose share per address
    # block (a tenth) lets them all through, so that only the hung Redis is tested.
    settings = test_settings(
        runtime.settings.database_url, rate_limits="on", redis_url=hung_redis, intake_ceiling_per_second=1000
    )
    answers: dict[str, Any] = {}
    latencies: list[float] = []
    with TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False) as client:
        for n in range(20):
            _statuses, answer, latency = _apply_until_answered(
                client, request_body(world.service, [world.office]), f"redis-{n}"
            )
            answers[f"redis-{n}"] = answer
            latencies.append(latency)
        _answers_again(client, world, answers)

    _nothing_lost(runtime, answers)
    warnings = [r for r in caplog.records if r.name == "fairslot.ratelimit"]
    assert len(warnings) == 1  # one line per breaker period, not a traceback per request
    assert warnings[0].exc_info is None
    print(
        f"hung Redis: first request {latencies[0] * 1000:.0f} ms (the round timeout is "
        f"{ratelimit.ROUND_TIMEOUT * 1000:.0f} ms), then p50 {sorted(latencies[1:])[9] * 1000:.0f} ms, "
        f"max {max(latencies[1:]) * 1000:.0f} ms"
    )


def test_a_flood_during_a_redis_outage_is_still_held_to_the_budgets(
    runtime: Runtime, world: World, hung_redis: str
) -> None:
    settings = test_settings(runtime.settings.database_url, rate_limits="on", redis_url=hung_redis)
    with TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False) as client:
        statuses = [client.post("/api/v1/requests", json={}).status_code for _ in range(70)]

    # Failing open would let all 70 through; this process counts the per-address write budget itself.
    assert statuses[:60] == [422] * 60
    assert statuses[60:] == [429] * 10


# --- PostgreSQL backends killed under the service ---------------------------------------------------------


def _terminate_other_backends(runtime: Runtime) -> int:
    url = runtime.engine.url
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()
    return int(killed[0]) if killed else 0


@pytest.mark.postgres_only
def test_killed_postgresql_connections_are_replaced_and_nothing_is_lost(
    runtime: Runtime, world: World
) -> None:
    answers: dict[str, Any] = {}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        for n in range(3):  # warm up: the intake writer's connection and the pool's
            answers[f"warm-{n}"] = _apply_until_answered(
                client, request_body(world.service, [world.office]), f"warm-{n}"
            )[1]
        assert client.get("/api/v1/offices").status_code == 200
        killed = _terminate_other_backends(runtime)
        histories = {}
        for n in range(10):
            statuses, answer, latency = _apply_until_answered(
                client, request_body(world.service, [world.office]), f"pg-{n}"
            )
            answers[f"pg-{n}"] = answer
            histories[f"pg-{n}"] = (statuses, latency)
        reads = [client.get("/api/v1/offices").status_code for _ in range(3)]
        _answers_again(client, world, answers)

    assert killed >= 1
    assert reads[-1] == 200
    assert all(set(statuses) <= {201, 503} for statuses, _latency in histories.values())
    _nothing_lost(runtime, answers)
    print(
        f"killed {killed} backends; attempts per submission afterwards: "
        f"{[len(s) for s, _l in histories.values()]}; first-attempt latency after the kill "
        f"{histories['pg-0'][1] * 1000:.0f} ms; reads {reads}"
    )


# --- SQLite held locked by another connection -------------------------------------------------------------


@pytest.fixture
def quick(runtime: Runtime, database_url: str) -> Iterator[TestClient]:
    settings = test_settings(database_url, request_timeout_seconds=1.0)
    with TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.sqlite_only
def test_a_locked_sqlite_database_delays_or_refuses_and_nothing_is_lost(
    runtime: Runtime, world: World, quick: TestClient
) -> None:
    answers: dict[str, Any] = {}
    during: list[tuple[list[int], float]] = []
    with locked_for(runtime.engine, 3.0):
        for n in range(3):
            statuses, answer, latency = _apply_until_answered(
                quick, request_body(world.service, [world.office]), f"lock-{n}"
            )
            answers[f"lock-{n}"] = answer
            during.append((statuses, latency))
        ready = quick.get("/readyz")
    _answers_again(quick, world, answers)

    assert ready.status_code == 200  # readiness reads a snapshot: it never waits for the write lock
    _nothing_lost(runtime, answers)
    print(f"locked SQLite: attempts and first latency per submission {[(s, round(t, 2)) for s, t in during]}")
