"""Claims at the desk: a booking won on an unconfirmed claim needs the desk's verdict before it counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent, Booking, Claim, ClaimSanction, DrawEntry
from app.services import scheduler
from app.services.bookings import token_keys
from tests.assertions import assert_problem
from tests.factories import World, auth, create_key, named_for, request_body

TODAY = date(2026, 12, 1)
BIRTH = "1984-03-21"


@pytest.fixture(autouse=True)
def _fresh_keyring_cache():
    token_keys.clear_cache()
    yield
    token_keys.clear_cache()


def identity(document: str, family: str = "Haddad") -> dict:
    return {
        "document_type": "residence_permit",
        "document_number": document,
        "family_name": named_for(family, document),
        "given_names": "Samir",
        "birth_date": BIRTH,
    }


def book(world: World, clock, document: str, **declared) -> dict:
    """One request with ``declared`` claims, drawn alone and accepted: its booking and request."""
    response = world.client.post(
        "/api/v1/requests",
        json=request_body(world.service, [world.office], identity=identity(document), **declared),
    )
    assert response.status_code == 201, response.text
    person = response.json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    accepted = world.client.post(
        f"/api/v1/requests/{person['id']}/accept", headers=auth(person["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    return {**accepted.json()["booking"], "request": person, "document": document}


def check_in(world: World, booking: dict, claims: dict | None = None, key: str | None = None):
    body = {"token": booking["token"], "document_number": booking["document"], "birth_date": BIRTH}
    if claims is not None:
        body["claims"] = claims
    return world.client.post("/api/v1/check-ins", json=body, headers=auth(key or world.desk))


def view(world: World, booking: dict) -> dict:
    person = booking["request"]
    response = world.client.get(f"/api/v1/requests/{person['id']}", headers=auth(person["access_code"]))
    assert response.status_code == 200, response.text
    return response.json()


def urgent() -> dict:
    return {"permit_expires_on": (TODAY + timedelta(days=10)).isoformat(), "vulnerabilities": ["pregnancy"]}


def test_the_request_view_lists_its_claims_and_each_factor_names_the_claim_it_rests_on(client, runtime):
    world = World(client, runtime)
    created = world.applicant(**urgent())

    assert created["claims"] == [
        {"claim": "permit_expiry", "declared": "2026-12-11", "status": "declared"},
        {"claim": "vulnerability", "declared": ["pregnancy"], "status": "declared"},
    ]
    shown = client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
    assert shown["claims"] == created["claims"]
    factors = {f["name"]: f for f in shown["weight"]["factors"]}
    assert factors["expiry"]["claim"] == "permit_expiry"
    assert factors["vulnerability"]["claim"] == "vulnerability"
    assert factors["waiting"]["claim"] is None
    assert shown["weight"]["total"] == "6.0000"


def test_a_booking_won_on_unconfirmed_claims_answers_422_listing_them_and_changes_nothing(
    client, runtime, clock
):
    world = World(client, runtime)
    booking = book(world, clock, "HD100001", **urgent())

    response = check_in(world, booking)

    problem = assert_problem(response, 422, "claims_unverified")
    assert problem["claims"] == [
        {"claim": "permit_expiry", "declared": "2026-12-11"},
        {"claim": "vulnerability", "declared": ["pregnancy"]},
    ]
    partial = assert_problem(
        check_in(world, booking, {"permit_expiry": "confirmed"}), 422, "claims_unverified"
    )
    assert partial["claims"] == [{"claim": "vulnerability", "declared": ["pregnancy"]}]
    shown = view(world, booking)
    assert shown["status"] == "booked"
    assert {c["status"] for c in shown["claims"]} == {"declared"}


def test_confirmed_verdicts_check_in_and_the_claims_stay_confirmed(client, runtime, clock):
    world = World(client, runtime)
    booking = book(world, clock, "HD100002", **urgent())

    response = check_in(world, booking, {"permit_expiry": "confirmed", "vulnerability": "confirmed"})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "attended"
    assert response.json()["claims"] == [
        {"claim": "permit_expiry", "declared": "2026-12-11", "status": "confirmed"},
        {"claim": "vulnerability", "declared": ["pregnancy"], "status": "confirmed"},
    ]
    with session_scope(runtime.engine) as session:
        decided = session.exec(select(Claim)).all()
    assert {c.decided_by for c in decided} == {next(iter({c.decided_by for c in decided}))}
    assert all(c.decided_by and c.decided_by.startswith("staff:") and c.decided_at for c in decided)


def test_a_refuted_claim_forfeits_the_booking_excludes_identity_and_person_and_keeps_the_audit_row(
    client, runtime, clock
):
    world = World(client, runtime)
    booking = book(world, clock, "HD100003", **urgent())

    response = check_in(world, booking, {"permit_expiry": "refuted"})  # whatever the others

    problem = assert_problem(response, 409, "claim_refuted")
    assert problem["excluded_until"] == (TODAY + timedelta(days=180)).isoformat()
    shown = view(world, booking)
    assert shown["status"] == "forfeited"
    assert shown["booking"]["status"] == "forfeited"
    statuses = {c["claim"]: c["status"] for c in shown["claims"]}
    assert statuses == {"permit_expiry": "refuted", "vulnerability": "declared"}
    with session_scope(runtime.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "checkin.claim_refuted")).all()
        sanctions = session.exec(select(ClaimSanction)).all()
        request = session.exec(select(AppointmentRequest)).one()
    assert [e.subject for e in events] == [f"booking:{booking['id']}"]
    assert {s.digest for s in sanctions} == {request.identity_key, request.person_key}
    assert "forfeited" in {m["kind"] for m in shown["messages"]}  # the applicant is told, on each channel
    assert_problem(check_in(world, booking, {"permit_expiry": "confirmed"}), 409, "booking_cancelled")


def test_an_excluded_identity_or_person_is_refused_at_intake_until_the_exclusion_ends(client, runtime, clock):
    world = World(client, runtime)
    booking = book(world, clock, "HD100004", **urgent())
    assert_problem(check_in(world, booking, {"vulnerability": "refuted"}), 409, "claim_refuted")

    again = request_body(world.service, [world.office], identity=identity("HD100004"))
    same_person = request_body(
        world.service, [world.office], identity={**identity("HD100004"), "document_number": "PASS7777"}
    )
    for body in (again, same_person):
        problem = assert_problem(client.post("/api/v1/requests", json=body), 409, "identity_excluded")
        assert problem["excluded_until"] == (TODAY + timedelta(days=180)).isoformat()
    other_service = client.post(
        "/api/v1/services",
        json={
            "code": "other-service",
            "name": "Other",
            "slot_minutes": 30,
            "weight_policy": {"entry_verification": "none"},
        },
        headers=auth(world.admin),
    ).json()["code"]
    assert client.post("/api/v1/requests", json={**again, "service": other_service}).status_code == 201

    clock.advance(timedelta(days=181))
    assert client.post("/api/v1/requests", json=again).status_code == 201


def test_a_vulnerability_not_evidenced_keeps_the_booking_and_later_counts_only_once_confirmed(
    client, runtime, clock
):
    world = World(client, runtime)
    booking = book(world, clock, "HD100005", vulnerabilities=["disability"])

    response = check_in(world, booking, {"vulnerability": "not_evidenced"})

    assert response.status_code == 200, response.text
    assert response.json()["claims"] == [
        {"claim": "vulnerability", "declared": ["disability"], "status": "not_evidenced"}
    ]
    again = client.post(
        "/api/v1/requests",
        json=request_body(
            world.service, [world.office], identity=identity("HD100005"), vulnerabilities=["disability"]
        ),
    )
    assert again.status_code == 201, again.text
    vulnerability = again.json()["weight"]["factors"][1]
    assert vulnerability["value"] == "1"
    assert vulnerability["claim"] == "vulnerability"
    assert again.json()["weight"]["total"] == "1.0000"


def test_a_booking_whose_weight_used_no_claim_checks_in_as_before(client, runtime, clock):
    world = World(client, runtime)
    far = (TODAY + timedelta(days=400)).isoformat()  # declared, but it raised nothing
    booking = book(world, clock, "HD100006", permit_expires_on=far)

    response = check_in(world, booking)

    assert response.status_code == 200, response.text
    assert response.json()["claims"] == [{"claim": "permit_expiry", "declared": far, "status": "declared"}]


@pytest.mark.parametrize(
    ("claims", "status", "code"),
    [
        ({"vulnerability": "confirmed"}, 422, "claim_not_declared"),
        ({"permit_expiry": "not_evidenced"}, 422, "validation_error"),
        ({"permit_expiry": "maybe"}, 422, "validation_error"),
        ({"age": "confirmed"}, 422, "validation_error"),
    ],
    ids=["undeclared-claim", "permit-cannot-be-not-evidenced", "unknown-verdict", "unknown-claim"],
)
def test_verdicts_on_claims_that_do_not_exist_are_clear_422s_and_change_nothing(
    client, runtime, clock, claims, status, code
):
    world = World(client, runtime)
    booking = book(world, clock, "HD100007", permit_expires_on=(TODAY + timedelta(days=5)).isoformat())

    assert_problem(check_in(world, booking, claims), status, code)

    assert view(world, booking)["status"] == "booked"
    with session_scope(runtime.engine) as session:
        assert session.exec(select(Claim.status)).all() == ["declared"]


def test_a_verdict_after_check_in_is_already_checked_in_and_changes_nothing(client, runtime, clock):
    world = World(client, runtime)
    booking = book(world, clock, "HD100008", permit_expires_on=(TODAY + timedelta(days=5)).isoformat())
    assert check_in(world, booking, {"permit_expiry": "confirmed"}).status_code == 200

    assert_problem(check_in(world, booking, {"permit_expiry": "refuted"}), 409, "already_checked_in")

    with session_scope(runtime.engine) as session:
        assert session.exec(select(Claim.status)).all() == ["confirmed"]
        assert session.exec(select(col(Booking.status))).all() == ["attended"]
        assert session.exec(select(ClaimSanction)).all() == []


def test_only_a_desk_of_the_bookings_office_gives_verdicts(client, runtime, clock):
    from tests.factories import create_office

    world = World(client, runtime)
    booking = book(world, clock, "HD100009", **urgent())
    elsewhere = create_office(client, world.admin)["code"]
    other_desk = create_key(runtime, "desk", [elsewhere])
    verifier = create_key(runtime, "verifier", [world.office])

    assert_problem(
        check_in(world, booking, {"permit_expiry": "refuted"}, key=other_desk), 409, "wrong_office"
    )
    assert_problem(check_in(world, booking, {"permit_expiry": "refuted"}, key=verifier), 403, "forbidden")

    assert view(world, booking)["status"] == "booked"


def test_draws_never_include_an_excluded_person_even_under_another_document(client, runtime, clock):
    world = World(client, runtime)
    agent = create_key(runtime, "agent", [world.office])
    booking = book(world, clock, "HD100010", **urgent())
    homonym = client.post(
        "/api/v1/requests",
        json=request_body(
            world.service,
            [world.office],
            identity={**identity("HD100010"), "document_number": "OTHERDOC1"},
            distinct_person=True,
        ),
        headers=auth(agent),
    )
    assert homonym.status_code == 201, homonym.text
    bystander = world.applicant()
    assert_problem(check_in(world, booking, {"permit_expiry": "refuted"}), 409, "claim_refuted")

    world.release(slots=2)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)

    with session_scope(runtime.engine) as session:
        last_draw = max(e.draw_id for e in session.exec(select(DrawEntry)).all())
        entered = {
            e.entry for e in session.exec(select(DrawEntry).where(DrawEntry.draw_id == last_draw)).all()
        }
    assert entered == {bystander["entry"]}


def test_purge_clears_the_person_key_and_the_verdict_notes_of_a_forfeited_request(client, runtime, clock):
    from app.services.requests import purge

    world = World(client, runtime)
    booking = book(world, clock, "HD100011", **urgent())
    assert_problem(check_in(world, booking, {"permit_expiry": "refuted"}), 409, "claim_refuted")
    with session_scope(runtime.engine) as session:
        claim = session.exec(select(Claim).where(Claim.kind == "permit_expiry")).one()
        claim.note = "dates differ on the permit"
        session.add(claim)
    clock.advance(timedelta(days=400))

    with session_scope(runtime.engine) as session:
        assert purge.purge(session, older_than=timedelta(days=365), now=clock.now()) == 1

    with session_scope(runtime.engine) as session:
        request = session.exec(select(AppointmentRequest)).one()
        notes = session.exec(select(Claim.note)).all()
    assert request.person_key is None and request.family_name is None
    assert notes == [None, None]


def test_a_claim_refuted_before_the_draw_is_not_punished_again_at_the_desk(client, runtime, clock):
    world = World(client, runtime)
    verifier = create_key(runtime, "verifier", [world.office])
    response = client.post(
        "/api/v1/requests",
        json=request_body(world.service, [world.office], identity=identity("HD100012"), **urgent()),
    )
    person = response.json()
    refused = client.post(
        f"/api/v1/requests/{person['id']}/claims",
        json={"claim": "permit_expiry", "verdict": "refuted"},
        headers=auth(verifier),
    )
    assert refused.status_code == 200, refused.text
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    accepted = client.post(f"/api/v1/requests/{person['id']}/accept", headers=auth(person["access_code"]))
    booking = {**accepted.json()["booking"], "request": person, "document": "HD100012"}

    assert_problem(check_in(world, booking), 422, "claims_unverified")  # the vulnerability still counted
    response = check_in(world, booking, {"permit_expiry": "refuted", "vulnerability": "confirmed"})

    assert response.status_code == 200, response.text
    with session_scope(runtime.engine) as session:
        assert session.exec(select(ClaimSanction)).all() == []


def test_a_claim_confirmed_before_the_draw_stays_confirmed_and_another_verdict_is_refused(
    client, runtime, clock
):
    world = World(client, runtime)
    verifier = create_key(runtime, "verifier", [world.office])
    response = client.post(
        "/api/v1/requests",
        json=request_body(
            world.service,
            [world.office],
            identity=identity("HD100013"),
            permit_expires_on=(TODAY + timedelta(days=5)).isoformat(),
        ),
    )
    person = response.json()
    confirmed = client.post(
        f"/api/v1/requests/{person['id']}/claims",
        json={"claim": "permit_expiry", "verdict": "confirmed"},
        headers=auth(verifier),
    )
    assert confirmed.status_code == 200, confirmed.text
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    accepted = client.post(f"/api/v1/requests/{person['id']}/accept", headers=auth(person["access_code"]))
    booking = {**accepted.json()["booking"], "request": person, "document": "HD100013"}

    assert_problem(check_in(world, booking, {"permit_expiry": "refuted"}), 409, "claim_decided")
    assert view(world, booking)["status"] == "booked"
    response = check_in(world, booking)  # confirmed before: nothing left to judge

    assert response.status_code == 200, response.text
    assert response.json()["claims"][0]["status"] == "confirmed"


def test_claims_are_judged_only_once_token_office_document_and_state_hold(client, runtime, clock):
    world = World(client, runtime)
    booking = book(world, clock, "HD100014", **urgent())
    refute = {"permit_expiry": "refuted"}

    forged = {**booking, "token": booking["token"][:-4] + "AAAA"}
    assert_problem(check_in(world, forged, refute), 401, "token_invalid")
    assert_problem(check_in(world, {**booking, "document": "SOMEONE1"}, refute), 403, "identity_mismatch")

    shown = view(world, booking)
    assert shown["status"] == "booked"
    assert {c["status"] for c in shown["claims"]} == {"declared"}
    with session_scope(runtime.engine) as session:
        assert session.exec(select(ClaimSanction)).all() == []
