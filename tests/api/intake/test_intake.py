"""Applicant intake: one identity, one active request per service; weights with reasons; 404 for strangers."""

from __future__ import annotations

import copy
import hashlib
import logging
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import AppointmentRequest
from app.runtime import Runtime
from tests.assertions import assert_problem, text_cells
from tests.factories import World, auth, create_office, create_service, request_body

TODAY = date(2026, 12, 1)  # the frozen clock's day, in Paris too
ENTRY = re.compile(r"^FS-[A-Z2-9]{5}-[A-Z2-9]{5}$")


def count_requests(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(AppointmentRequest.__table__)).scalar_one()


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def submit(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/requests", json=body)


def with_identity(body: dict[str, Any], **identity: Any) -> dict[str, Any]:
    body = copy.deepcopy(body)
    body["identity"].update(identity)
    return body


# --- intake --------------------------------------------------------------------------------------------


def test_a_request_is_accepted_as_pending_with_an_entry_and_an_access_code(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    response = submit(client, request_body(world.service, [world.office]))

    assert response.status_code == 201, response.text
    body = response.json()
    assert str(uuid.UUID(body["id"])) == body["id"]
    assert ENTRY.match(body["entry"])
    assert body["status"] == "pending"
    assert body["service"] == world.service
    assert body["offices"] == [world.office]
    assert body["draws_entered"] == 0
    assert body["draws"] == []
    assert body["offer"] is None
    assert body["booking"] is None
    assert body["weight"]["total"] == "1.0000"
    assert body["weight"]["as_of"] == TODAY.isoformat()
    assert count_requests(runtime) == 1


def test_the_access_code_carries_at_least_80_random_bits_in_readable_crockford_groups(
    client: TestClient, world: World
) -> None:
    codes = [world.applicant()["access_code"] for _ in range(3)]

    for code in codes:
        symbols = code.replace("-", "")
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3,}", code)
        assert len(symbols) * 5 >= 80  # five bits per Crockford symbol
    assert len(set(codes)) == 3


def test_entries_and_ids_differ_between_requests(client: TestClient, world: World) -> None:
    first, second = world.applicant(), world.applicant()
    assert first["id"] != second["id"]
    assert first["entry"] != second["entry"]


def test_the_offices_keep_the_preference_order_given(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    second = create_office(client, world.admin)["code"]

    created = submit(client, request_body(world.service, [second, world.office])).json()

    assert created["offices"] == [second, world.office]


# --- weights -------------------------------------------------------------------------------------------

EXPIRY_CASES = [
    pytest.param(20, "4", id="20-days-x4"),
    pytest.param(0, "4", id="today-x4"),
    pytest.param(30, "4", id="30-days-x4"),
    pytest.param(31, "3", id="31-days-x3"),
    pytest.param(50, "3", id="50-days-x3"),
    pytest.param(60, "3", id="60-days-x3"),
    pytest.param(61, "2", id="61-days-x2"),
    pytest.param(80, "2", id="80-days-x2"),
    pytest.param(90, "2", id="90-days-x2"),
    pytest.param(91, "1", id="91-days-x1"),
    pytest.param(200, "1", id="200-days-x1"),
    pytest.param(-1, "4", id="expired-yesterday-x4"),
    pytest.param(-400, "4", id="expired-long-ago-x4"),
]


@pytest.mark.parametrize(("days", "factor"), EXPIRY_CASES)
def test_the_expiry_factor_follows_the_days_left_on_the_permit(
    client: TestClient, world: World, days: int, factor: str
) -> None:
    expires = (TODAY + timedelta(days=days)).isoformat()

    weight = world.applicant(permit_expires_on=expires)["weight"]

    expiry = weight["factors"][0]
    assert expiry["name"] == "expiry"
    assert expiry["value"] == factor
    assert expiry["reason"]
    assert weight["total"] == f"{Decimal(factor):.4f}"


def test_an_unknown_expiry_counts_once_and_says_why(client: TestClient, world: World) -> None:
    weight = world.applicant()["weight"]
    assert weight["factors"][0] == {
        "name": "expiry",
        "value": "1",
        "reason": "no permit expiry date given",
        "code": "no_expiry_date",
        "params": {},
        "claim": None,
    }
    assert weight["total"] == "1.0000"


def test_each_factor_carries_a_stable_code_and_its_data(client: TestClient, world: World) -> None:
    expires = (TODAY + timedelta(days=20)).isoformat()

    weight = world.applicant(permit_expires_on=expires, vulnerabilities=["pregnancy"])["weight"]

    codes = {f["name"]: (f["code"], f["params"]) for f in weight["factors"]}
    assert codes == {
        "expiry": ("permit_expires_within", {"days": 20, "within_days": 30, "claim_status": "declared"}),
        "vulnerability": (
            "vulnerability_declared",
            {"vulnerabilities": ["pregnancy"], "claim_status": "declared"},
        ),
        "waiting": ("no_draw_lost", {}),
        "no_show": ("no_no_show", {"window_days": 180}),
    }


def test_the_reasons_say_how_many_days_are_left_or_gone(client: TestClient, world: World) -> None:
    soon = world.applicant(permit_expires_on=(TODAY + timedelta(days=20)).isoformat())["weight"]
    gone = world.applicant(permit_expires_on=(TODAY - timedelta(days=3)).isoformat())["weight"]
    assert "20 days" in soon["factors"][0]["reason"]
    assert "3 days ago" in gone["factors"][0]["reason"]


def test_a_declared_vulnerability_multiplies_by_one_and_a_half(client: TestClient, world: World) -> None:
    weight = world.applicant(vulnerabilities=["pregnancy"])["weight"]

    vulnerability = weight["factors"][1]
    assert vulnerability["name"] == "vulnerability"
    assert vulnerability["value"] == "1.5"
    assert "pregnancy" in vulnerability["reason"]
    assert weight["total"] == "1.5000"


def test_the_weight_is_the_product_of_its_factors_rounded_to_four_decimals(
    client: TestClient, world: World
) -> None:
    weight = world.applicant(
        permit_expires_on=(TODAY + timedelta(days=20)).isoformat(),
        vulnerabilities=["disability", "elderly", "disability"],
    )["weight"]

    assert [f["name"] for f in weight["factors"]] == ["expiry", "vulnerability", "waiting", "no_show"]
    assert [Decimal(f["value"]) for f in weight["factors"]] == [4, Decimal("1.5"), 1, 1]
    assert all(f["reason"] for f in weight["factors"])
    assert weight["total"] == "6.0000"
    product = Decimal(1)
    for factor in weight["factors"]:
        product *= Decimal(factor["value"])
    assert Decimal(weight["total"]) == product


def test_a_services_weight_policy_overrides_apply_at_intake(client: TestClient, world: World) -> None:
    service = create_service(
        client,
        world.admin,
        weight_policy={"vulnerability": "2.5", "expiry_bands": [{"within_days": 14, "multiplier": "1.3333"}]},
    )["code"]
    body = request_body(
        service,
        [world.office],
        permit_expires_on=(TODAY + timedelta(days=10)).isoformat(),
        vulnerabilities=["other"],
    )

    weight = submit(client, body).json()["weight"]

    assert [f["value"] for f in weight["factors"][:2]] == ["1.3333", "2.5"]
    assert weight["total"] == "3.3332"  # 1.3333 x 2.5 = 3.33325, rounded half to even


# --- one identity, one active request per service ------------------------------------------------------

SPELLINGS = [
    pytest.param("XK 7391-2846", id="spaces-and-dashes"),
    pytest.param("xk73912846", id="lower-case"),
    pytest.param(" x-k 7391 2846 ", id="scattered-separators"),
    pytest.param("XK\u20137391\u20102846", id="unicode-dashes"),
    pytest.param("\uff38\uff2b\uff17\uff13\uff19\uff11\uff12\uff18\uff14\uff16", id="full-width"),
]


@pytest.mark.parametrize("spelling", SPELLINGS)
def test_the_same_identity_spelled_differently_is_a_409_duplicate_request(
    client: TestClient, runtime: Runtime, world: World, spelling: str
) -> None:
    first = request_body(world.service, [world.office])
    first["identity"]["document_number"] = "XK73912846"
    assert submit(client, first).status_code == 201

    again = with_identity(request_body(world.service, [world.office]), document_number=spelling)
    again["identity"]["family_name"] = "Someone Else"  # names do not make another person
    response = submit(client, again)

    problem = assert_problem(response, 409, "duplicate_request")
    assert "XK" not in problem["detail"]
    assert count_requests(runtime) == 1


def test_the_same_identity_may_ask_for_another_service(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other = create_service(client, world.admin)["code"]
    body = request_body(world.service, [world.office])

    assert submit(client, body).status_code == 201
    response = submit(client, {**body, "service": other})

    assert response.status_code == 201, response.text
    assert count_requests(runtime) == 2


def test_another_document_number_of_another_person_is_another_identity(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = request_body(world.service, [world.office])
    assert submit(client, body).status_code == 201
    other = with_identity(body, document_number="ZZ99887766", given_names="Mariam")
    assert submit(client, other).status_code == 201
    assert count_requests(runtime) == 2


# --- reading a request back ----------------------------------------------------------------------------


def test_the_right_access_code_opens_the_request(client: TestClient, world: World) -> None:
    created = world.applicant(permit_expires_on=(TODAY + timedelta(days=50)).isoformat())

    response = client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert "access_code" not in body
    assert body == {k: v for k, v in created.items() if k != "access_code"}


def _no_code(mine: dict[str, Any], _other: dict[str, Any], _world: World) -> tuple[str, dict[str, str]]:
    return mine["id"], {}


STRANGERS: list[Any] = [
    pytest.param(lambda m, o, w: (m["id"], auth(m["access_code"][:-2] + "xx")), id="wrong-code"),
    pytest.param(_no_code, id="no-code"),
    pytest.param(lambda m, o, w: (m["id"], {"Authorization": "Bearer"}), id="empty-bearer"),
    pytest.param(lambda m, o, w: (m["id"], auth(o["access_code"])), id="someone-elses-code"),
    pytest.param(lambda m, o, w: (o["id"], auth(m["access_code"])), id="my-code-on-their-request"),
    pytest.param(lambda m, o, w: (str(uuid.uuid4()), auth(m["access_code"])), id="unknown-id"),
    pytest.param(lambda m, o, w: ("not-a-uuid", auth(m["access_code"])), id="non-uuid-id"),
    pytest.param(lambda m, o, w: (m["id"].upper(), auth(m["access_code"])), id="upper-case-id"),
    pytest.param(lambda m, o, w: (m["id"], auth(w.admin)), id="staff-key"),
    pytest.param(
        lambda m, o, w: (m["id"], {"Authorization": f"Basic {m['access_code']}"}), id="basic-scheme"
    ),
    pytest.param(lambda m, o, w: (m["id"], auth(m["entry"])), id="entry-as-code"),
]


@pytest.mark.parametrize("stranger", STRANGERS)
def test_anyone_but_the_holder_of_the_code_gets_the_same_404(
    client: TestClient,
    world: World,
    stranger: Callable[[dict[str, Any], dict[str, Any], World], tuple[str, dict[str, str]]],
) -> None:
    mine, other = world.applicant(), world.applicant()
    request_id, headers = stranger(mine, other, world)

    response = client.get(f"/api/v1/requests/{request_id}", headers=headers)

    problem = assert_problem(response, 404, "not_found")
    unknown = client.get(f"/api/v1/requests/{uuid.uuid4()}", headers=auth(mine["access_code"])).json()
    assert problem == unknown  # nothing tells a known id from an unknown one


# --- nothing personal in clear -------------------------------------------------------------------------


def test_the_database_holds_no_document_number_in_clear(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    raw, normalised = "xk 7391-2846 qz", "XK73912846QZ"
    body = with_identity(request_body(world.service, [world.office]), document_number=raw)
    assert submit(client, body).status_code == 201
    assert submit(client, body).status_code == 409
    assert (
        client.post("/api/v1/requests", json=body, headers={"Idempotency-Key": "scan-1"}).status_code == 409
    )
    assert submit(client, {**body, "language": "de"}).status_code == 422

    cells = list(text_cells(runtime.engine))

    scanned = {(t, c) for t, c, _ in cells}
    assert {("appointment_request", "identity_key"), ("audit_event", "details")} <= scanned
    needles = {raw.lower(), normalised.lower(), raw.replace(" ", "").lower(), "73912846"}
    leaks = [(t, c) for t, c, text in cells for needle in needles if needle in text.lower()]
    assert leaks == []


def test_the_identity_is_kept_as_a_keyed_digest_not_a_plain_hash(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = with_identity(request_body(world.service, [world.office]), document_number="XK73912846")
    created = submit(client, body).json()

    with runtime.engine.connect() as conn:
        stored = conn.execute(
            select(AppointmentRequest.__table__.c.identity_key).where(
                AppointmentRequest.__table__.c.id == created["id"]
            )
        ).scalar_one()

    assert re.fullmatch(r"[0-9a-f]{64}", stored)
    unkeyed = hashlib.sha256(b"XK73912846|1990-04-12").hexdigest()
    assert stored != unkeyed


def test_the_access_code_is_stored_only_as_its_hash(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    created = world.applicant()
    code = created["access_code"]

    with runtime.engine.connect() as conn:
        stored = conn.execute(
            select(AppointmentRequest.__table__.c.access_code_hash).where(
                AppointmentRequest.__table__.c.id == created["id"]
            )
        ).scalar_one()
    # The canonical symbols are hashed (dashes, case and look-alikes are forgiven when typed).
    assert stored == hashlib.sha256(code.replace("-", "").encode()).hexdigest()
    assert [(t, c) for t, c, text in text_cells(runtime.engine) if code in text] == []


def test_no_document_number_reaches_the_logs_or_error_answers(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # SQL statements with their parameters
    body = with_identity(request_body(world.service, [world.office]), document_number="XK 7391-2846")

    answers = [
        submit(client, body),
        submit(client, body),
        submit(client, with_identity(body, birth_date="12/04/1990")),
        submit(client, {**body, "offices": ["nowhere"]}),
    ]

    assert [a.status_code for a in answers] == [201, 409, 422, 422]
    for answer in answers:
        assert "7391" not in answer.text
    assert any(r.name.startswith("sqlalchemy.engine") for r in caplog.records)  # the SQL was seen
    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "7391" not in logged
    assert "73912846" not in logged


# --- strict validation ---------------------------------------------------------------------------------


def _identity(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body["identity"].update(values)


def _set(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda body: body.update(values)


def _drop_identity(field: str) -> Callable[[dict[str, Any]], None]:
    return lambda body: body["identity"].pop(field)


INVALID_REQUESTS = [
    pytest.param(_identity(birth_date=19900412), "identity.birth_date", id="birth-date-as-number"),
    pytest.param(_identity(birth_date="12/04/1990"), "identity.birth_date", id="birth-date-day-first"),
    pytest.param(_identity(birth_date="1990-4-12"), "identity.birth_date", id="birth-date-unpadded"),
    pytest.param(_identity(birth_date="1990-02-30"), "identity.birth_date", id="birth-date-impossible"),
    pytest.param(
        _identity(birth_date="1990-04-12T00:00:00"), "identity.birth_date", id="birth-date-with-time"
    ),
    pytest.param(_identity(birth_date="2999-01-01"), "identity.birth_date", id="birth-date-in-the-future"),
    pytest.param(_identity(birth_date="1850-01-01"), "identity.birth_date", id="birth-date-implausible"),
    pytest.param(_identity(birth_date=None), "identity.birth_date", id="birth-date-null"),
    pytest.param(_set(permit_expires_on="01/06/2027"), "permit_expires_on", id="expiry-day-first"),
    pytest.param(_set(permit_expires_on=True), "permit_expires_on", id="expiry-as-boolean"),
    pytest.param(_set(vulnerabilities=["rich"]), "vulnerabilities.0", id="unlisted-vulnerability"),
    pytest.param(_set(vulnerabilities="pregnancy"), "vulnerabilities", id="vulnerabilities-not-a-list"),
    pytest.param(_set(availability={"weekdays": []}), "availability.weekdays", id="weekdays-empty"),
    pytest.param(_set(availability={"weekdays": [8]}), "availability.weekdays.0", id="weekday-8"),
    pytest.param(_set(availability={"weekdays": [0]}), "availability.weekdays.0", id="weekday-0"),
    pytest.param(_set(availability={"weekdays": [True]}), "availability.weekdays.0", id="weekday-boolean"),
    pytest.param(_set(availability={"weekdays": ["1"]}), "availability.weekdays.0", id="weekday-string"),
    pytest.param(_set(availability={"weekdays": [1, 1]}), "availability", id="weekday-repeated"),
    pytest.param(
        _set(availability={"earliest": "2027-02-01", "latest": "2027-01-01"}),
        "availability",
        id="earliest-after-latest",
    ),
    pytest.param(_set(availability={"earliest": "1/2/2027"}), "availability.earliest", id="earliest-not-iso"),
    pytest.param(
        _set(availability={"from": "2027-01-01"}), "availability.from", id="availability-unknown-field"
    ),
    pytest.param(_set(offices=["nowhere"]), "offices.0", id="unknown-office"),
    pytest.param(_set(offices=[]), "offices", id="no-office"),
    pytest.param(_set(offices="paris"), "offices", id="offices-not-a-list"),
    pytest.param(_set(service="teleportation"), "service", id="unknown-service"),
    pytest.param(_set(service="Not A Code"), "service", id="service-not-a-code"),
    pytest.param(_set(language="de"), "language", id="unsupported-language"),
    pytest.param(_set(contact={"email": "not-an-email"}), "contact.email", id="bad-email"),
    pytest.param(_set(contact={"phone": "call me"}), "contact.phone", id="bad-phone"),
    pytest.param(_set(contact={"fax": "+33 1 23 45 67 89"}), "contact.fax", id="contact-unknown-field"),
    pytest.param(_set(priority=1), "priority", id="unknown-field"),
    pytest.param(_set(identity=None), "identity", id="identity-null"),
    pytest.param(_identity(nationality="FR"), "identity.nationality", id="identity-unknown-field"),
    pytest.param(
        _identity(document_type="library_card"), "identity.document_type", id="unknown-document-type"
    ),
    pytest.param(
        _identity(document_number="ab1"), "identity.document_number", id="document-number-too-short"
    ),
    pytest.param(
        _identity(document_number="P1234!#$"), "identity.document_number", id="document-number-symbols"
    ),
    pytest.param(
        _identity(document_number="P12345é7"), "identity.document_number", id="document-number-accent"
    ),
    pytest.param(
        _identity(document_number=12345678), "identity.document_number", id="document-number-as-number"
    ),
    pytest.param(_identity(family_name=""), "identity.family_name", id="family-name-empty"),
    pytest.param(_identity(family_name="   "), "identity.family_name", id="family-name-blank"),
    pytest.param(_identity(family_name="D" * 101), "identity.family_name", id="family-name-too-long"),
    pytest.param(_drop_identity("given_names"), "identity.given_names", id="given-names-missing"),
]


@pytest.mark.parametrize(("mutate", "path"), INVALID_REQUESTS)
def test_an_invalid_request_is_a_422_naming_the_field_and_stores_nothing(
    client: TestClient,
    runtime: Runtime,
    world: World,
    mutate: Callable[[dict[str, Any]], None],
    path: str,
) -> None:
    body = request_body(world.service, [world.office])
    mutate(body)

    problem = assert_problem(submit(client, body), 422, "validation_error")

    assert path in {e["path"] for e in problem["errors"]}
    assert count_requests(runtime) == 0


def test_repeated_offices_are_a_422(client: TestClient, runtime: Runtime, world: World) -> None:
    body = request_body(world.service, [world.office, world.office])

    problem = assert_problem(submit(client, body), 422, "validation_error")

    assert "offices" in {e["path"] for e in problem["errors"]}
    assert count_requests(runtime) == 0


def test_an_unknown_office_after_a_known_one_is_named_by_its_position(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    problem = assert_problem(
        submit(client, request_body(world.service, [world.office, "nowhere", "atlantis"])),
        422,
        "validation_error",
    )
    assert {e["path"] for e in problem["errors"]} == {"offices.1", "offices.2"}


CONTROL_CHARACTERS = [
    pytest.param("\x00", id="nul"),
    pytest.param("\n", id="newline"),
    pytest.param("\r", id="carriage-return"),
    pytest.param("\t", id="tab"),
    pytest.param("\x1b", id="escape"),
    pytest.param("\x7f", id="delete"),
    pytest.param(
        "\x85",
        id="c1-next-line",
    ),
    pytest.param(
        "\x9b",
        id="c1-control-sequence-introducer",
    ),
]


@pytest.mark.parametrize("character", CONTROL_CHARACTERS)
@pytest.mark.parametrize("field", ["family_name", "given_names"])
def test_control_characters_inside_a_name_are_a_422(
    client: TestClient, runtime: Runtime, world: World, field: str, character: str
) -> None:
    body = with_identity(request_body(world.service, [world.office]), **{field: f"Dia{character}llo"})

    problem = assert_problem(submit(client, body), 422, "validation_error")

    assert f"identity.{field}" in {e["path"] for e in problem["errors"]}
    assert count_requests(runtime) == 0


def test_accented_and_hyphenated_names_are_welcome(client: TestClient, world: World) -> None:
    body = with_identity(
        request_body(world.service, [world.office]),
        family_name="N'Guessan-Müller",
        given_names="Zoë Ångström",
    )
    assert submit(client, body).status_code == 201


def test_a_minimal_request_without_optional_fields_is_accepted(client: TestClient, world: World) -> None:
    body = request_body(world.service, [world.office])
    for optional in ("contact", "language"):
        body.pop(optional)

    response = submit(client, body)

    assert response.status_code == 201, response.text


def test_availability_with_a_window_and_weekdays_is_accepted(client: TestClient, world: World) -> None:
    body = request_body(
        world.service,
        [world.office],
        availability={"earliest": "2027-01-04", "latest": "2027-01-04", "weekdays": [1, 3, 5]},
    )
    assert submit(client, body).status_code == 201
