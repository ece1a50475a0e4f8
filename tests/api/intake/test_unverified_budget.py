"""The ceiling protects the database, not the bots: anonymous submissions have a budget per address block,
spent before the global ceiling, so a flood of fake entries cannot use up the ceiling real applicants share.
"""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from app.http.ratelimit import address_block
from app.main import create_app
from tests.conftest import test_settings
from tests.factories import World, auth, create_key, request_body


def _limited(runtime, **overrides) -> TestClient:
    settings = test_settings(
        runtime.settings.database_url, rate_limits="on", trusted_proxies="testclient", **overrides
    )
    return TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False)


def _submit(client: TestClient, world: World, address: str, headers: dict | None = None) -> int:
    return client.post(
        "/api/v1/requests",
        json=request_body(world.service, [world.office]),
        headers={"X-Forwarded-For": address, **(headers or {})},
    ).status_code


@pytest.mark.parametrize(
    ("address", "block"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("::ffff:203.0.113.77", "203.0.113.0/24"),
        ("2001:db8:0:1ab:1:2:3:4", "2001:db8:0:100::/56"),
        ("testclient", "testclient"),
    ],
)
def test_an_address_belongs_to_its_block(address, block):
    assert address_block(address) == block


def test_one_block_has_its_own_budget_and_the_next_block_is_not_touched(client, runtime):
    world = World(client, runtime)
    with _limited(runtime, unverified_per_block="3/hour") as limited:
        same = [_submit(limited, world, f"203.0.113.{i}") for i in (5, 77, 200, 9)]
        other = _submit(limited, world, "203.0.114.1")
        six = [_submit(limited, world, f"2001:db8:0:1{i:02x}::1") for i in (0, 0x10, 0xFF, 0x20)]
        refused = limited.post(
            "/api/v1/requests",
            json=request_body(world.service, [world.office]),
            headers={"X-Forwarded-For": "203.0.113.10"},
        )
    assert same == [201, 201, 201, 429]
    assert other == 201
    assert six == [201, 201, 201, 429]
    assert refused.status_code == 429
    assert "unverified-block" in refused.json()["detail"]


def test_a_refused_flood_does_not_spend_the_global_ceiling(client, runtime):
    world = World(client, runtime)
    with _limited(runtime, unverified_per_block="1/hour", intake_ceiling_per_second=3) as limited:
        for _attempt in range(5):  # each try fits in one second of the ceiling's window
            started = time.monotonic()
            flood = [_submit(limited, world, "198.51.100.7") for _ in range(20)]
            real = [_submit(limited, world, f"192.0.{n}.1") for n in (1, 2)]
            if time.monotonic() - started < 0.8:
                break
            world = World(client, runtime)
    assert flood[1:] == [429] * 19  # the first of the block may pass, if this second's ceiling allows
    assert real == [201, 201]


def test_a_burst_from_one_block_takes_a_tenth_of_the_ceiling_and_leaves_the_rest_to_others(client, runtime):
    # As a flood starts, its first burst from one block (within the block's hourly budget) would otherwise
    # spend the whole second's ceiling, and real applicants elsewhere would meet 429s for that second.
    world = World(client, runtime)
    with _limited(runtime, unverified_per_block="1000/hour", intake_ceiling_per_second=20) as limited:
        for _attempt in range(5):  # each try fits in one second of the windows
            started = time.monotonic()
            burst = [_submit(limited, world, f"198.51.100.{n}") for n in range(1, 6)]
            real = [_submit(limited, world, f"192.0.{n}.1") for n in range(1, 4)]
            if time.monotonic() - started < 0.8:
                break
            time.sleep(1.0)
            world = World(client, runtime)
    assert burst == [201, 201, 429, 429, 429]  # 20 a second in all, 2 a second for one block
    assert real == [201, 201, 201]


def test_staff_keys_do_not_spend_a_block_budget(client, runtime):
    world = World(client, runtime)
    partner = create_key(runtime, "partner", [world.office])
    with _limited(runtime, unverified_per_block="1/hour") as limited:
        assert _submit(limited, world, "203.0.113.1") == 201
        assert _submit(limited, world, "203.0.113.2") == 429
        filed = [_submit(limited, world, "203.0.113.3", auth(partner)) for _ in range(3)]
    assert filed == [201, 201, 201]
