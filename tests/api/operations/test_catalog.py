"""Catalogue: offices and services, listed by anyone, created by an admin, validated strictly."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db.models import Office, Service
from app.runtime import Runtime
from tests.assertions import assert_problem, count_rows
from tests.factories import auth, create_key, create_office, create_service

DEFAULT_POLICY = {
    "expiry_bands": [
        {"within_days": 30, "multiplier": "4"},
        {"within_days": 60, "multiplier": "3"},
        {"within_days": 90, "multiplier": "2"},
    ],
    "vulnerability": "1.5",
    "waiting_step": "0.25",
    "waiting_cap": "3",
    "no_show": "0.5",
    "no_show_window_days": 180,
    "confirm_window_days": [7, 2],
    "verify_claims": "at_desk",
    "false_claim_exclusion_days": 180,
    "entry_verification": "phone",
    "max_requests_per_phone": 3,
    "verify_within_days": 7,
    "office_cancelled_factor": "10",
    "sms_not_selected": False,
}
#: The factory's services ask no entry verification unless a test says so.
FACTORY_POLICY = {**DEFAULT_POLICY, "entry_verification": "none"}
#: What an office shows beyond its code, name and time zone when none of it was given.
NO_PRACTICAL_INFORMATION = {"address": None, "phone": None, "access_notes": None, "holiday_region": None}


def error_paths(body: dict[str, Any]) -> set[str]:
    return {error["path"] for error in body["errors"]}


@pytest.fixture
def admin(runtime: Runtime) -> str:
    return create_key(runtime, "admin")


# --- listing -------------------------------------------------------------------------------------------


def test_anyone_can_list_offices_and_services_even_when_there_are_none(client: TestClient) -> None:
    assert client.get("/api/v1/offices").json() == []
    assert client.get("/api/v1/services").json() == []


def test_anyone_can_list_offices_sorted_by_code_without_a_key(client: TestClient, admin: str) -> None:
    create_office(client, admin, code="paris-15", name="Paris 15e")
    create_office(client, admin, code="cayenne", name="Cayenne", timezone="America/Cayenne")

    response = client.get("/api/v1/offices")

    assert response.status_code == 200
    assert response.json() == [
        {"code": "cayenne", "name": "Cayenne", "timezone": "America/Cayenne", **NO_PRACTICAL_INFORMATION},
        {"code": "paris-15", "name": "Paris 15e", "timezone": "Europe/Paris", **NO_PRACTICAL_INFORMATION},
    ]


def test_anyone_can_list_services_with_their_effective_weight_policy(client: TestClient, admin: str) -> None:
    create_service(client, admin, code="renewal", name="Renewal", slot_minutes=20)
    create_service(
        client, admin, code="first-permit", name="First permit", weight_policy={"vulnerability": 2}
    )

    services = client.get("/api/v1/services").json()

    assert [s["code"] for s in services] == ["first-permit", "renewal"]
    assert services[0]["weight_policy"] == {**FACTORY_POLICY, "vulnerability": "2"}
    assert services[1] == {
        "code": "renewal",
        "name": "Renewal",
        "slot_minutes": 20,
        "weight_policy": FACTORY_POLICY,
        "names": {"fr": "Renewal"},
        "documents": {},
    }


# --- creating ------------------------------------------------------------------------------------------


def test_an_admin_creates_an_office_and_gets_exactly_its_code_name_and_timezone(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    body = {"code": "lyon-3", "name": "Lyon 3e", "timezone": "Europe/Paris"}

    response = client.post("/api/v1/offices", json=body, headers=auth(admin))

    assert response.status_code == 201, response.text
    assert response.json() == {**body, **NO_PRACTICAL_INFORMATION}
    assert count_rows(runtime, Office) == 1
    assert client.get("/api/v1/offices").json() == [{**body, **NO_PRACTICAL_INFORMATION}]


def test_an_office_name_is_trimmed_of_surrounding_spaces(client: TestClient, admin: str) -> None:
    office = create_office(client, admin, code="nantes", name="  Nantes  ")
    assert office["name"] == "Nantes"


def test_an_admin_creates_a_service_that_shows_the_default_weight_policy(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    response = client.post(
        "/api/v1/services",
        json={"code": "renewal", "name": "Permit renewal", "slot_minutes": 30},
        headers=auth(admin),
    )

    assert response.status_code == 201, response.text
    assert response.json() == {
        "code": "renewal",
        "name": "Permit renewal",
        "slot_minutes": 30,
        "weight_policy": DEFAULT_POLICY,
        "names": {"fr": "Permit renewal"},
        "documents": {},
    }
    assert count_rows(runtime, Service) == 1


def test_a_new_service_shows_its_weight_policy_with_the_overrides_applied(
    client: TestClient, admin: str
) -> None:
    overrides = {
        "expiry_bands": [{"within_days": 45, "multiplier": 2.5}, {"within_days": 10, "multiplier": 5}],
        "vulnerability": "1.25",
        "no_show_window_days": 90,
    }

    response = client.post(
        "/api/v1/services",
        json={"code": "asylum", "name": "Asylum", "slot_minutes": 60, "weight_policy": overrides},
        headers=auth(admin),
    )

    assert response.status_code == 201, response.text
    assert response.json()["weight_policy"] == {
        "expiry_bands": [
            {"within_days": 10, "multiplier": "5"},
            {"within_days": 45, "multiplier": "2.5"},
        ],
        "vulnerability": "1.25",
        "waiting_step": "0.25",
        "waiting_cap": "3",
        "no_show": "0.5",
        "no_show_window_days": 90,
        "confirm_window_days": [7, 2],
        "verify_claims": "at_desk",
        "false_claim_exclusion_days": 180,
        "entry_verification": "phone",
        "max_requests_per_phone": 3,
        "verify_within_days": 7,
        "office_cancelled_factor": "10",
        "sms_not_selected": False,
    }


@pytest.mark.parametrize("slot_minutes", [5, 480], ids=["shortest", "longest"])
def test_slot_lengths_at_the_bounds_are_accepted(client: TestClient, admin: str, slot_minutes: int) -> None:
    service = create_service(client, admin, slot_minutes=slot_minutes)
    assert service["slot_minutes"] == slot_minutes


def test_a_taken_office_code_is_a_409_already_exists_and_leaves_the_first_office_alone(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    create_office(client, admin, code="lille", name="Lille")

    response = client.post(
        "/api/v1/offices",
        json={"code": "lille", "name": "Another Lille", "timezone": "Europe/Paris"},
        headers=auth(admin),
    )

    assert_problem(response, 409, "already_exists")
    assert count_rows(runtime, Office) == 1
    assert client.get("/api/v1/offices").json()[0]["name"] == "Lille"


def test_a_taken_service_code_is_a_409_already_exists(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    create_service(client, admin, code="renewal", slot_minutes=30)

    response = client.post(
        "/api/v1/services",
        json={"code": "renewal", "name": "Other", "slot_minutes": 45},
        headers=auth(admin),
    )

    assert_problem(response, 409, "already_exists")
    assert count_rows(runtime, Service) == 1
    assert client.get("/api/v1/services").json()[0]["slot_minutes"] == 30


def test_an_office_and_a_service_may_share_a_code(client: TestClient, admin: str) -> None:
    create_office(client, admin, code="bobigny")
    create_service(client, admin, code="bobigny")


# --- validation ----------------------------------------------------------------------------------------

VALID_OFFICE = {"code": "metz", "name": "Metz", "timezone": "Europe/Paris"}
INVALID_OFFICES = [
    pytest.param({"timezone": "Mars/Olympus_Mons"}, "timezone", id="unknown-timezone"),
    pytest.param({"timezone": "CET+1"}, "timezone", id="made-up-timezone"),
    pytest.param({"timezone": ""}, "timezone", id="empty-timezone"),
    pytest.param({"timezone": 1}, "timezone", id="timezone-as-number"),
    pytest.param({"code": "metz centre"}, "code", id="code-with-space"),
    pytest.param({"code": "-metz"}, "code", id="code-starting-with-dash"),
    pytest.param({"code": ""}, "code", id="empty-code"),
    pytest.param({"code": "m" * 33}, "code", id="code-too-long"),
    pytest.param({"code": True}, "code", id="code-as-boolean"),
    pytest.param({"name": ""}, "name", id="empty-name"),
    pytest.param({"name": "   "}, "name", id="blank-name"),
    pytest.param({"name": 42}, "name", id="name-as-number"),
    pytest.param({"name": "n" * 201}, "name", id="name-too-long"),
    pytest.param({"city": "Metz"}, "city", id="unknown-field"),
]


@pytest.mark.parametrize(("change", "path"), INVALID_OFFICES)
def test_an_invalid_office_is_a_422_naming_the_field_and_creates_nothing(
    client: TestClient, runtime: Runtime, admin: str, change: dict[str, Any], path: str
) -> None:
    response = client.post("/api/v1/offices", json={**VALID_OFFICE, **change}, headers=auth(admin))

    body = assert_problem(response, 422, "validation_error")
    assert path in error_paths(body)
    assert count_rows(runtime, Office) == 0


@pytest.mark.parametrize("missing", ["code", "name", "timezone"])
def test_an_office_without_a_required_field_is_a_422_naming_it(
    client: TestClient, runtime: Runtime, admin: str, missing: str
) -> None:
    body = {k: v for k, v in VALID_OFFICE.items() if k != missing}

    problem = assert_problem(
        client.post("/api/v1/offices", json=body, headers=auth(admin)), 422, "validation_error"
    )

    assert missing in error_paths(problem)
    assert count_rows(runtime, Office) == 0


VALID_SERVICE = {"code": "renewal", "name": "Renewal", "slot_minutes": 30}
INVALID_SERVICES = [
    pytest.param({"slot_minutes": 4}, "slot_minutes", id="slot-too-short"),
    pytest.param({"slot_minutes": 481}, "slot_minutes", id="slot-too-long"),
    pytest.param({"slot_minutes": 0}, "slot_minutes", id="slot-zero"),
    pytest.param({"slot_minutes": -30}, "slot_minutes", id="slot-negative"),
    pytest.param({"slot_minutes": True}, "slot_minutes", id="slot-as-boolean"),
    pytest.param({"slot_minutes": "30"}, "slot_minutes", id="slot-as-string"),
    pytest.param({"slot_minutes": 30.5}, "slot_minutes", id="slot-as-fraction"),
    pytest.param({"slot_minutes": None}, "slot_minutes", id="slot-null"),
    pytest.param({"code": "Renewal!"}, "code", id="bad-code"),
    pytest.param({"price": 0}, "price", id="unknown-field"),
    pytest.param(
        {"weight_policy": {"vulnerability": True}}, "weight_policy.vulnerability", id="boolean-multiplier"
    ),
    pytest.param(
        {"weight_policy": {"vulnerability": 0}}, "weight_policy.vulnerability", id="zero-multiplier"
    ),
    pytest.param(
        {"weight_policy": {"vulnerability": 101}}, "weight_policy.vulnerability", id="huge-multiplier"
    ),
    pytest.param(
        {"weight_policy": {"vulnerability": "lots"}}, "weight_policy.vulnerability", id="word-multiplier"
    ),
    pytest.param({"weight_policy": {"waiting_cap": 0.5}}, "weight_policy.waiting_cap", id="cap-below-one"),
    pytest.param({"weight_policy": {"colour": "red"}}, "weight_policy.colour", id="unknown-policy-field"),
    pytest.param({"weight_policy": {"expiry_bands": []}}, "weight_policy.expiry_bands", id="no-expiry-bands"),
    pytest.param(
        {"weight_policy": {"expiry_bands": [{"within_days": 10, "multiplier": True}]}},
        "weight_policy.expiry_bands.0.multiplier",
        id="boolean-band-multiplier",
    ),
    pytest.param(
        {"weight_policy": {"expiry_bands": [{"within_days": -1, "multiplier": 2}]}},
        "weight_policy.expiry_bands.0.within_days",
        id="negative-band-days",
    ),
    pytest.param(
        {
            "weight_policy": {
                "expiry_bands": [{"within_days": 10, "multiplier": 2}, {"within_days": 10, "multiplier": 3}]
            }
        },
        "weight_policy",
        id="repeated-band-days",
    ),
    pytest.param({"weight_policy": [1, 2]}, "weight_policy", id="policy-not-an-object"),
]


@pytest.mark.parametrize(("change", "path"), INVALID_SERVICES)
def test_an_invalid_service_is_a_422_naming_the_field_and_creates_nothing(
    client: TestClient, runtime: Runtime, admin: str, change: dict[str, Any], path: str
) -> None:
    response = client.post("/api/v1/services", json={**VALID_SERVICE, **change}, headers=auth(admin))

    body = assert_problem(response, 422, "validation_error")
    assert path in error_paths(body)
    assert count_rows(runtime, Service) == 0


def test_every_invalid_field_of_a_body_is_reported_at_once(client: TestClient, admin: str) -> None:
    response = client.post(
        "/api/v1/offices",
        json={"code": "Bad Code", "name": "", "timezone": "Nowhere/Atlantis", "extra": 1},
        headers=auth(admin),
    )

    body = assert_problem(response, 422, "validation_error")
    assert {"code", "name", "timezone", "extra"} <= error_paths(body)
    assert all(error["message"] for error in body["errors"])


# --- a policy read back ---------------------------------------------------------------------------------


def test_a_service_policy_read_from_the_list_is_accepted_when_posted_back(
    client: TestClient, admin: str
) -> None:
    create_service(client, admin, code="original", weight_policy={"confirm_window_days": [10, 3]})
    shown = next(s for s in client.get("/api/v1/services").json() if s["code"] == "original")
    assert shown["weight_policy"]["confirm_window_days"] == [10, 3]  # a JSON array

    copied = client.post(
        "/api/v1/services",
        json={"code": "copy", "name": "Copy", "slot_minutes": 30, "weight_policy": shown["weight_policy"]},
        headers=auth(admin),
    )

    assert copied.status_code == 201, copied.text
    assert copied.json()["weight_policy"] == shown["weight_policy"]


@pytest.mark.parametrize(
    "window",
    [
        pytest.param(["7", "2"], id="strings"),
        pytest.param([7.0, 2.0], id="fractions"),
        pytest.param([True, False], id="booleans"),
        pytest.param([7, 2, 1], id="three-numbers"),
        pytest.param([7], id="one-number"),
        pytest.param([2, 7], id="closes-before-it-opens"),
    ],
)
def test_a_confirm_window_is_two_whole_numbers_of_days(
    client: TestClient, admin: str, runtime: Runtime, window: list[Any]
) -> None:
    body = {**VALID_SERVICE, "weight_policy": {"confirm_window_days": window}}

    problem = assert_problem(
        client.post("/api/v1/services", json=body, headers=auth(admin)), 422, "validation_error"
    )

    assert any(path.startswith("weight_policy") for path in error_paths(problem))
    assert count_rows(runtime, Service) == 0
