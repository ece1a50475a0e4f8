"""One identity, one chance: concurrent duplicates cannot both pass (the database decides)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import text

from tests.factories import World, request_body

SPELLINGS = ["AB 123 456", "ab-123-456", "Ab123456", " AB123-456 ", "ab 12 34 56"]


@pytest.mark.postgres_only
def test_twenty_parallel_submissions_of_one_identity_give_exactly_one_201(client, runtime):
    world = World(client, runtime)
    barrier = Barrier(20)

    def submit(i: int) -> int:
        body = request_body(world.service, [world.office])
        body["identity"]["document_number"] = SPELLINGS[i % len(SPELLINGS)]
        barrier.wait()
        return client.post("/api/v1/requests", json=body).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(submit, range(20)))

    assert statuses.count(201) == 1
    assert statuses.count(409) == 19
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM appointment_request")).scalar() == 1
