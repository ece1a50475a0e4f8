"""Counter and partner intake, the partner's own list and actions, readable codes: the channel contract."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from app.services import scheduler
from tests.factories import World, auth, create_key, create_office, request_body

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def _rows(runtime, sql: str, **params) -> list:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def _file(world: World, key: str, **overrides) -> dict:
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], **overrides), headers=auth(key)
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture
def world(client, runtime) -> World:
    return World(client, runtime)


def test_an_agent_files_a_counter_request_recorded_with_its_key(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    created = _file(world, agent)
    assert created["channel"] == "counter"
    assert created["status"] == "pending"
    (row,) = _rows(
        runtime, "SELECT channel, filed_by FROM appointment_request WHERE id = :id", id=created["id"]
    )
    assert row.channel == "counter"
    assert row.filed_by is not None
    (event,) = _rows(
        runtime,
        "SELECT actor FROM audit_event WHERE action = 'request.submitted' AND subject = :s",
        s=f"request:{created['id']}",
    )
    assert event.actor == f"staff:{row.filed_by}"


def test_an_online_request_is_channel_online_with_no_filer(world, runtime):
    created = world.applicant()
    assert created["channel"] == "online"
    (row,) = _rows(
        runtime, "SELECT channel, filed_by FROM appointment_request WHERE id = :id", id=created["id"]
    )
    assert (row.channel, row.filed_by) == ("online", None)


def test_an_agent_filing_with_another_office_first_gets_office_not_served_and_nothing_is_stored(
    world, runtime
):
    other = create_office(world.client, world.admin)["code"]
    agent = create_key(runtime, "agent", [world.office])
    body = request_body(world.service, [other, world.office])
    response = world.client.post("/api/v1/requests", json=body, headers=auth(agent))
    assert response.status_code == 422
    assert response.json()["code"] == "office_not_served"
    assert response.json()["errors"][0]["path"] == "offices.0"
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 0


def test_an_agent_may_list_another_office_after_its_own(world, runtime):
    other = create_office(world.client, world.admin)["code"]
    agent = create_key(runtime, "agent", [world.office])
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office, other]), headers=auth(agent)
    )
    assert response.status_code == 201


def test_a_partner_files_only_for_its_own_offices(world, runtime):
    other = create_office(world.client, world.admin)["code"]
    partner = create_key(runtime, "partner", [world.office])
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office, other]), headers=auth(partner)
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "offices.1"
    assert _file(world, partner)["channel"] == "partner"


@pytest.mark.parametrize("role", ["planner", "desk", "verifier", "auditor", "admin"])
def test_other_staff_roles_cannot_file_requests(world, runtime, role):
    key = create_key(runtime, role, [world.office])
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(key)
    )
    assert response.status_code == 403
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 0


def test_counter_intake_keeps_the_one_active_request_per_identity_rule(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    online = world.applicant(n=777)
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], n=777), headers=auth(agent)
    )
    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_request"
    assert online["channel"] == "online"


def test_a_revoked_filing_key_is_refused_at_once(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    (key_id,) = _rows(runtime, "SELECT id FROM staff_key WHERE role = 'partner'")[0]
    world.client.delete(f"/api/v1/staff-keys/{key_id}", headers=auth(world.admin))
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner)
    )
    assert response.status_code == 401


# Partner's list


def test_the_partner_list_is_newest_first_paginated_and_holds_only_its_own_requests(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    rival = create_key(runtime, "partner", [world.office])
    agent = create_key(runtime, "agent", [world.office])
    mine = [_file(world, partner)["id"] for _ in range(53)]
    _file(world, rival)
    _file(world, agent)
    world.applicant()
    first = world.client.get("/api/v1/partner/requests", headers=auth(partner))
    assert first.status_code == 200
    page = first.json()
    assert [item["id"] for item in page["items"]] == mine[::-1][:50]
    assert set(page["items"][0]) == {"id", "entry", "service", "status", "submitted_at"}
    second = world.client.get(
        "/api/v1/partner/requests", params={"cursor": page["next_cursor"]}, headers=auth(partner)
    ).json()
    assert [item["id"] for item in second["items"]] == mine[::-1][50:]
    assert second["next_cursor"] is None


def test_the_partner_list_refuses_other_roles_and_bad_cursors(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    partner = create_key(runtime, "partner", [world.office])
    assert world.client.get("/api/v1/partner/requests", headers=auth(agent)).status_code == 403
    assert world.client.get("/api/v1/partner/requests").status_code == 401
    bad = world.client.get("/api/v1/partner/requests", params={"cursor": "zz!"}, headers=auth(partner))
    assert bad.status_code == 422


# Partner reads and acts


def test_a_partner_reads_and_acts_on_its_request_and_the_log_names_the_partner(world, runtime, clock):
    partner = create_key(runtime, "partner", [world.office])
    filed = _file(world, partner)
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    seen = world.client.get(f"/api/v1/requests/{filed['id']}", headers=auth(partner))
    assert seen.status_code == 200
    assert seen.json()["status"] == "offered"
    accepted = world.client.post(f"/api/v1/requests/{filed['id']}/accept", headers=auth(partner))
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "booked"
    cancelled = world.client.post(f"/api/v1/requests/{filed['id']}/cancel", headers=auth(partner))
    assert cancelled.json()["status"] == "cancelled"
    (key_id,) = _rows(runtime, "SELECT filed_by FROM appointment_request WHERE id = :id", id=filed["id"])[0]
    actors = dict(
        _rows(
            runtime,
            "SELECT action, actor FROM audit_event WHERE subject = :s AND action IN "
            "('offer.accepted', 'booking.cancelled')",
            s=f"request:{filed['id']}",
        )
    )
    assert actors == {"offer.accepted": f"staff:{key_id}", "booking.cancelled": f"staff:{key_id}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("post", "/accept"), ("post", "/decline"), ("post", "/cancel"), ("get", "/booking/qr.svg")],
)
def test_a_partner_gets_404_on_anything_it_did_not_file_nothing_changes_and_an_audit_row_says_so(
    world, runtime, method, path
):
    partner = create_key(runtime, "partner", [world.office])
    rival = create_key(runtime, "partner", [world.office])
    agent = create_key(runtime, "agent", [world.office])
    others = [_file(world, rival), _file(world, agent), world.applicant()]
    for other in others:
        response = getattr(world.client, method)(
            f"/api/v1/requests/{other['id']}{path}", headers=auth(partner)
        )
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    statuses = {r[0] for r in _rows(runtime, "SELECT status FROM appointment_request")}
    assert statuses == {"pending"}
    refused = _rows(runtime, "SELECT subject FROM audit_event WHERE action = 'request.out_of_scope'")
    assert sorted(r[0] for r in refused) == sorted(f"request:{o['id']}" for o in others)


def test_an_agent_cannot_act_on_a_request_it_filed_and_the_applicant_code_still_works(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    filed = _file(world, agent)
    assert world.client.post(f"/api/v1/requests/{filed['id']}/cancel", headers=auth(agent)).status_code == 404
    own = world.client.get(f"/api/v1/requests/{filed['id']}", headers=auth(filed["access_code"]))
    assert own.status_code == 200


def test_a_revoked_partner_key_stops_at_once_while_the_applicant_code_keeps_working(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    filed = _file(world, partner)
    (key_id,) = _rows(runtime, "SELECT filed_by FROM appointment_request WHERE id = :id", id=filed["id"])[0]
    assert world.client.get(f"/api/v1/requests/{filed['id']}", headers=auth(partner)).status_code == 200
    world.client.delete(f"/api/v1/staff-keys/{key_id}", headers=auth(world.admin))
    assert world.client.get(f"/api/v1/requests/{filed['id']}", headers=auth(partner)).status_code == 401
    assert world.client.get("/api/v1/partner/requests", headers=auth(partner)).status_code == 401
    own = world.client.get(f"/api/v1/requests/{filed['id']}", headers=auth(filed["access_code"]))
    assert own.status_code == 200


# Readable codes


def test_new_access_codes_are_four_groups_of_crockford_symbols(world):
    assert CODE.match(world.applicant()["access_code"])


def test_an_access_code_opens_its_request_whatever_the_case_dashes_spaces_and_look_alikes(world):
    created = world.applicant()
    code = created["access_code"]
    loose = code.replace("-", " ").lower().replace("0", "o").replace("1", "l")
    for typed in (code, code.replace("-", ""), loose):
        response = world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(typed))
        assert response.status_code == 200, typed


def test_the_entry_reference_stands_for_the_request_id(world):
    created = world.applicant()
    entry = created["entry"]
    for reference in (entry, entry.lower(), entry.replace("-", "")):
        response = world.client.get(f"/api/v1/requests/{reference}", headers=auth(created["access_code"]))
        assert response.status_code == 200, reference
        assert response.json()["id"] == created["id"]
    wrong = world.client.get(f"/api/v1/requests/{entry}", headers=auth("0000-0000-0000-0000"))
    assert wrong.status_code == 404


def test_an_access_code_issued_before_the_readable_format_keeps_working(world, runtime):
    from app.domain.access_codes import hash_code

    created = world.applicant()
    old = "Zk3_mixedCase-urlsafe-code-from-2025-aaaaaaaa"
    with runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE appointment_request SET access_code_hash = :h WHERE id = :id"),
            {"h": hash_code(old), "id": created["id"]},
        )
    assert world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(old)).status_code == 200
    assert world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(old.lower())).status_code == 404


# Staff statistics


def test_staff_see_counts_per_channel_and_per_filing_key(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    agent = create_key(runtime, "agent", [world.office])
    filed = [_file(world, partner) for _ in range(3)]
    _file(world, agent)
    world.applicant()
    world.client.post(f"/api/v1/requests/{filed[0]['id']}/cancel", headers=auth(partner))
    auditor = create_key(runtime, "auditor")
    stats = world.client.get("/api/v1/channel-stats", headers=auth(auditor))
    assert stats.status_code == 200
    body = stats.json()
    assert body["by_channel"] == {"online": 1, "counter": 1, "partner": 3}
    top = body["filers"][0]
    assert (top["role"], top["filed"], top["active"], top["closed_unattended"]) == ("partner", 3, 2, 1)
    assert world.client.get("/api/v1/channel-stats", headers=auth(partner)).status_code == 403
    assert world.client.get("/api/v1/channel-stats", headers=auth(agent)).status_code == 403


def test_a_partner_retrying_with_the_same_idempotency_key_files_once_and_gets_the_same_answer(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    body = request_body(world.service, [world.office])
    headers = {**auth(partner), "Idempotency-Key": "partner-retry-1"}
    first = world.client.post("/api/v1/requests", json=body, headers=headers)
    again = world.client.post("/api/v1/requests", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 1
