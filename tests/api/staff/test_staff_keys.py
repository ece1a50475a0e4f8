"""Staff keys: created by an admin, shown once, stored as a SHA-256, scoped, revoked at once."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.db.models import StaffKey
from app.runtime import Runtime
from tests.assertions import assert_problem, count_rows, text_cells
from tests.factories import World, auth, create_key, create_office


def new_key(client: TestClient, admin: str, **body: Any) -> dict[str, Any]:
    response = client.post("/api/v1/staff-keys", json={"role": "auditor", **body}, headers=auth(admin))
    assert response.status_code == 201, response.text
    return response.json()


def office_body(n: int = 1) -> dict[str, str]:
    return {"code": f"office-k{n}", "name": "Office", "timezone": "Europe/Paris"}


@pytest.fixture
def admin(runtime: Runtime) -> str:
    return create_key(runtime, "admin")


# --- creating ------------------------------------------------------------------------------------------


def test_an_admin_creates_a_key_shown_once_with_the_fsk_prefix(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    office = create_office(client, admin)["code"]

    response = client.post(
        "/api/v1/staff-keys",
        json={"role": "planner", "offices": [office], "label": "Planner of the week"},
        headers=auth(admin),
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "key", "role", "offices", "label", "created_at"}
    assert body["key"].startswith("fsk_")
    assert len(body["key"]) >= 4 + 43  # 256 random bits in urlsafe base64
    assert body["role"] == "planner"
    assert body["offices"] == [office]
    assert body["label"] == "Planner of the week"
    assert isinstance(body["id"], int)


def test_a_new_key_works_at_once(client: TestClient, admin: str) -> None:
    key = new_key(client, admin, role="admin")["key"]

    response = client.post("/api/v1/offices", json=office_body(), headers=auth(key))

    assert response.status_code == 201, response.text


def test_every_key_is_different(client: TestClient, admin: str) -> None:
    keys = {new_key(client, admin)["key"] for _ in range(5)}
    assert len(keys) == 5


def test_the_database_keeps_only_the_sha256_of_a_key_never_the_key(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    created = new_key(client, admin, role="admin", label="ops")
    key = created["key"]

    with runtime.engine.connect() as conn:
        row = conn.execute(select(StaffKey.__table__).where(StaffKey.__table__.c.id == created["id"])).one()
    assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in row.prefix

    cells = list(text_cells(runtime.engine))
    assert any(t == "staff_key" and c == "key_hash" for t, c, _ in cells)  # the scan really looks
    leaks = [(t, c) for t, c, text in cells if key in text or key[4:] in text]
    assert leaks == []


def test_a_key_is_not_shown_again_in_any_listing(client: TestClient, admin: str) -> None:
    key = new_key(client, admin)["key"]
    for path in ("/api/v1/offices", "/api/v1/services", "/api/v1/releases", "/openapi.json"):
        assert key not in client.get(path).text


@pytest.mark.parametrize("role", ["admin", "auditor"])
def test_admin_and_auditor_keys_need_no_office(client: TestClient, admin: str, role: str) -> None:
    created = new_key(client, admin, role=role)
    assert created["offices"] == []


def test_the_offices_of_a_key_are_kept_once_each_and_sorted(client: TestClient, admin: str) -> None:
    create_office(client, admin, code="b-office")
    create_office(client, admin, code="a-office")

    created = new_key(client, admin, role="desk", offices=["b-office", "a-office", "b-office"])

    assert created["offices"] == ["a-office", "b-office"]


@pytest.mark.parametrize("role", ["planner", "desk"])
def test_a_planner_or_desk_key_without_an_office_is_a_422_and_creates_nothing(
    client: TestClient, runtime: Runtime, admin: str, role: str
) -> None:
    before = count_rows(runtime, StaffKey)

    for body in ({"role": role}, {"role": role, "offices": []}):
        response = client.post("/api/v1/staff-keys", json=body, headers=auth(admin))
        problem = assert_problem(response, 422, "validation_error")
        assert [e["path"] for e in problem["errors"]] == ["offices"]

    assert count_rows(runtime, StaffKey) == before


@pytest.mark.parametrize("role", ["planner", "desk", "admin", "auditor"])
def test_a_key_for_an_unknown_office_is_a_422_and_creates_nothing(
    client: TestClient, runtime: Runtime, admin: str, role: str
) -> None:
    known = create_office(client, admin)["code"]
    before = count_rows(runtime, StaffKey)

    response = client.post(
        "/api/v1/staff-keys", json={"role": role, "offices": [known, "atlantis"]}, headers=auth(admin)
    )

    problem = assert_problem(response, 422, "validation_error")
    assert {e["path"] for e in problem["errors"]} == {"offices"}
    assert "atlantis" in problem["detail"]
    assert count_rows(runtime, StaffKey) == before


INVALID_KEYS = [
    pytest.param({"role": "root"}, "role", id="unknown-role"),
    pytest.param({"role": "Admin"}, "role", id="role-in-capitals"),
    pytest.param({"role": 1}, "role", id="role-as-number"),
    pytest.param({}, "role", id="no-role"),
    pytest.param({"role": "auditor", "offices": "paris"}, "offices", id="offices-not-a-list"),
    pytest.param({"role": "auditor", "offices": ["Not A Code"]}, "offices.0", id="office-not-a-code"),
    pytest.param({"role": "auditor", "label": "x" * 201}, "label", id="label-too-long"),
    pytest.param({"role": "auditor", "label": 7}, "label", id="label-as-number"),
    pytest.param({"role": "auditor", "expires": "never"}, "expires", id="unknown-field"),
]


@pytest.mark.parametrize(("body", "path"), INVALID_KEYS)
def test_an_invalid_key_request_is_a_422_naming_the_field(
    client: TestClient, runtime: Runtime, admin: str, body: dict[str, Any], path: str
) -> None:
    before = count_rows(runtime, StaffKey)

    problem = assert_problem(
        client.post("/api/v1/staff-keys", json=body, headers=auth(admin)), 422, "validation_error"
    )

    assert path in {e["path"] for e in problem["errors"]}
    assert count_rows(runtime, StaffKey) == before


# --- revoking ------------------------------------------------------------------------------------------


def test_a_revoked_key_stops_working_at_once(client: TestClient, admin: str) -> None:
    victim = new_key(client, admin, role="admin")
    assert client.post("/api/v1/offices", json=office_body(1), headers=auth(victim["key"])).status_code == 201

    revoked = client.delete(f"/api/v1/staff-keys/{victim['id']}", headers=auth(admin))

    assert revoked.status_code == 204
    assert revoked.content == b""
    response = client.post("/api/v1/offices", json=office_body(2), headers=auth(victim["key"]))
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_revoked_planner_can_no_longer_publish(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    planner = new_key(client, world.admin, role="planner", offices=[world.office])
    client.delete(f"/api/v1/staff-keys/{planner['id']}", headers=auth(world.admin))

    response = client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": "2026-12-02T08:00:00Z",
            "slots": [{"starts_at": "2026-12-03T08:00:00Z"}],
        },
        headers=auth(planner["key"]),
    )

    assert_problem(response, 401, "unauthorized")


def test_revoking_one_key_leaves_the_others_working(client: TestClient, admin: str) -> None:
    first = new_key(client, admin, role="admin")
    second = new_key(client, admin, role="admin")

    client.delete(f"/api/v1/staff-keys/{first['id']}", headers=auth(admin))

    assert client.post("/api/v1/offices", json=office_body(), headers=auth(second["key"])).status_code == 201


def test_an_admin_may_revoke_its_own_key_which_then_stops_working(client: TestClient, admin: str) -> None:
    me = new_key(client, admin, role="admin")

    assert client.delete(f"/api/v1/staff-keys/{me['id']}", headers=auth(me["key"])).status_code == 204

    assert_problem(
        client.post("/api/v1/offices", json=office_body(), headers=auth(me["key"])), 401, "unauthorized"
    )


def test_revoking_a_revoked_key_again_changes_nothing(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    victim = new_key(client, admin)
    assert client.delete(f"/api/v1/staff-keys/{victim['id']}", headers=auth(admin)).status_code == 204
    with runtime.engine.connect() as conn:
        first = conn.execute(
            select(StaffKey.__table__.c.revoked_at).where(StaffKey.__table__.c.id == victim["id"])
        ).scalar_one()

    assert client.delete(f"/api/v1/staff-keys/{victim['id']}", headers=auth(admin)).status_code == 204

    with runtime.engine.connect() as conn:
        again = conn.execute(
            select(StaffKey.__table__.c.revoked_at).where(StaffKey.__table__.c.id == victim["id"])
        ).scalar_one()
    assert first is not None
    assert again == first


def test_revoking_an_unknown_key_is_a_404(client: TestClient, admin: str) -> None:
    assert_problem(client.delete("/api/v1/staff-keys/987654", headers=auth(admin)), 404, "not_found")


@pytest.mark.parametrize("key_id", ["0", "-1", "abc", "1.5", str(2**31)])
def test_revoking_a_key_id_that_is_not_a_positive_integer_is_a_422(
    client: TestClient, admin: str, key_id: str
) -> None:
    assert_problem(
        client.delete(f"/api/v1/staff-keys/{key_id}", headers=auth(admin)), 422, "validation_error"
    )


# --- credentials ---------------------------------------------------------------------------------------

BAD_AUTHORIZATIONS = [
    pytest.param(None, id="no-header"),
    pytest.param("", id="empty-header"),
    pytest.param("Bearer", id="bearer-without-key"),
    pytest.param("Bearer    ", id="bearer-with-blanks"),
    pytest.param("Basic YWRtaW46YWRtaW4=", id="basic-auth"),
    pytest.param("Bearer garbage", id="garbage"),
    pytest.param("Bearer fsk_" + "A" * 43, id="well-formed-but-unknown"),
    pytest.param("Bearer fsk_", id="prefix-only"),
    pytest.param("Bearer " + "fsk_x" * 200, id="very-long"),
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS)
def test_a_missing_or_garbage_credential_is_a_401_problem_with_www_authenticate(
    client: TestClient, runtime: Runtime, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = client.post("/api/v1/offices", json=office_body(), headers=headers)

    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/offices").json() == []


def test_a_valid_key_sent_with_another_scheme_is_refused(client: TestClient, admin: str) -> None:
    response = client.post("/api/v1/offices", json=office_body(), headers={"Authorization": f"Token {admin}"})
    assert_problem(response, 401, "unauthorized")


def test_the_bearer_scheme_is_case_insensitive(client: TestClient, admin: str) -> None:
    response = client.post(
        "/api/v1/offices", json=office_body(), headers={"Authorization": f"bearer {admin}"}
    )
    assert response.status_code == 201, response.text


def test_an_applicants_access_code_is_not_a_staff_key(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    code = world.applicant()["access_code"]

    response = client.post("/api/v1/offices", json=office_body(), headers=auth(code))

    assert_problem(response, 401, "unauthorized")


def test_a_key_with_its_last_character_changed_is_refused(client: TestClient, admin: str) -> None:
    tampered = admin[:-1] + ("A" if admin[-1] != "A" else "B")
    assert_problem(
        client.post("/api/v1/offices", json=office_body(), headers=auth(tampered)), 401, "unauthorized"
    )
