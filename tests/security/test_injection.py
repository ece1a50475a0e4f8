"""Hostile strings in every text field are refused or stored and returned inert, never executed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.factories import World, auth, request_body

HOSTILE = [
    "Robert'); DROP TABLE appointment_request;--",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{7*7}} ${7*7} %s %n",
    "Zoë \u0645\u0631\u062d\u0628\u0627 \U0001f600",
    "ñ" * 100,
]
CONTROL = [
    "nul\x00byte",
    "bell\x07",
    "line\nbreak",
    "esc\x1b[31m",
    "c1\x9b",
    "bidi \u202eevil",
    "sep\u2028arator",
    "zero width \u200cnon-joiner",  # a format character: invisible, so it would fake a second person
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_names_are_stored_and_returned_verbatim(client, runtime, value):
    world = World(client, runtime)
    body = request_body(world.service, [world.office])
    body["identity"]["family_name"] = value
    body["identity"]["given_names"] = value
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    with runtime.engine.connect() as conn:
        stored = conn.execute(text("SELECT family_name, given_names FROM appointment_request")).one()
        assert conn.execute(text("SELECT count(*) FROM appointment_request")).scalar() == 1
    assert stored == (value, value)
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize("value", CONTROL, ids=range(len(CONTROL)))
def test_control_characters_in_names_are_refused_and_change_nothing(client, runtime, value):
    world = World(client, runtime)
    body = request_body(world.service, [world.office])
    body["identity"]["family_name"] = value
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "identity.family_name"
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM appointment_request")).scalar() == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("document_number", "AB12'; DROP TABLE x;--"),
        ("document_number", "<script>"),
        ("document_number", "A" * 65),
        ("document_type", "<script>"),
        ("family_name", "x" * 101),
        ("family_name", ""),
    ],
)
def test_out_of_shape_identity_fields_are_refused(client, runtime, field, value):
    world = World(client, runtime)
    body = request_body(world.service, [world.office])
    body["identity"][field] = value
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize("value", ["<b>Préfecture</b> & 'co'", "x'); DELETE FROM office;--", "Ω" * 200])
def test_hostile_office_and_staff_key_labels_round_trip_inert(client, runtime, value):
    world = World(client, runtime)
    created = client.post(
        "/api/v1/offices",
        json={"code": "hostile", "name": value, "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    )
    assert created.status_code == 201
    listed = {o["code"]: o["name"] for o in client.get("/api/v1/offices").json()}
    assert listed["hostile"] == value.strip()
    key = client.post(
        "/api/v1/staff-keys", json={"role": "auditor", "label": value[:200]}, headers=auth(world.admin)
    )
    assert key.status_code == 201
    assert key.json()["label"] == value[:200].strip()


@pytest.mark.parametrize("path_id", ["1 OR 1=1", "../../etc/passwd", "%00", "' OR ''='", "9" * 40])
def test_hostile_ids_in_paths_are_plain_404s_or_422s(client, runtime, path_id):
    World(client, runtime)
    for path in (f"/api/v1/requests/{path_id}", f"/api/v1/releases/{path_id}", f"/api/v1/draws/{path_id}"):
        response = client.get(path, headers=auth("anything"))
        assert response.status_code in (404, 422), (path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"


def test_a_very_long_unicode_beacon_is_refused_and_a_fair_one_is_kept_verbatim(client, runtime, clock):
    from datetime import timedelta

    world = World(client, runtime)
    world.applicant()
    release = world.release(slots=1)
    clock.advance(timedelta(hours=2))
    too_long = client.post(
        f"/api/v1/releases/{release['id']}/draw", json={"beacon": "é" * 600}, headers=auth(world.planner)
    )
    assert too_long.status_code == 422
    beacon = "<round 7> ' OR 1=1 \u202e"
    drawn = client.post(
        f"/api/v1/releases/{release['id']}/draw", json={"beacon": beacon}, headers=auth(world.planner)
    )
    assert drawn.status_code == 200
    record = client.get(f"/api/v1/draws/{drawn.json()['draw_id']}").json()
    assert record["beacon"] == beacon


def test_a_nul_character_anywhere_is_refused_not_a_server_error(client, runtime):
    world = World(client, runtime)
    office = client.post(
        "/api/v1/offices",
        json={"code": "nul", "name": "a\x00b", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    )
    assert office.status_code == 422
    key = client.post(
        "/api/v1/staff-keys", json={"role": "auditor", "label": "\x00"}, headers=auth(world.admin)
    )
    assert key.status_code == 422
    body = request_body(world.service, [world.office])
    body["identity"]["document_number"] = "AB\x0012345"
    assert client.post("/api/v1/requests", json=body).status_code == 422
