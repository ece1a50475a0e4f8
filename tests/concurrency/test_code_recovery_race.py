"""A flood of lost-code recoveries for one entry, started at once from many addresses, answers 202 to each
and texts one code: real parallel requests on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.api.journey.test_code_recovery import BORN, START, _codes_sent
from tests.verified import phone_world, texting, verify

pytestmark = pytest.mark.postgres_only


def test_parallel_recoveries_of_one_entry_all_answer_202_and_send_one_code(client, runtime, clock):
    world = phone_world(client, runtime)
    person = texting(world)
    verify(world, person)
    clock.advance(timedelta(minutes=2))
    before = _codes_sent(runtime, person["id"])
    callers = 6
    barrier = threading.Barrier(callers)
    answers: list[int] = []

    def start(n: int) -> None:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as own:
            barrier.wait()
            response = own.post(
                START,
                json={"entry": person["entry"], "birth_date": BORN},
                headers={"X-Forwarded-For": f"198.51.100.{n}"},
            )
            answers.append(response.status_code)

    threads = [threading.Thread(target=start, args=(n,)) for n in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert answers == [202] * callers
    assert _codes_sent(runtime, person["id"]) - before == 1
