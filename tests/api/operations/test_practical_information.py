"""Practical information: an office's address, phone, access notes and holiday region, a service's names and
papers to bring per language; created and edited by admins, listed by anyone, seen by every process at once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.engine import make_engine
from app.main import create_app
from app.runtime import Runtime
from tests.assertions import assert_problem
from tests.conftest import test_settings
from tests.factories import auth, create_key, create_office, create_service, request_body


@pytest.fixture
def admin(runtime: Runtime) -> str:
    return create_key(runtime, "admin")


def offices(client: TestClient) -> dict[str, dict[str, Any]]:
    return {o["code"]: o for o in client.get("/api/v1/offices").json()}


def services(client: TestClient) -> dict[str, dict[str, Any]]:
    return {s["code"]: s for s in client.get("/api/v1/services").json()}


def error_paths(response: Any) -> set[str]:
    return {e["path"] for e in assert_problem(response, 422, "validation_error")["errors"]}


# --- offices -------------------------------------------------------------------------------------------


def test_an_office_is_created_with_its_practical_information_and_its_phone_in_e164(
    client: TestClient, admin: str
) -> None:
    create_office(
        client,
        admin,
        code="saint-denis-re",
        name="Préfecture de La Réunion",
        timezone="Indian/Reunion",
        address="6 rue des Messageries, 97400 Saint-Denis",
        phone="0262 40 75 75",
        access_notes="Entrée par la rue de Paris.\nAccès de plain-pied par la porte latérale.",
        holiday_region="re",
    )

    shown = offices(client)["saint-denis-re"]

    assert shown == {
        "code": "saint-denis-re",
        "name": "Préfecture de La Réunion",
        "timezone": "Indian/Reunion",
        "address": "6 rue des Messageries, 97400 Saint-Denis",
        "phone": "+262262407575",
        "access_notes": "Entrée par la rue de Paris.\nAccès de plain-pied par la porte latérale.",
        "holiday_region": "RE",
    }


def test_an_admin_edits_an_office_and_null_clears_what_it_names(client: TestClient, admin: str) -> None:
    create_office(
        client, admin, code="metz", name="Metz", address="9 place de la Préfecture", phone="0387343434"
    )

    response = client.patch(
        "/api/v1/offices/METZ",
        json={
            "phone": "+33 3 87 34 87 34",
            "holiday_region": "GES",
            "address": None,
            "access_notes": "Rampe",
        },
        headers=auth(admin),
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "code": "metz",
        "name": "Metz",
        "timezone": "Europe/Paris",
        "address": None,
        "phone": "+33387348734",
        "access_notes": "Rampe",
        "holiday_region": "GES",
    }
    assert offices(client)["metz"] == response.json()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"holiday_region": "XX"}, "holiday_region", id="unknown-region"),
        pytest.param({"holiday_region": "Bavaria"}, "holiday_region", id="not-french"),
        pytest.param({"phone": "12"}, "phone", id="not-a-phone"),
        pytest.param({"phone": "+33 1 23"}, "phone", id="too-short"),
        pytest.param({"access_notes": "x" * 1001}, "access_notes", id="notes-too-long"),
        pytest.param({"access_notes": "bell \u202e gnir"}, "access_notes", id="bidi-override"),
        pytest.param({"address": "a" * 301}, "address", id="address-too-long"),
        pytest.param({"timezone": "Indian/Reunion"}, "timezone", id="timezone-is-not-editable"),
        pytest.param({"name": ""}, "name", id="empty-name"),
    ],
)
def test_a_bad_office_edit_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, admin: str, change: dict[str, Any], path: str
) -> None:
    create_office(client, admin, code="lyon", name="Lyon", phone="0472616161", holiday_region=None)
    before = offices(client)["lyon"]

    response = client.patch("/api/v1/offices/lyon", json=change, headers=auth(admin))

    assert path in error_paths(response)
    assert offices(client)["lyon"] == before


def test_a_region_the_holidays_package_does_not_know_is_refused_at_creation_too(
    client: TestClient, admin: str
) -> None:
    body = {"code": "x", "name": "X", "timezone": "Europe/Paris", "holiday_region": "ZZ"}

    response = client.post("/api/v1/offices", json=body, headers=auth(admin))

    assert error_paths(response) == {"holiday_region"}
    assert offices(client) == {}


def test_only_an_admin_edits_an_office_and_an_unknown_one_is_a_404(
    client: TestClient, runtime: Runtime, admin: str
) -> None:
    office = create_office(client, admin, code="nantes", name="Nantes")
    planner = create_key(runtime, "planner", ["nantes"])

    refused = client.patch("/api/v1/offices/nantes", json={"name": "Mine"}, headers=auth(planner))
    unknown = client.patch("/api/v1/offices/nowhere", json={"name": "X"}, headers=auth(admin))
    anonymous = client.patch("/api/v1/offices/nantes", json={"name": "X"})

    assert_problem(refused, 403, "forbidden")
    assert_problem(unknown, 404, "not_found")
    assert_problem(anonymous, 401, "unauthorized")
    assert offices(client)["nantes"] == office


# --- services ------------------------------------------------------------------------------------------


def test_a_service_shows_its_names_and_papers_per_language_and_falls_back_to_its_name(
    client: TestClient, admin: str
) -> None:
    create_service(client, admin, code="renewal", name="Renouvellement")
    create_service(
        client,
        admin,
        code="first",
        name="Premier titre",
        names={"en": "First permit", "fr": "Premier titre de séjour"},
        documents={"fr": ["Passeport", "Justificatif de domicile"], "ar": ["جواز السفر"]},
    )

    shown = services(client)

    assert shown["renewal"]["names"] == {"fr": "Renouvellement"}
    assert shown["renewal"]["documents"] == {}
    assert shown["first"]["names"] == {"fr": "Premier titre de séjour", "en": "First permit"}
    assert shown["first"]["documents"] == {
        "fr": ["Passeport", "Justificatif de domicile"],
        "ar": ["جواز السفر"],
    }


def test_an_admin_edits_a_services_names_papers_and_one_rule_keeping_the_others(
    client: TestClient, admin: str
) -> None:
    create_service(client, admin, code="renewal", weight_policy={"vulnerability": 2})

    response = client.patch(
        "/api/v1/services/renewal",
        json={
            "names": {"fr": "Renouvellement", "uk": "Поновлення"},
            "documents": {"fr": ["Ancien titre"]},
            "weight_policy": {"waiting_cap": 4},
            "slot_minutes": 20,
        },
        headers=auth(admin),
    )

    assert response.status_code == 200, response.text
    service = response.json()
    assert service["names"] == {"fr": "Renouvellement", "uk": "Поновлення"}
    assert service["documents"] == {"fr": ["Ancien titre"]}
    assert service["slot_minutes"] == 20
    assert service["weight_policy"]["waiting_cap"] == "4"
    assert service["weight_policy"]["vulnerability"] == "2"  # kept
    assert service["weight_policy"]["entry_verification"] == "none"  # kept
    cleared = client.patch("/api/v1/services/renewal", json={"documents": {}}, headers=auth(admin))
    assert cleared.json()["documents"] == {}
    assert services(client)["renewal"] == cleared.json()


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"names": {"en": "Renewal"}}, "names", id="names-without-french"),
        pytest.param({"names": {"fr": "A", "de": "B"}}, "names", id="names-unknown-language"),
        pytest.param({"names": {"fr": "n" * 201}}, "names.fr", id="name-too-long"),
        pytest.param({"names": None}, "body", id="names-cleared"),
        pytest.param({"documents": {"en": ["Passport"]}}, "documents", id="documents-without-french"),
        pytest.param({"documents": {"fr": ["x"] * 21}}, "documents.fr", id="too-many-papers"),
        pytest.param({"documents": {"fr": ["p" * 201]}}, "documents.fr.0", id="paper-too-long"),
        pytest.param({"documents": {"fr": []}}, "documents.fr", id="empty-list"),
        pytest.param({"documents": {"fr": ["ok", ""]}}, "documents.fr.1", id="empty-paper"),
        pytest.param({"slot_minutes": 0}, "slot_minutes", id="slot-zero"),
        pytest.param({"weight_policy": {"waiting_cap": 0.5}}, "weight_policy.waiting_cap", id="bad-rule"),
        pytest.param({"code": "other"}, "code", id="code-is-not-editable"),
    ],
)
def test_a_bad_service_edit_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, admin: str, change: dict[str, Any], path: str
) -> None:
    create_service(client, admin, code="renewal", documents={"fr": ["Passeport"]})
    before = services(client)["renewal"]

    response = client.patch("/api/v1/services/renewal", json=change, headers=auth(admin))

    assert path in error_paths(response)
    assert services(client)["renewal"] == before


def test_only_an_admin_edits_a_service(client: TestClient, runtime: Runtime, admin: str) -> None:
    create_service(client, admin, code="renewal")
    auditor = create_key(runtime, "auditor")

    response = client.patch("/api/v1/services/renewal", json={"name": "X"}, headers=auth(auditor))

    assert_problem(response, 403, "forbidden")
    assert services(client)["renewal"]["name"] == "Test service"


# --- every process sees an edit at once ----------------------------------------------------------------


@pytest.fixture
def other_process(runtime: Runtime, database_url: str, clock: FrozenClock) -> Iterator[TestClient]:
    """A second app with its own engine: another worker process as far as any per-process cache goes."""
    engine = make_engine(database_url)
    other = Runtime(settings=test_settings(database_url), engine=engine, clock=clock)
    with TestClient(create_app(other), raise_server_exceptions=False) as other_client:
        yield other_client
    engine.dispose()


def test_a_rule_edited_in_another_process_counts_for_the_next_submission_here(
    client: TestClient, admin: str, other_process: TestClient
) -> None:
    office = create_office(client, admin)["code"]
    service = create_service(client, admin)["code"]
    first = client.post("/api/v1/requests", json=request_body(service, [office]))
    assert first.status_code == 201, first.text  # this process now holds the service for intake

    edited = other_process.patch(
        f"/api/v1/services/{service}",
        json={"weight_policy": {"entry_verification": "phone"}},
        headers=auth(admin),
    )
    assert edited.status_code == 200, edited.text

    without_phone = client.post("/api/v1/requests", json=request_body(service, [office]))
    with_phone = client.post(
        "/api/v1/requests", json=request_body(service, [office], contact={"phone": "06 12 34 56 78"})
    )
    assert [e["path"] for e in assert_problem(without_phone, 422, "validation_error")["errors"]] == [
        "contact.phone"
    ]
    assert with_phone.status_code == 201, with_phone.text
    assert with_phone.json()["verification"]["status"] == "unverified"


def test_an_office_edited_in_another_process_shows_here_at_once(
    client: TestClient, admin: str, other_process: TestClient
) -> None:
    office = create_office(client, admin)["code"]
    assert offices(client)[office]["phone"] is None

    other_process.patch(f"/api/v1/offices/{office}", json={"phone": "01 42 76 40 40"}, headers=auth(admin))

    assert offices(client)[office]["phone"] == "+33142764040"
