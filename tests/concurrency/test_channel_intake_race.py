"""Fifty parallel filings by partners, agents and applicants for overlapping identities: one active
request per identity, whichever channel got there first."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from sqlalchemy import text

from tests.factories import World, auth, create_key, request_body

THREADS = 50
IDENTITIES = 10


@pytest.mark.postgres_only
def test_fifty_mixed_channel_filings_leave_one_active_request_per_identity(client, runtime):
    world = World(client, runtime)
    partners = [create_key(runtime, "partner", [world.office]) for _ in range(2)]
    agents = [create_key(runtime, "agent", [world.office]) for _ in range(2)]
    credentials = [None, *partners, *agents]
    barrier = Barrier(THREADS)

    def file(i: int) -> tuple[int, str | None]:
        key = credentials[i % len(credentials)]
        body = request_body(world.service, [world.office], n=70_000 + i % IDENTITIES)
        barrier.wait()
        response = client.post("/api/v1/requests", json=body, headers=auth(key) if key else {})
        return response.status_code, response.json().get("code") if response.status_code != 201 else None

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = Counter(pool.map(file, range(THREADS)))

    assert outcomes == Counter({(201, None): IDENTITIES, (409, "duplicate_request"): THREADS - IDENTITIES})
    with runtime.engine.connect() as conn:
        per_identity = conn.execute(
            text(
                "SELECT identity_key, count(*) FROM appointment_request "
                "WHERE active_identity_key IS NOT NULL GROUP BY identity_key"
            )
        ).all()
        channels = {row[0] for row in conn.execute(text("SELECT channel FROM appointment_request"))}
    assert len(per_identity) == IDENTITIES
    assert all(count == 1 for _key, count in per_identity)
    assert channels <= {"online", "counter", "partner"}
