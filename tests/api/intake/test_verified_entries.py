"""Verified entries: the code rules, who blocks whom, draws of verified entries, lapses.

Every rule of docs/reference/verified-entries.md, through the API, on SQLite and PostgreSQL. The code is read
the way only its SMS carries it (``tests.verified.sealed_code`` opens the sealed outbox row with the server
secret); ``tests/api/intake/test_verified_sms.py`` reads it from the local SMSC instead.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent, OutboxMessage, PhoneCode, PhoneCodeSend
from app.domain import verification as rules
from app.services import scheduler
from tests.assertions import assert_problem, count_rows, text_cells
from tests.factories import World, auth, create_key, request_body
from tests.verified import (
    MOBILE,
    ask_code,
    phone_world,
    request_row,
    sealed_code,
    texting,
    type_code,
    verify,
    wrong,
)


@pytest.fixture
def world(client, runtime) -> World:
    return phone_world(client, runtime)


# --- the policy ---------------------------------------------------------------------------------------


def test_a_new_service_asks_for_a_phone_code_by_default(client, runtime):
    admin = create_key(runtime, "admin")
    body = {"code": "renewal", "name": "Renewal", "slot_minutes": 30}
    created = client.post("/api/v1/services", json=body, headers=auth(admin))
    assert created.status_code == 201, created.text
    policy = created.json()["weight_policy"]
    assert policy["entry_verification"] == "phone"
    assert policy["max_requests_per_phone"] == 3
    assert policy["verify_within_days"] == 7


def test_the_policy_fields_are_validated(client, runtime):
    admin = create_key(runtime, "admin")
    for policy in ({"entry_verification": "sms"}, {"max_requests_per_phone": 0}, {"verify_within_days": 0}):
        body = {"code": "x-service", "name": "X", "slot_minutes": 30, "weight_policy": policy}
        assert_problem(
            client.post("/api/v1/services", json=body, headers=auth(admin)), 422, "validation_error"
        )


def test_under_none_every_request_is_verified_and_asks_no_code(client, runtime):
    world = World(client, runtime)
    applicant = world.applicant(contact={"phone": MOBILE})
    assert applicant["verification"]["status"] == "verified"
    assert applicant["verification"]["method"] == "none"
    assert applicant["verification"]["verify_by"] is None
    assert_problem(ask_code(world, applicant), 409, "already_verified")


# --- intake -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "contact",
    [None, {"email": "a@example.org"}, {"phone": "01 45 67 89 01"}, {"phone": "+49 151 12345678"}],
    ids=["no-contact", "e-mail-only", "landline", "foreign-mobile"],
)
def test_an_online_request_without_a_french_mobile_is_refused_naming_contact_phone(world, runtime, contact):
    body = request_body(world.service, [world.office])
    body.pop("contact")
    if contact is not None:
        body["contact"] = contact
    response = world.client.post("/api/v1/requests", json=body)
    problem = assert_problem(response, 422, "validation_error")
    assert [e["path"] for e in problem["errors"]] == ["contact.phone"]
    assert "counter" in problem["detail"] and "partner" in problem["detail"]
    assert count_rows(runtime, AppointmentRequest) == 0


@pytest.mark.parametrize(
    "phone", ["06 12 34 56 78", "+262 692 12 34 56", "0696 12 34 56", "+594 694 12 34 56"]
)
def test_an_online_request_with_a_french_mobile_starts_unverified(world, phone):
    applicant = texting(world, phone=phone)
    verification = applicant["verification"]
    assert verification["status"] == "unverified"
    assert verification["method"] is None
    assert verification["verify_by"] is not None
    assert verification["phone"].endswith(phone.replace(" ", "")[-2:])
    assert "••" in verification["phone"]


def test_verify_by_is_seven_days_after_submission_unless_the_policy_says_otherwise(client, runtime):
    world = phone_world(client, runtime, verify_within_days=3)
    applicant = texting(world)
    seen = world.client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    verify_by = seen.json()["verification"]["verify_by"]
    assert verify_by.startswith((world.now + timedelta(days=3)).date().isoformat())


@pytest.mark.parametrize(("role", "method"), [("agent", "counter"), ("partner", "partner")])
def test_a_counter_or_partner_request_is_verified_by_its_channel_without_a_phone(
    world, runtime, role, method
):
    key = create_key(runtime, role, [world.office])
    body = request_body(world.service, [world.office])
    response = world.client.post("/api/v1/requests", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    assert response.json()["verification"]["status"] == "verified"
    assert response.json()["verification"]["method"] == method


# --- codes --------------------------------------------------------------------------------------------


def test_a_code_is_six_digits_valid_fifteen_minutes_stored_hashed_and_sealed_in_the_outbox(world, runtime):
    applicant = texting(world)
    sent = ask_code(world, applicant)
    assert sent.status_code == 202, sent.text
    body = sent.json()
    assert body["sent_to"] == "+33 6 •• •• •• 78"
    assert body["expires_at"].startswith((world.now + timedelta(minutes=15)).isoformat()[:16])
    code = sealed_code(runtime, applicant["id"])
    assert len(code) == 6 and code.isdigit()
    with session_scope(runtime.engine) as session:
        stored = session.exec(select(PhoneCode)).one()
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "phone_code")).one()
    assert stored.code_hash == rules.code_digest(runtime.secret, applicant["id"], code)
    assert message.channel == "sms" and message.recipient == MOBILE
    assert message.context["code_sealed"].startswith("aesgcm1:")
    # Nowhere in the database is the code in clear (the sealed text and the digest are not it).
    assert not [cell for cell in text_cells(runtime.engine) if code in cell[2]]
    assert code not in sent.text


def test_a_right_code_verifies_the_request_once(world, runtime):
    applicant = texting(world)
    ask_code(world, applicant)
    code = sealed_code(runtime, applicant["id"])
    verified = type_code(world, applicant, code)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verification"]["status"] == "verified"
    assert verified.json()["verification"]["method"] == "phone"
    assert verified.json()["verification"]["verify_by"] is None
    assert code not in verified.text
    # Replayed: the request is verified, the code is spent.
    assert_problem(type_code(world, applicant, code), 409, "already_verified")
    assert_problem(ask_code(world, applicant), 409, "already_verified")
    with session_scope(runtime.engine) as session:
        assert session.exec(select(PhoneCode)).one().code_hash is None
        actions = [e.action for e in session.exec(select(AuditEvent)).all()]
    assert "request.code_sent" in actions and "request.verified" in actions


def test_wrong_codes_count_down_then_lock_and_a_new_code_starts_again(world, runtime, clock):
    applicant = texting(world)
    ask_code(world, applicant)
    code = sealed_code(runtime, applicant["id"])
    for left in (4, 3, 2, 1, 0):
        problem = assert_problem(type_code(world, applicant, wrong(code)), 422, "code_invalid")
        assert problem["tries_left"] == left
    assert_problem(type_code(world, applicant, code), 429, "code_locked")  # even the right one now
    assert request_row(runtime, applicant["id"]).verification_status == "unverified"
    clock.advance(timedelta(minutes=1))
    assert ask_code(world, applicant).status_code == 202
    fresh = sealed_code(runtime, applicant["id"])
    assert type_code(world, applicant, fresh).status_code == 200


def test_an_expired_code_is_refused_and_a_never_asked_one_too(world, runtime, clock):
    applicant = texting(world)
    assert_problem(type_code(world, applicant, "123456"), 409, "code_expired")
    ask_code(world, applicant)
    code = sealed_code(runtime, applicant["id"])
    clock.advance(rules.CODE_VALIDITY)
    assert_problem(type_code(world, applicant, code), 409, "code_expired")


def test_a_code_of_another_request_does_not_verify(world, runtime):
    first = texting(world, phone="+33611111111")
    second = texting(world, phone="+33622222222")
    ask_code(world, first)
    ask_code(world, second)
    first_code = sealed_code(runtime, first["id"])
    if first_code != sealed_code(runtime, second["id"]):
        assert_problem(type_code(world, second, first_code), 422, "code_invalid")
    # Nor with the other request's access code: that is someone else's request (404, never 403).
    response = world.client.post(
        f"/api/v1/requests/{second['id']}/phone-verification",
        json={"code": first_code},
        headers=auth(first["access_code"]),
    )
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize(
    "code", ["12345", "1234567", "abcdef", "12 34 5", "", "\uff11\uff12\uff13\uff14\uff15\uff16"]
)
def test_a_malformed_code_is_a_validation_error_that_costs_no_try(world, runtime, code):
    applicant = texting(world)
    ask_code(world, applicant)
    assert_problem(type_code(world, applicant, code), 422, "validation_error")
    with session_scope(runtime.engine) as session:
        assert session.exec(select(PhoneCode)).one().failures == 0


def test_a_new_code_at_most_once_a_minute_and_five_a_day_per_request(world, runtime, clock):
    applicant = texting(world)
    assert ask_code(world, applicant).status_code == 202
    again = assert_problem(ask_code(world, applicant), 429, "too_many_codes")
    assert again["limit"] == "per_minute" and 1 <= again["retry_after"] <= 60
    for _ in range(4):
        clock.advance(timedelta(minutes=1))
        assert ask_code(world, applicant).status_code == 202
    clock.advance(timedelta(minutes=1))
    response = ask_code(world, applicant)
    day = assert_problem(response, 429, "too_many_codes")
    assert day["limit"] == "per_request_day"
    assert int(response.headers["retry-after"]) == day["retry_after"]
    assert count_rows(runtime, PhoneCodeSend) == 5
    clock.advance(timedelta(hours=24))
    assert ask_code(world, applicant).status_code == 202


def test_one_number_gets_at_most_ten_codes_a_day_across_requests(client, runtime, clock):
    world = phone_world(client, runtime, max_requests_per_phone=10)
    applicants = [texting(world) for _ in range(4)]
    sent = 0
    for _round in range(3):
        for applicant in applicants:
            response = ask_code(world, applicant)
            if sent < rules.CODES_PER_NUMBER_DAY:
                assert response.status_code == 202, response.text
                sent += 1
            else:
                assert assert_problem(response, 429, "too_many_codes")["limit"] == "per_number_day"
        clock.advance(timedelta(minutes=1))
    assert count_rows(runtime, PhoneCodeSend) == rules.CODES_PER_NUMBER_DAY


def test_a_code_for_a_closed_request_is_refused(world, runtime):
    applicant = texting(world)
    cancel = world.client.post(
        f"/api/v1/requests/{applicant['id']}/cancel", headers=auth(applicant["access_code"])
    )
    assert cancel.status_code == 200
    assert_problem(ask_code(world, applicant), 409, "request_closed")
    assert_problem(type_code(world, applicant, "123456"), 409, "request_closed")


# --- one number, a few requests -----------------------------------------------------------------------


def test_a_number_verifies_at_most_max_requests_per_phone_active_requests(client, runtime, clock):
    world = phone_world(client, runtime, max_requests_per_phone=2)
    first, second, third = (texting(world) for _ in range(3))
    verify(world, first)
    verify(world, second)
    ask_code(world, third)
    problem = assert_problem(type_code(world, third, sealed_code(runtime, third["id"])), 409, "phone_in_use")
    assert "2" in problem["detail"]
    assert request_row(runtime, third["id"]).verification_status == "unverified"
    # A withdrawn request no longer counts.
    world.client.post(f"/api/v1/requests/{first['id']}/cancel", headers=auth(first["access_code"]))
    clock.advance(timedelta(minutes=1))
    assert verify(world, third)["verification"]["method"] == "phone"


def test_numbers_are_counted_by_a_keyed_digest(world, runtime):
    applicant = texting(world)
    row = request_row(runtime, applicant["id"])
    assert row.phone_digest == rules.phone_digest(runtime.pepper, MOBILE)
    assert MOBILE not in row.phone_digest


# --- who blocks whom ----------------------------------------------------------------------------------


def _same_person(world: World, document: str, phone: str) -> dict:
    body = request_body(world.service, [world.office], 0, contact={"phone": phone})
    body["identity"]["document_number"] = document
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def test_an_unverified_request_blocks_nobody_and_the_first_verified_wins(world, runtime):
    passport = _same_person(world, "PASS0001", "+33611111111")
    permit = _same_person(world, "PERMIT0001", "+33622222222")  # same person, other document: accepted
    verify(world, permit)
    assert request_row(runtime, passport["id"]).status == "lapsed"
    assert request_row(runtime, passport["id"]).active_identity_key is None
    seen = world.client.get(f"/api/v1/requests/{passport['id']}", headers=auth(passport["access_code"]))
    assert seen.json()["status"] == "lapsed"
    assert_problem(type_code(world, passport, "123456"), 409, "request_closed")
    # The verified one now blocks the same person under a third document.
    body = request_body(world.service, [world.office], 0, contact={"phone": "+33633333333"})
    body["identity"]["document_number"] = "IDCARD0001"
    assert_problem(world.client.post("/api/v1/requests", json=body), 409, "duplicate_person")
    with session_scope(runtime.engine) as session:
        kinds = [
            m.kind
            for m in session.exec(select(OutboxMessage).where(OutboxMessage.request_id == passport["id"]))
        ]
    assert "request_lapsed" in kinds


def test_a_counter_request_verified_at_intake_lapses_the_unverified_online_one(world, runtime):
    online = _same_person(world, "PASS0002", "+33611111111")
    agent = create_key(runtime, "agent", [world.office])
    body = request_body(world.service, [world.office], 0)
    body["identity"]["document_number"] = "PERMIT0002"
    filed = world.client.post("/api/v1/requests", json=body, headers=auth(agent))
    assert filed.status_code == 201, filed.text
    assert request_row(runtime, online["id"]).status == "lapsed"


# --- draws --------------------------------------------------------------------------------------------


def test_a_draw_counts_verified_entries_only(world, runtime, clock):
    verified = texting(world)
    unverified = texting(world, phone="+33699999999")
    verify(world, verified)
    release = world.release(slots=2)
    clock.advance(timedelta(hours=1))
    drawn = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text
    assert drawn.json()["entries"] == 1
    record = world.client.get(f"/api/v1/draws/{drawn.json()['draw_id']}").json()
    assert [e["entry"] for e in record["entries"]] == [verified["entry"]]
    assert unverified["entry"] not in str(record)


# --- lapses -------------------------------------------------------------------------------------------


def test_an_unverified_request_lapses_at_verify_by_with_a_message_and_frees_the_identity(
    world, runtime, clock
):
    applicant = texting(world, n=7)
    clock.advance(timedelta(days=7) - timedelta(minutes=1))
    scheduler.tick(runtime)
    assert request_row(runtime, applicant["id"]).status == "pending"
    clock.advance(timedelta(minutes=1))
    report = scheduler.tick(runtime)
    assert report.lapsed == [applicant["id"]]
    row = request_row(runtime, applicant["id"])
    assert row.status == "lapsed" and row.closed_at is not None and row.active_identity_key is None
    with session_scope(runtime.engine) as session:
        lapsed = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.request_id == applicant["id"], OutboxMessage.kind == "request_lapsed"
            )
        ).all()
    assert [m.channel for m in lapsed] == ["sms"]
    assert lapsed[0].status == "sent"  # the tick sent it (to the log: no SMSC configured)
    again = texting(world, n=7)  # the same identity may request again
    assert again["id"] != applicant["id"]


def test_a_verified_request_never_lapses(world, runtime, clock):
    applicant = texting(world)
    verify(world, applicant)
    clock.advance(timedelta(days=30))
    scheduler.tick(runtime)
    assert request_row(runtime, applicant["id"]).status == "pending"


# --- no code in a log or a response ---------------------------------------------------------------------


def test_a_sent_code_is_wiped_from_the_outbox_and_never_logged_outside_development(world, runtime, caplog):
    applicant = texting(world)
    ask_code(world, applicant)
    code = sealed_code(runtime, applicant["id"])
    with caplog.at_level(logging.DEBUG):
        scheduler.tick(runtime)
    assert code not in caplog.text
    assert "withheld" in caplog.text
    with session_scope(runtime.engine) as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "phone_code")).one()
    assert message.status == "sent"
    assert "code_sealed" not in message.context and "code" not in message.context
    assert not [cell for cell in text_cells(runtime.engine) if code in cell[2]]


def test_in_development_the_log_shows_the_code_so_the_demo_works_offline(world, runtime, caplog):
    import dataclasses

    from tests.conftest import test_settings

    development = dataclasses.replace(
        runtime, settings=test_settings(runtime.settings.database_url, env="development")
    )
    applicant = texting(world)
    ask_code(world, applicant)
    code = sealed_code(runtime, applicant["id"])
    with caplog.at_level(logging.INFO, logger="fairslot.notifications"):
        scheduler.tick(development)
    assert f"your code is {code}" in caplog.text.lower() or code in caplog.text


def test_the_status_of_a_code_message_is_shown_without_the_code(world, runtime):
    applicant = texting(world)
    ask_code(world, applicant)
    scheduler.tick(runtime)
    seen = world.client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    kinds = {(m["kind"], m["status"]) for m in seen.json()["messages"]}
    assert ("phone_code", "sent") in kinds


def test_the_codes_table_keeps_no_clear_code_after_verification(world, runtime):
    applicant = texting(world)
    code = verify(world, applicant) and sealed_code(runtime, applicant["id"])
    with session_scope(runtime.engine) as session:
        rows = session.exec(select(PhoneCode)).all()
        sends = session.exec(select(PhoneCodeSend).order_by(col(PhoneCodeSend.id))).all()
    assert all(r.code_hash is None for r in rows)
    assert [s.phone_digest for s in sends] == [rules.phone_digest(runtime.pepper, MOBILE)]
    assert code


def test_stats_metrics_and_the_method_of_each_entry(world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    for _ in range(5):
        verify(world, texting(world, phone=f"+3367{next_number():07d}"))
    for _ in range(5):
        texting(world, phone=f"+3367{next_number():07d}")
    for _ in range(5):
        filed = world.client.post(
            "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(agent)
        )
        assert filed.status_code == 201
    item = next(i for i in world.client.get("/api/v1/stats").json()["items"] if i["service"] == world.service)
    requests = item["requests"]
    assert requests["verified_share"] == pytest.approx(10 / 15, abs=0.01)
    assert requests["by_method"] == {
        "phone": 5,
        "counter": 5,
        "partner": None,
        "registry": None,
        "none": None,
    }
    assert requests["lapsed"] is None  # fewer than 5
    metrics = world.client.get("/metrics").text
    assert "fairslot_phone_codes_total" in metrics and 'outcome="verified"' in metrics


_numbers = iter(range(1_000_000, 9_000_000))


def next_number() -> int:
    return next(_numbers)


def test_an_unknown_request_is_a_404_and_a_missing_body_a_422(world):
    applicant = texting(world)
    missing = world.client.post("/api/v1/requests/nope/phone-code", headers=auth(applicant["access_code"]))
    assert_problem(missing, 404, "not_found")
    empty = world.client.post(
        f"/api/v1/requests/{applicant['id']}/phone-verification",
        json={},
        headers=auth(applicant["access_code"]),
    )
    assert_problem(empty, 422, "validation_error")


def test_a_registry_import_verifies_the_unverified_requests_it_matches(world, runtime, clock):
    from datetime import date

    from app.services.claims import registry_import
    from app.services.unit_of_work import unit_of_work

    matched = texting(world, n=501)
    other = texting(world, n=502, phone="+33698765432")
    rows, errors = registry_import.parse("P00000501,1990-04-12,2027-06-30\n")
    assert not errors
    with unit_of_work(runtime.engine) as session:
        summary = registry_import.import_registry(
            session=session, office=world.office, rows=rows, pepper=runtime.pepper, now=clock.now()
        )
    assert summary.verified == 1
    assert request_row(runtime, matched["id"]).verification_method == "registry"
    assert request_row(runtime, other["id"]).verification_status == "unverified"
    assert date.fromisoformat("2027-06-30")  # the registry line's own date plays no part here
