"""Bad input that used to escape the rules (dates at the ends of the calendar, codes in upper case, a lost
code): each is a clear 4xx, and every operation declares its designed 503s."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.assertions import assert_problem
from tests.factories import World, auth, request_body
from tests.web.helpers import sign_in


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def test_a_duplicate_request_says_an_office_agent_can_help_with_a_lost_code(
    client: TestClient, world: World
) -> None:
    body = request_body(world.service, [world.office])
    assert client.post("/api/v1/requests", json=body).status_code == 201

    again = client.post("/api/v1/requests", json=body)

    problem = assert_problem(again, 409, "duplicate_request")
    assert "lost your access code" in problem["detail"].lower()
    assert "office agent" in problem["detail"]


@pytest.mark.parametrize(
    "moment", ["9999-12-31T23:59:59-12:00", "9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+14:00"]
)
def test_times_near_the_ends_of_the_calendar_are_a_422_not_a_500(
    client: TestClient, world: World, moment: str
) -> None:
    body = {
        "office": world.office,
        "service": world.service,
        "draw_at": moment,
        "slots": [{"starts_at": moment}],
    }

    response = client.post("/api/v1/releases", json=body, headers=auth(world.planner))

    assert_problem(response, 422, "validation_error")


def test_a_release_more_than_two_years_ahead_is_a_422(client: TestClient, world: World) -> None:
    later = (world.now + timedelta(days=3 * 365)).isoformat()
    body = {
        "office": world.office,
        "service": world.service,
        "draw_at": (world.now + timedelta(hours=1)).isoformat(),
        "slots": [{"starts_at": later}],
    }

    problem = assert_problem(
        client.post("/api/v1/releases", json=body, headers=auth(world.planner)), 422, "validation_error"
    )

    assert any("two years" in error["message"] for error in problem["errors"])


def test_a_planners_form_for_year_9999_is_a_422_page(client: TestClient, world: World) -> None:
    token = sign_in(client, world.planner)
    form = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "draw_at": "9999-12-31T23:00",
        "first_day": "9999-12-30",
        "last_day": "9999-12-31",
        "weekdays": ["1", "2", "3", "4", "5", "6", "7"],
        "times": "23:30",
        "desks": "1",
        "offer_ttl_hours": "",
    }

    assert client.post("/staff/releases", data=form).status_code == 422


def test_codes_are_accepted_in_any_case_and_stored_lower_case(client: TestClient, world: World) -> None:
    paris = client.post(
        "/api/v1/offices",
        json={"code": "PAR", "name": "Paris", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    )
    corsica = client.post(
        "/api/v1/offices",
        json={"code": "2A", "name": "Ajaccio", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    )
    again = client.post(
        "/api/v1/offices",
        json={"code": "par", "name": "Paris", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    )
    applied = client.post("/api/v1/requests", json=request_body(world.service.upper(), ["PAR", "2a"]))

    assert paris.status_code == 201, paris.text
    assert paris.json()["code"] == "par"
    assert corsica.json()["code"] == "2a"
    assert_problem(again, 409, "already_exists")
    assert applied.status_code == 201, applied.text
    assert client.get("/api/v1/releases?office=PAR").status_code == 200


def test_every_api_operation_declares_the_designed_503s(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    missing = [
        f"{method.upper()} {path}"
        for path, operations in schema["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
        if "503" not in operation["responses"]
    ]

    assert missing == []
    declared = schema["paths"]["/api/v1/requests"]["post"]["responses"]["503"]
    assert "busy_retry" in declared["description"] and "unavailable" in declared["description"]
