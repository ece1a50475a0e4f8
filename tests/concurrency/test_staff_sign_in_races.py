"""Races on PostgreSQL, with real parallel connections: one TOTP code signs in once however many browsers send
it at the same moment; one e-mail is invited once however many admins send it at once."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.runtime import Runtime
from tests.factories import World, auth
from tests.staff_accounts import PASSWORD, code, person
from tests.web.helpers import csrf_of

PARALLEL = 6


@pytest.mark.postgres_only
def test_one_code_sent_by_six_browsers_at_once_signs_in_once(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    camille = person(
        client, runtime, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}]
    )
    runtime.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    typed = code(camille.totp_secret, runtime.clock.now())
    browsers = [TestClient(create_app(runtime), raise_server_exceptions=False) for _ in range(PARALLEL)]
    tokens = [csrf_of(b.get("/staff/sign-in").text) for b in browsers]
    barrier = Barrier(PARALLEL)

    def send(i: int) -> int:
        barrier.wait()
        return (
            browsers[i]
            .post(
                "/staff/sign-in",
                data={"csrf_token": tokens[i], "email": camille.email, "password": PASSWORD, "code": typed},
                follow_redirects=False,
            )
            .status_code
        )

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = Counter(pool.map(send, range(PARALLEL)))
    for browser in browsers:
        browser.close()
    assert statuses == {303: 1, 401: PARALLEL - 1}
    with runtime.engine.connect() as conn:
        live = conn.execute(
            text("SELECT count(*) FROM staff_session WHERE account_id = :a AND method = 'password'"),
            {"a": camille.id},
        ).scalar_one()
    assert live == 2  # the invitation's, and the one sign-in that won


@pytest.mark.postgres_only
def test_six_admins_inviting_one_email_at_once_make_one_account(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    barrier = Barrier(PARALLEL)
    body = {
        "email": "camille@example.org",
        "display_name": "Camille",
        "roles": [{"role": "auditor", "offices": []}],
    }

    def send(_: int) -> int:
        barrier.wait()
        return client.post("/api/v1/staff-accounts", json=body, headers=auth(world.admin)).status_code

    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = Counter(pool.map(send, range(PARALLEL)))
    assert statuses == {201: 1, 409: PARALLEL - 1}
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM staff_account")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM staff_invitation")).scalar_one() == 1
