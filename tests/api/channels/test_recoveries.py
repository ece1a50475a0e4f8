"""Recovery after seeing the document: a new code keeps everything; a squatted request is superseded."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from app.services import scheduler
from tests.factories import World, auth, create_key, create_office, request_body

DOCUMENT = {"document_number": "P00004242", "birth_date": "1990-04-12"}


@pytest.fixture
def world(client, runtime) -> World:
    return World(client, runtime)


def _recover(world: World, key: str, reason: str, **overrides):
    body = {"service": world.service, **DOCUMENT, "reason": reason, **overrides}
    return world.client.post("/api/v1/identity-recoveries", json=body, headers=auth(key))


def _offered(world: World, clock) -> dict:
    request = world.applicant(n=4242)
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    return request


def _rows(runtime, sql: str, **params) -> list:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_a_lost_code_is_replaced_and_the_offer_and_draws_are_kept(world, runtime, clock):
    request = _offered(world, clock)
    agent = create_key(runtime, "agent", [world.office])
    response = _recover(world, agent, "lost_code")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"request_id", "access_code"}
    assert body["request_id"] == request["id"]
    old = world.client.get(f"/api/v1/requests/{request['id']}", headers=auth(request["access_code"]))
    assert old.status_code == 404
    new = world.client.get(f"/api/v1/requests/{request['id']}", headers=auth(body["access_code"]))
    assert new.status_code == 200
    assert new.json()["status"] == "offered"
    assert new.json()["offer"] is not None
    assert new.json()["draws_entered"] == 1
    actors = _rows(runtime, "SELECT actor FROM audit_event WHERE action = 'identity.code_renewed'")
    assert [a[0] for a in actors] == [
        _rows(runtime, "SELECT 'staff:' || id FROM staff_key WHERE role='agent'")[0][0]
    ]


def test_a_replaced_code_no_longer_replays_the_answers_kept_for_its_idempotency_keys(world, runtime, clock):
    request = _offered(world, clock)
    old = {**auth(request["access_code"]), "Idempotency-Key": "accept-once"}
    accepted = world.client.post(f"/api/v1/requests/{request['id']}/accept", headers=old)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["booking"]["token"]
    again = world.client.post(f"/api/v1/requests/{request['id']}/accept", headers=old)
    assert again.headers.get("idempotent-replayed") == "true"  # while the code stands, the answer replays

    assert _recover(world, create_key(runtime, "agent", [world.office]), "lost_code").status_code == 200
    replayed = world.client.post(f"/api/v1/requests/{request['id']}/accept", headers=old)
    cancelled = world.client.post(
        f"/api/v1/requests/{request['id']}/cancel", headers={**old, "Idempotency-Key": "cancel-once"}
    )

    # The old code is a wrong code like any other: no booking token, and nothing done.
    assert replayed.status_code == 404, replayed.text
    assert replayed.json()["code"] == "not_found"
    assert "token" not in replayed.text
    assert "idempotent-replayed" not in replayed.headers
    assert cancelled.status_code == 404
    assert _rows(runtime, "SELECT status FROM booking")[0][0] == "booked"


def test_a_squatted_booking_is_superseded_its_slot_goes_back_and_the_holder_files_anew(world, runtime, clock):
    request = _offered(world, clock)
    world.client.post(f"/api/v1/requests/{request['id']}/accept", headers=auth(request["access_code"]))
    response = _recover(world, world.desk, "squatted")
    assert response.status_code == 200, response.text
    assert response.json() == {"superseded": request["id"]}
    (status,) = _rows(runtime, "SELECT status FROM appointment_request WHERE id = :id", id=request["id"])[0]
    assert status == "superseded"
    assert _rows(runtime, "SELECT status FROM booking")[0][0] == "cancelled"
    assert _rows(runtime, "SELECT count(*) FROM slot WHERE returned_at IS NOT NULL")[0][0] == 1
    agent = create_key(runtime, "agent", [world.office])
    again = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], n=4242), headers=auth(agent)
    )
    assert again.status_code == 201


def test_a_squatted_open_offer_is_declined(world, runtime, clock):
    request = _offered(world, clock)
    assert _recover(world, world.desk, "squatted").status_code == 200
    assert (
        _rows(runtime, "SELECT status FROM offer WHERE request_id = :id", id=request["id"])[0][0]
        == "declined"
    )


def test_nothing_active_is_a_404(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    assert _recover(world, agent, "lost_code").status_code == 404
    request = world.applicant(n=4242)
    world.client.post(f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"]))
    assert _recover(world, agent, "squatted").status_code == 404


def test_a_key_of_another_office_gets_404_nothing_changes_and_the_refusal_is_logged(world, runtime):
    request = world.applicant(n=4242)
    other = create_office(world.client, world.admin)["code"]
    agent = create_key(runtime, "agent", [other])
    assert _recover(world, agent, "squatted").status_code == 404
    (status,) = _rows(runtime, "SELECT status FROM appointment_request WHERE id = :id", id=request["id"])[0]
    assert status == "pending"
    refused = _rows(runtime, "SELECT subject FROM audit_event WHERE action = 'identity.recovery_refused'")
    assert refused[0][0] == f"request:{request['id']}"


@pytest.mark.parametrize("role", ["planner", "partner", "verifier", "auditor"])
def test_only_agents_and_desks_recover(world, runtime, role):
    world.applicant(n=4242)
    key = create_key(runtime, role, [world.office])
    assert _recover(world, key, "lost_code").status_code == 403


def test_a_bad_reason_or_date_is_a_422(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    assert _recover(world, agent, "stolen").status_code == 422
    assert _recover(world, agent, "lost_code", birth_date="12/04/1990").status_code == 422


def test_the_superseded_requests_attestation_says_so_and_still_verifies(world, runtime):
    request = world.applicant(n=4242)
    before = world.client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    )
    assert _recover(world, world.desk, "squatted").status_code == 200
    after = world.client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    )
    assert after.json()["statement"]["status"] == "superseded"
    for got in (before.json(), after.json()):
        verdict = world.client.post("/api/v1/attestations/verify", json={"attestation": got["attestation"]})
        assert verdict.json()["valid"] is True
