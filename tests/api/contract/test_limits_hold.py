"""Limits that count what they should: only wrong access codes, per address; nested and malformed bodies; the
intake ceiling."""

from __future__ import annotations

from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime
from tests.conftest import test_settings
from tests.factories import World, auth, request_body

NESTED = b"[" * 30_000 + b"]" * 30_000  # under the 64 KiB body limit


def _limited(runtime: Runtime, **overrides: object) -> TestClient:
    settings = test_settings(runtime.settings.database_url, rate_limits="on", **overrides)
    return TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False)


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def test_the_owners_own_404s_never_lock_the_owner_out(runtime: Runtime, world: World) -> None:
    applicant = world.applicant()
    code = auth(applicant["access_code"])
    with _limited(runtime) as limited:
        qr = [
            limited.get(f"/api/v1/requests/{applicant['id']}/booking/qr.svg", headers=code).status_code
            for _ in range(8)
        ]
        status = limited.get(f"/api/v1/requests/{applicant['id']}", headers=code)

    assert qr == [404] * 8  # no booking yet: a 404, but not a wrong code
    assert status.status_code == 200, status.text


def test_wrong_codes_from_elsewhere_cannot_lock_the_owner_out(runtime: Runtime, world: World) -> None:
    applicant = world.applicant()
    path = f"/api/v1/requests/{applicant['id']}"
    with _limited(runtime, trusted_proxies="testclient") as limited:
        attacker = [
            limited.get(path, headers={**auth(f"guess-{i}"), "X-Forwarded-For": "198.51.100.7"}).status_code
            for i in range(7)
        ]
        owner = limited.get(
            path, headers={**auth(applicant["access_code"]), "X-Forwarded-For": "203.0.113.5"}
        )

    assert attacker[:5] == [404] * 5
    assert attacker[5:] == [429, 429]  # the guesser is slowed down...
    assert owner.status_code == 200  # ...and the owner is not


@pytest.mark.parametrize(
    "path",
    ["/api/v1/requests", "/api/v1/offices", "/api/v1/releases", "/api/v1/check-ins", "/api/v1/staff-keys"],
)
def test_json_nested_past_the_recursion_limit_is_a_4xx_on_every_route(
    client: TestClient, runtime: Runtime, world: World, path: str
) -> None:
    with _limited(runtime) as limited:
        response = limited.post(
            path, content=NESTED, headers={"Content-Type": "application/json", **auth(world.admin)}
        )

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_nested_json_counts_against_the_write_budget(runtime: Runtime, world: World) -> None:
    with _limited(runtime) as limited:
        statuses = [
            limited.post(
                "/api/v1/requests",
                content=b"[" * 5000 + b"]" * 5000,
                headers={"Content-Type": "application/json"},
            ).status_code
            for _ in range(61)
        ]

    assert set(statuses[:60]) <= {400, 422}
    assert statuses[60] == 429


def test_malformed_submissions_do_not_spend_the_global_intake_ceiling(runtime: Runtime, world: World) -> None:
    with _limited(runtime, intake_ceiling_per_second=3) as limited:
        garbage = [
            limited.post("/api/v1/requests", json={"service": world.service}).status_code for _ in range(6)
        ]
        real = limited.post("/api/v1/requests", json=request_body(world.service, [world.office]))

    assert set(garbage) == {422}
    assert real.status_code == 201, real.text
