"""When the rate limiter cannot decide, anonymous intake waits (503 with Retry-After) and nothing else does;
when its storage fails, the budgets are counted in the process's memory until the breaker closes.

A flood through a real server on a real Redis keeps within the budget: the Redis pool is sized to the rounds
a process runs at once, so a burst queues for a round instead of exhausting the pool, and the limiter no
longer lets everything through once the pool ran out. A call of a round cancelled by someone else (a timeout
racing another) is a failed round, answered as such, never an "Exception in ASGI application"; the request's
own cancellation (its timeout) still reaches the scope that asked for it, which answers its designed 503.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
from collections import Counter
from dataclasses import replace
from typing import Any

import anyio
import httpx
import pytest
from fastapi.testclient import TestClient

from app.http.ratelimit import Limiter, Undecided, storage_uri
from app.main import create_app
from app.runtime import Runtime
from tests.conftest import test_settings
from tests.factories import World, request_body
from tests.faults.test_faults import hung_redis  # noqa: F401  (a fixture: a Redis that never answers)
from tests.web.helpers import live_server

REDIS_URL = os.environ.get("FAIRSLOT_TEST_REDIS_URL")
needs_redis = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis (FAIRSLOT_TEST_REDIS_URL)")
BUDGET = 20


async def _flood(base: str, body: Any, block: str, *, clients: int, each: int) -> Counter[tuple[int, str]]:
    """``clients`` connections at once, each sending ``each`` anonymous submissions of new people."""
    answers: Counter[tuple[int, str]] = Counter()
    numbers = iter(range(10**6))

    async def client(n: int) -> None:
        headers = {"X-Forwarded-For": f"{block}.{n + 1}"}  # one address block, behind the trusted proxy
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(each):
                response = await http.post("/api/v1/requests", json=body(next(numbers)), headers=headers)
                code = response.json().get("code", "") if response.status_code >= 400 else ""
                if response.status_code == 503:
                    assert int(response.headers["retry-after"]) >= 1
                answers[(response.status_code, code)] += 1

    await asyncio.gather(*(client(n) for n in range(clients)))
    return answers


@pytest.mark.once
@pytest.mark.slow
@needs_redis
@pytest.mark.parametrize("rounds", [24, 1], ids=["admission-bound", "one-round"])
def test_a_flood_on_a_real_redis_stays_within_the_budget_and_is_never_let_through(
    client: TestClient, runtime: Runtime, rounds: int, caplog: pytest.LogCaptureFixture
) -> None:
    world = World(client, runtime)
    settings = test_settings(
        runtime.settings.database_url,
        rate_limits="on",
        redis_url=REDIS_URL,
        unverified_per_block=f"{BUDGET}/hour",
        max_requests_in_flight=rounds,
    )
    # A fresh address block for this run: the budget's keys are its own, whoever else uses this Redis.
    block = f"10.{random.randrange(256)}.{random.randrange(256)}"
    serial = random.randrange(10**6)

    def body(n: int) -> dict[str, Any]:
        return request_body(world.service, [world.office], n=serial * 10**4 + n)

    with live_server(replace(runtime, settings=settings)) as base:
        answers = asyncio.run(_flood(base, body, block, clients=48, each=8))

    print(dict(answers))
    assert answers[(201, "")] <= BUDGET  # before, the pool ran out and everything got in for 30 s
    assert set(answers) <= {(201, ""), (429, "rate_limited"), (503, "busy_retry"), (503, "unavailable")}
    assert not [r for r in caplog.records if "Exception in ASGI application" in r.getMessage()]


def test_a_call_of_a_round_cancelled_by_someone_else_is_a_failed_round_counted_in_memory_not_an_error(
    hung_redis: str,  # noqa: F811
) -> None:
    limiter = Limiter(storage_uri(hung_redis), 200, unverified_per_block="10/hour")

    async def a_round_whose_call_someone_else_cancels(strategy: Any) -> str:
        if strategy is limiter.local_strategy:
            return "counted in this process"
        call = asyncio.ensure_future(asyncio.sleep(10))
        asyncio.get_running_loop().call_soon(call.cancel)
        await asyncio.gather(call)  # the CancelledError reaches this task, which nobody cancelled
        return "counted in Redis"

    async def main() -> Any:
        return await limiter.guarded(a_round_whose_call_someone_else_cancels)

    decided = anyio.run(main)

    assert decided == "counted in this process"
    assert limiter.breaker_open


def test_a_round_that_fails_even_in_memory_is_undecided(hung_redis: str) -> None:  # noqa: F811
    limiter = Limiter(storage_uri(hung_redis), 200, unverified_per_block="10/hour")

    async def failing(strategy: Any) -> str:
        raise ConnectionError("no storage at all")

    assert anyio.run(limiter.guarded, failing) == Undecided("unavailable", 30)


def test_the_requests_own_cancellation_goes_on_to_the_scope_that_asked_for_it(hung_redis: str) -> None:  # noqa: F811
    limiter = Limiter(storage_uri(hung_redis), 200, unverified_per_block="10/hour")

    async def main() -> bool:
        with anyio.move_on_after(0.05) as scope:
            await limiter.guarded(
                lambda strategy: limiter.before("GET", "/api/v1/offices", "10.0.0.1", None, strategy=strategy)
            )
        return scope.cancelled_caught

    assert anyio.run(main)
    assert not limiter.breaker_open  # the storage did not fail: the request gave up


def test_a_request_that_times_out_while_the_limiter_waits_answers_its_503_not_a_500(
    runtime: Runtime,
    hung_redis: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    settings = test_settings(
        runtime.settings.database_url, rate_limits="on", redis_url=hung_redis, request_timeout_seconds=0.1
    )
    caplog.set_level(logging.ERROR)
    with TestClient(
        create_app(replace(runtime, settings=settings)), raise_server_exceptions=False
    ) as limited:
        answer = limited.get("/api/v1/offices")

    assert (answer.status_code, answer.json()["code"]) == (503, "timeout")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
