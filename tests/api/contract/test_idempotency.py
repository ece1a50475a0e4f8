"""Idempotency-Key on POSTs: same key and body replay the first answer, per route and credential, for 24 h."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.models import AppointmentRequest, IdempotencyRecord, Office, StaffKey
from app.main import create_app
from app.runtime import Runtime
from tests.assertions import assert_problem, count_rows, text_cells
from tests.factories import World, auth, create_key, request_body


def keyed(key: str, credential: str | None = None) -> dict[str, str]:
    headers = {"Idempotency-Key": key}
    if credential is not None:
        headers.update(auth(credential))
    return headers


def office(code: str) -> dict[str, str]:
    return {"code": code, "name": "Office", "timezone": "Europe/Paris"}


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


# --- replay --------------------------------------------------------------------------------------------


def test_the_same_key_and_body_replay_the_first_request_and_create_one_row(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body(world.service, [world.office])

    first = client.post("/api/v1/requests", json=body, headers=keyed("apply-1"))
    second = client.post("/api/v1/requests", json=body, headers=keyed("apply-1"))

    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    assert second.status_code == 201, second.text
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["content-type"] == first.headers["content-type"]
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["access_code"] == first.json()["access_code"]
    assert second.json() == first.json()
    assert count_rows(runtime, AppointmentRequest) == 1


def test_a_replayed_access_code_still_opens_the_request(client: TestClient, world: World) -> None:
    body = request_body(world.service, [world.office])
    client.post("/api/v1/requests", json=body, headers=keyed("apply-2"))
    replayed = client.post("/api/v1/requests", json=body, headers=keyed("apply-2")).json()

    response = client.get(f"/api/v1/requests/{replayed['id']}", headers=auth(replayed["access_code"]))

    assert response.status_code == 200, response.text


def test_without_a_key_a_second_identical_request_acts_again(client: TestClient, world: World) -> None:
    body = request_body(world.service, [world.office])
    assert client.post("/api/v1/requests", json=body).status_code == 201
    assert_problem(client.post("/api/v1/requests", json=body), 409, "duplicate_request")


def test_the_same_key_with_another_body_is_a_422_idempotency_key_reused(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    first = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=keyed("apply-3")
    )
    assert first.status_code == 201

    reused = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=keyed("apply-3")
    )

    assert_problem(reused, 422, "idempotency_key_reused")
    assert count_rows(runtime, AppointmentRequest) == 1


def test_the_body_is_compared_byte_for_byte(client: TestClient, runtime: Runtime, world: World) -> None:
    body = office("brest")
    compact = json.dumps(body, separators=(",", ":"))
    spaced = json.dumps(body, indent=2)
    headers = {**keyed("bytes", world.admin), "Content-Type": "application/json"}

    assert client.post("/api/v1/offices", content=compact, headers=headers).status_code == 201
    assert_problem(
        client.post("/api/v1/offices", content=spaced, headers=headers), 422, "idempotency_key_reused"
    )


def test_anonymous_callers_from_one_address_share_one_scope(client: TestClient, world: World) -> None:
    assert (
        client.post(
            "/api/v1/requests", json=request_body(world.service, [world.office]), headers=keyed("shared")
        ).status_code
        == 201
    )

    same_address = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=keyed("shared")
    )

    assert_problem(same_address, 422, "idempotency_key_reused")


def test_another_anonymous_client_with_the_same_key_and_body_never_gets_the_first_ones_access_code(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body(world.service, [world.office])
    first = client.post("/api/v1/requests", json=body, headers=keyed("guessable"))
    assert first.status_code == 201

    with TestClient(create_app(runtime), client=("203.0.113.9", 4242)) as elsewhere:
        other = elsewhere.post("/api/v1/requests", json=body, headers=keyed("guessable"))

    assert "idempotent-replayed" not in other.headers
    assert_problem(other, 409, "duplicate_request")
    assert first.json()["access_code"] not in other.text


def test_the_scope_is_the_staff_key_not_the_spelling_of_its_header(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    first = client.post(
        "/api/v1/offices",
        json=office("brest"),
        headers={"Idempotency-Key": "k-s", "Authorization": f"Bearer {world.admin}"},
    )
    again = client.post(
        "/api/v1/offices",
        json=office("brest"),
        headers={"Idempotency-Key": "k-s", "Authorization": f"bearer   {world.admin}"},
    )

    assert first.status_code == 201
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert count_rows(runtime, IdempotencyRecord) == 1


def test_a_4xx_answer_is_replayed_too_even_once_the_cause_is_gone(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body("not-yet", [world.office])
    first = client.post("/api/v1/requests", json=body, headers=keyed("early"))
    assert_problem(first, 422, "validation_error")
    client.post(
        "/api/v1/services",
        json={
            "code": "not-yet",
            "name": "Late",
            "slot_minutes": 30,
            "weight_policy": {"entry_verification": "none"},
        },
        headers=auth(world.admin),
    )

    replay = client.post("/api/v1/requests", json=body, headers=keyed("early"))

    assert_problem(replay, 422, "validation_error")
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == first.json()
    assert count_rows(runtime, AppointmentRequest) == 0
    assert client.post("/api/v1/requests", json=body, headers=keyed("late")).status_code == 201


def test_a_409_answer_is_replayed_with_its_problem_document(client: TestClient, world: World) -> None:
    body = office("rennes")
    assert client.post("/api/v1/offices", json=body, headers=auth(world.admin)).status_code == 201

    first = client.post("/api/v1/offices", json=body, headers=keyed("again", world.admin))
    replay = client.post("/api/v1/offices", json=body, headers=keyed("again", world.admin))

    assert_problem(first, 409, "already_exists")
    assert_problem(replay, 409, "already_exists")
    assert replay.headers["idempotent-replayed"] == "true"


def test_malformed_json_is_answered_and_replayed_as_a_400(client: TestClient, world: World) -> None:
    headers = {**keyed("broken"), "Content-Type": "application/json"}
    first = client.post("/api/v1/requests", content=b'{"service": ', headers=headers)
    replay = client.post("/api/v1/requests", content=b'{"service": ', headers=headers)

    assert_problem(first, 400, "malformed_json")
    assert_problem(replay, 400, "malformed_json")
    assert replay.headers["idempotent-replayed"] == "true"


# --- scope ---------------------------------------------------------------------------------------------


def test_two_staff_keys_use_the_same_key_independently(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other_admin = create_key(runtime, "admin")

    mine = client.post("/api/v1/offices", json=office("caen"), headers=keyed("k-1", world.admin))
    theirs = client.post("/api/v1/offices", json=office("rouen"), headers=keyed("k-1", other_admin))

    assert mine.status_code == 201, mine.text
    assert theirs.status_code == 201, theirs.text
    assert "idempotent-replayed" not in theirs.headers
    assert count_rows(runtime, Office) == 3


def test_another_credential_with_the_same_key_and_body_acts_anew(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other_admin = create_key(runtime, "admin")
    assert (
        client.post("/api/v1/offices", json=office("caen"), headers=keyed("k-2", world.admin)).status_code
        == 201
    )

    theirs = client.post("/api/v1/offices", json=office("caen"), headers=keyed("k-2", other_admin))

    assert_problem(theirs, 409, "already_exists")
    assert "idempotent-replayed" not in theirs.headers


def test_the_scope_is_per_route(client: TestClient, runtime: Runtime, world: World) -> None:
    first = client.post("/api/v1/offices", json=office("tours"), headers=keyed("k-3", world.admin))
    second = client.post(
        "/api/v1/services",
        json={"code": "visa", "name": "Visa", "slot_minutes": 15},
        headers=keyed("k-3", world.admin),
    )

    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json()["code"] == "visa"


# --- lifetime ------------------------------------------------------------------------------------------


def test_a_key_is_kept_for_24_hours_and_then_acts_anew(
    client: TestClient, runtime: Runtime, clock: FrozenClock, world: World
) -> None:
    body = {"role": "auditor", "label": "night shift"}
    first = client.post("/api/v1/staff-keys", json=body, headers=keyed("key-1", world.admin))
    assert first.status_code == 201

    clock.advance(timedelta(hours=23))
    within = client.post("/api/v1/staff-keys", json=body, headers=keyed("key-1", world.admin))
    assert within.headers["idempotent-replayed"] == "true"
    assert within.json()["id"] == first.json()["id"]

    clock.advance(timedelta(hours=2))  # 25 h after the first use
    after = client.post("/api/v1/staff-keys", json=body, headers=keyed("key-1", world.admin))

    assert after.status_code == 201, after.text
    assert "idempotent-replayed" not in after.headers
    assert after.json()["id"] != first.json()["id"]
    assert after.json()["key"] != first.json()["key"]
    assert count_rows(runtime, StaffKey) == 3 + 2  # the world's three keys and two new ones


def test_an_expired_key_may_be_used_with_another_body(
    client: TestClient, clock: FrozenClock, world: World
) -> None:
    assert (
        client.post("/api/v1/offices", json=office("dijon"), headers=keyed("k-4", world.admin)).status_code
        == 201
    )
    clock.advance(timedelta(hours=25))

    response = client.post("/api/v1/offices", json=office("reims"), headers=keyed("k-4", world.admin))

    assert response.status_code == 201, response.text


# --- the key itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["", "   ", "k" * 256], ids=["empty", "blank", "too-long"])
def test_an_empty_or_overlong_key_is_a_422(
    client: TestClient, runtime: Runtime, world: World, key: str
) -> None:
    response = client.post("/api/v1/offices", json=office("pau"), headers=keyed(key, world.admin))

    assert_problem(response, 422, "invalid_idempotency_key")
    assert count_rows(runtime, Office) == 1
    assert count_rows(runtime, IdempotencyRecord) == 0


def test_a_key_of_255_characters_is_accepted(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/offices", json=office("pau"), headers=keyed("k" * 255, world.admin))
    assert response.status_code == 201, response.text


def test_the_key_does_not_apply_to_reads(client: TestClient, world: World) -> None:
    response = client.get("/api/v1/offices", headers=keyed("read"))
    assert response.status_code == 200
    assert "idempotent-replayed" not in client.get("/api/v1/offices", headers=keyed("read")).headers


def test_a_key_with_control_characters_is_a_422(client: TestClient, runtime: Runtime, world: World) -> None:
    response = client.post("/api/v1/offices", json=office("nice"), headers=keyed("k\x00ey", world.admin))

    assert_problem(response, 422, "invalid_idempotency_key")
    assert count_rows(runtime, Office) == 1


# --- secrets and revoked keys --------------------------------------------------------------------------


def test_a_kept_answer_does_not_hold_the_access_code_in_clear(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    created = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=keyed("secret-1")
    ).json()

    leaks = [(t, c) for t, c, text in text_cells(runtime.engine) if created["access_code"] in text]

    assert leaks == []


def test_a_kept_answer_does_not_hold_a_new_staff_key_in_clear(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    created = client.post(
        "/api/v1/staff-keys", json={"role": "auditor"}, headers=keyed("secret-2", world.admin)
    ).json()

    leaks = [(t, c) for t, c, text in text_cells(runtime.engine) if created["key"] in text]

    assert leaks == []


def test_a_revoked_key_cannot_replay_an_earlier_answer(client: TestClient, world: World) -> None:
    admin = client.post("/api/v1/staff-keys", json={"role": "admin"}, headers=auth(world.admin)).json()
    body = {"role": "planner", "offices": [world.office]}
    assert client.post("/api/v1/staff-keys", json=body, headers=keyed("k-5", admin["key"])).status_code == 201
    assert client.delete(f"/api/v1/staff-keys/{admin['id']}", headers=auth(world.admin)).status_code == 204

    replay = client.post("/api/v1/staff-keys", json=body, headers=keyed("k-5", admin["key"]))

    assert_problem(replay, 401, "unauthorized")
