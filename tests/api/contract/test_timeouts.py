"""A timeout never loses work: a 503 means nothing was stored, or the answer is the true one.

The request timeout is set to a second and a half and the database held locked for longer by another
connection: the work that was already handed to the database finishes and answers, and a key is never left
"in progress".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, insert, select
from starlette.types import Message, Receive, Scope, Send

from app.clock import FrozenClock
from app.db.models import AppointmentRequest, IdempotencyRecord, Office
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from tests.assertions import assert_problem, count_rows
from tests.conftest import test_settings
from tests.factories import World, auth, request_body
from tests.locks import locked_for

_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]


@pytest.fixture
def short(runtime: Runtime, database_url: str) -> Iterator[TestClient]:
    """A client of an app whose requests time out after half a second."""
    quick = Runtime(
        settings=test_settings(database_url, request_timeout_seconds=1.5),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    with TestClient(create_app(quick), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _unsettled(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).where(_TABLE.c.status_code == 0)).scalar_one()


def test_an_answer_is_stored_before_it_is_sent_so_an_immediate_retry_replays_it(
    runtime: Runtime, world: World
) -> None:
    app = create_app(runtime)
    unsettled_when_sent: list[int] = []

    async def probe(scope: Scope, receive: Receive, send: Send) -> None:
        async def watching(message: Message) -> None:
            if message["type"] == "http.response.start":
                unsettled_when_sent.append(await anyio.to_thread.run_sync(_unsettled, runtime))
            await send(message)

        await app(scope, receive, watching)

    with TestClient(probe) as client:
        body = request_body(world.service, [world.office])
        first = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "now"})
        again = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "now"})

    assert first.status_code == 201, first.text
    assert unsettled_when_sent[0] == 0  # the record was settled before the first byte left
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["access_code"] == first.json()["access_code"]


def test_an_intake_slowed_past_the_timeout_answers_its_201_or_stores_nothing(
    short: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body(world.service, [world.office])

    with locked_for(runtime.engine, 4.0):
        answer = short.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "slow-1"})
    retry = short.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "slow-1"})

    stored = count_rows(runtime, AppointmentRequest)
    if answer.status_code == 201:
        assert stored == 1
        assert retry.headers.get("idempotent-replayed") == "true"
        assert retry.json()["access_code"] == answer.json()["access_code"]
    else:
        assert answer.status_code == 503, answer.text
        assert retry.status_code == 201, retry.text
        assert count_rows(runtime, AppointmentRequest) == 1
    assert _unsettled(runtime) == 0


def test_a_request_that_timed_out_after_its_claim_releases_its_key(
    runtime: Runtime, database_url: str
) -> None:
    quick = Runtime(
        settings=test_settings(database_url, request_timeout_seconds=1.5),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    app = create_app(quick)
    calls: list[int] = []

    async def slow_then_fast() -> dict[str, int]:
        calls.append(1)
        if len(calls) == 1:
            await anyio.sleep(5)  # past the timeout: cancelled
        return {"calls": len(calls)}

    app.add_api_route("/api/v1/slow", slow_then_fast, methods=["POST"])
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.post("/api/v1/slow", json={}, headers={"Idempotency-Key": "slow-2"})
        retry = client.post("/api/v1/slow", json={}, headers={"Idempotency-Key": "slow-2"})

    assert_problem(answer, 503, "timeout")
    assert retry.status_code == 200, retry.text  # run again, not "409 idempotency_in_progress"
    assert retry.json() == {"calls": 2}
    assert _unsettled(runtime) == 0


def test_a_write_meeting_a_locked_database_changes_nothing_and_its_retry_runs(
    short: TestClient, runtime: Runtime, world: World
) -> None:
    body = {"code": "slow-office", "name": "Office", "timezone": "Europe/Paris"}
    headers = {"Idempotency-Key": "office-1", **auth(world.admin)}

    with locked_for(runtime.engine, 4.0, table="office"):
        answer = short.post("/api/v1/offices", json=body, headers=headers)
    retry = short.post("/api/v1/offices", json=body, headers=headers)

    if answer.status_code != 201:  # SQLite: the claim met the lock; PostgreSQL waits for the table lock
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] in ("busy_retry", "timeout")
        assert retry.status_code == 201, retry.text
        assert "idempotent-replayed" not in retry.headers
    assert count_rows(runtime, Office) == 2  # the world's and this one, once
    assert _unsettled(runtime) == 0


def test_a_claim_left_in_progress_by_a_dead_process_is_taken_over_after_its_lease(
    client: TestClient, runtime: Runtime, clock: FrozenClock, world: World
) -> None:
    body = {"code": "orphan", "name": "Office", "timezone": "Europe/Paris"}
    headers = {"Idempotency-Key": "orphan-1", **auth(world.admin)}
    first = client.post("/api/v1/offices", json=body, headers=headers)
    assert first.status_code == 201
    with runtime.engine.begin() as conn:  # as if the process died between its claim and its answer
        conn.execute(_TABLE.update().values(status_code=0, response_body=""))

    assert_problem(client.post("/api/v1/offices", json=body, headers=headers), 409, "idempotency_in_progress")
    clock.advance(timedelta(minutes=3))
    taken_over = client.post("/api/v1/offices", json=body, headers=headers)

    assert_problem(taken_over, 409, "already_exists")  # it ran again, and the office is there once
    assert count_rows(runtime, Office) == 2


def test_the_scheduler_deletes_idempotency_records_past_their_ttl(
    client: TestClient, runtime: Runtime, clock: FrozenClock, world: World
) -> None:
    created = client.post(
        "/api/v1/staff-keys", json={"role": "auditor"}, headers={"Idempotency-Key": "k", **auth(world.admin)}
    )
    assert created.status_code == 201
    scheduler.tick(runtime)
    assert count_rows(runtime, IdempotencyRecord) == 1

    clock.advance(timedelta(hours=24, minutes=1))
    scheduler.tick(runtime)

    assert count_rows(runtime, IdempotencyRecord) == 0


def _insert(runtime: Runtime, **values: Any) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(insert(_TABLE).values(**values))


@pytest.mark.postgres_only
def test_an_intake_behind_a_long_table_lock_answers_busy_retry_and_stores_nothing(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body(world.service, [world.office])

    with locked_for(runtime.engine, 8.0):  # longer than the intake writer's 5 s lock_timeout
        answer = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "locked-1"})
        stored_meanwhile = count_rows(runtime, AppointmentRequest)
    retry = client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "locked-1"})

    problem = assert_problem(answer, 503, "busy_retry")
    assert answer.headers["retry-after"] == "1"
    assert "nothing changed" in problem["detail"]
    assert stored_meanwhile == 0
    assert retry.status_code == 201, retry.text
    assert count_rows(runtime, AppointmentRequest) == 1
    assert _unsettled(runtime) == 0
