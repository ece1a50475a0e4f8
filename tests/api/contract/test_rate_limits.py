"""Rate limits: brute force, identity floods, the global intake ceiling, trusted proxies, shared storage."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.conftest import TEST_SECRET, test_settings
from tests.factories import World, auth, request_body

REDIS_URL = os.environ.get("FAIRSLOT_TEST_REDIS_URL")


def _limited_client(runtime, **overrides) -> TestClient:
    settings = test_settings(runtime.settings.database_url, rate_limits="on", **overrides)
    return TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False)


def test_wrong_access_codes_for_one_request_get_429_with_retry_after(client, runtime):
    applicant = World(client, runtime).applicant()
    with _limited_client(runtime) as limited:
        statuses = [
            limited.get(f"/api/v1/requests/{applicant['id']}", headers=auth(f"guess-{i}")).status_code
            for i in range(7)
        ]
        refused = limited.get(f"/api/v1/requests/{applicant['id']}", headers=auth("guess-again"))
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1


def test_the_right_code_is_not_slowed_by_nothing(client, runtime):
    applicant = World(client, runtime).applicant()
    with _limited_client(runtime) as limited:
        for _ in range(10):
            response = limited.get(
                f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])
            )
            assert response.status_code == 200


def test_one_identity_replayed_from_many_addresses_is_capped(client, runtime):
    world = World(client, runtime)
    body = request_body(world.service, [world.office], n=77)
    with _limited_client(runtime, trusted_proxies="testclient") as limited:
        statuses = [
            limited.post(
                "/api/v1/requests", json=body, headers={"X-Forwarded-For": f"10.0.{i}.1"}
            ).status_code
            for i in range(12)
        ]
    assert statuses[0] == 201
    assert set(statuses[1:10]) == {409}
    assert statuses[10:] == [429, 429]


def test_the_global_intake_ceiling_refuses_beyond_its_rate(client, runtime):
    world = World(client, runtime)
    with _limited_client(runtime, intake_ceiling_per_second=3) as limited:
        started = time.monotonic()
        statuses = [
            limited.post("/api/v1/requests", json=request_body(world.service, [world.office])).status_code
            for _ in range(6)
        ]
    if time.monotonic() - started < 0.9:  # all inside one window of one second
        assert statuses.count(201) <= 3
        assert 429 in statuses


def _spray(client: TestClient, forwarded_for: str) -> int:
    """A wrong code for a random request id; the status."""
    headers = {**auth("x"), "X-Forwarded-For": forwarded_for}
    return client.get(f"/api/v1/requests/{uuid.uuid4()}", headers=headers).status_code


def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(runtime):
    with _limited_client(runtime) as untrusted:
        # Not trusted: every forged address is the same peer, whose failure budget (30/hour) runs out.
        statuses = [_spray(untrusted, f"10.1.{i}.1") for i in range(31)]
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    with _limited_client(runtime, trusted_proxies="testclient") as trusted:
        # Trusted: each forwarded address has its own budget.
        for _ in range(30):
            _spray(trusted, "10.9.9.9")
        assert _spray(trusted, "10.9.9.9") == 429
        assert _spray(trusted, "10.8.8.8") == 404


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.once
@pytest.mark.skipif(REDIS_URL is None, reason="needs Redis (FAIRSLOT_TEST_REDIS_URL, set by .ci/run)")
def test_two_server_processes_share_one_limit_through_redis(client, runtime, tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    applicant = World(client, runtime).applicant()
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": runtime.settings.database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_REDIS_URL": REDIS_URL,
        "FAIRSLOT_RATE_LIMITS": "on",
    }
    ports = [_free_port(), _free_port()]
    servers = [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--no-scheduler", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        for port in ports:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        path = f"/api/v1/requests/{applicant['id']}"
        statuses = [
            httpx.get(f"http://127.0.0.1:{ports[i % 2]}{path}", headers=auth("wrong")).status_code
            for i in range(7)
        ]
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]


def test_the_web_status_form_is_limited_like_the_api(client, runtime):
    from tests.web.helpers import token_for

    applicant = World(client, runtime).applicant()
    with _limited_client(runtime) as limited:
        token = token_for(limited, "/status")
        form = {"csrf_token": token, "request_id": applicant["id"]}
        statuses = [
            limited.post("/status", data={**form, "access_code": f"guess-{i}"}).status_code for i in range(6)
        ]
        refused = limited.post("/status", data={**form, "access_code": applicant["access_code"]})
    assert statuses[:5] == [404] * 5
    assert statuses[5] == 429
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Trop de demandes" in refused.text  # in the visitor's language (French by default)
    assert int(refused.headers["retry-after"]) >= 1


def test_the_web_form_counts_against_the_identity_budget(client, runtime):
    from tests.web.helpers import apply_data, token_for

    world = World(client, runtime)
    with _limited_client(runtime, trusted_proxies="testclient") as limited:
        token = token_for(limited)
        data = {"csrf_token": token, **apply_data(world.service, world.office)}
        statuses = [
            limited.post("/apply", data=data, headers={"X-Forwarded-For": f"10.2.{i}.1"}).status_code
            for i in range(12)
        ]
    assert statuses[0] == 201  # the confirmation page
    assert statuses[10:] == [429, 429]


def test_a_partner_key_has_an_intake_budget_of_its_own_whatever_the_address(client, runtime):
    from app.http.ratelimit import STAFF_INTAKE_PER_KEY
    from tests.factories import create_key

    world = World(client, runtime)
    partner = create_key(runtime, "partner", [world.office])
    other = create_key(runtime, "partner", [world.office])
    budget = STAFF_INTAKE_PER_KEY.amount
    with _limited_client(runtime, trusted_proxies="testclient") as limited:
        statuses = [
            limited.post(
                "/api/v1/requests",
                json=request_body(world.service, [world.office], n=5000 + i),
                headers={**auth(partner), "X-Forwarded-For": f"198.51.100.{i % 250}"},
            ).status_code
            for i in range(budget + 1)
        ]
        refused = limited.post(
            "/api/v1/requests",
            json=request_body(world.service, [world.office], n=9999),
            headers={**auth(partner), "X-Forwarded-For": "203.0.113.9"},
        )
        fresh = limited.post(
            "/api/v1/requests",
            json=request_body(world.service, [world.office], n=9998),
            headers={**auth(other), "X-Forwarded-For": "203.0.113.9"},
        )
    assert statuses[:budget] == [201] * budget
    assert statuses[budget] == 429
    assert "staff-intake" in refused.json()["detail"]
    assert fresh.status_code == 201


def test_the_counter_page_counts_against_the_signed_in_keys_budget(client, runtime):
    from app.http.ratelimit import STAFF_INTAKE_PER_KEY
    from tests.factories import create_key, named_for
    from tests.web.helpers import apply_data, sign_in

    world = World(client, runtime)
    agent = create_key(runtime, "agent", [world.office])
    budget = STAFF_INTAKE_PER_KEY.amount
    with _limited_client(runtime, trusted_proxies="testclient") as limited:
        token = sign_in(limited, agent, "counter")
        statuses = []
        for i in range(budget + 1):
            data = {
                "csrf_token": token,
                **apply_data(
                    world.service,
                    world.office,
                    document_number=f"C{i:08d}",
                    family_name=named_for("Diallo", f"C{i:08d}"),
                ),
            }
            response = limited.post(
                "/counter/requests", data=data, headers={"X-Forwarded-For": f"198.51.100.{i % 250}"}
            )
            statuses.append(response.status_code)
    assert statuses[:budget] == [201] * budget
    assert statuses[budget] == 429


def test_typing_the_entry_reference_differently_does_not_buy_more_guesses(client, runtime):
    applicant = World(client, runtime).applicant()
    entry = applicant["entry"]
    spellings = [entry, entry.lower(), entry.replace("-", ""), entry.lower().replace("-", ""), f" {entry}"]
    with _limited_client(runtime) as limited:
        statuses = [
            limited.get(
                f"/api/v1/requests/{spellings[i % len(spellings)]}", headers=auth(f"guess-{i}")
            ).status_code
            for i in range(7)
        ]
    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]
