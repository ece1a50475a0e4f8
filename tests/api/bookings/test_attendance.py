"""Attendance by hand: a check-in from the day's list gives the token check-in's answers, and an absence is
a no-show once the slot has started."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import AuditEvent, Booking, NoShow
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.staff import keys as staff_keys
from tests.assertions import assert_problem
from tests.conftest import test_settings
from tests.desk import BIRTH, attend, book, scan, started, urgent
from tests.factories import World, auth, create_key, create_office, named_for, request_body

ABSENT = {"outcome": "absent", "document_number": None, "birth_date": None}


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _events(runtime: Runtime, booking_id: str) -> list[tuple[str, str]]:
    with session_scope(runtime.engine) as session:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.subject == f"booking:{booking_id}")
            .order_by(col(AuditEvent.id))
        ).all()
        return [(e.action, e.actor) for e in rows]


def _status(runtime: Runtime, booking_id: str) -> str:
    with session_scope(runtime.engine) as session:
        booking = session.get(Booking, booking_id)
        assert booking is not None
        return booking.status


def test_attended_with_the_holders_document_answers_as_a_token_check_in_does(world: World) -> None:
    by_hand, by_token = book(world, [{"document": "HAND0001"}, {"document": "HAND0002"}])

    hand = attend(world.client, world.desk, by_hand, document_number=" hand 0001 ")
    token = scan(world.client, world.desk, by_token)

    assert hand.status_code == token.status_code == 200, hand.text
    assert hand.json() == {
        "booking_id": by_hand["id"],
        "status": "attended",
        "family_name": named_for("Haddad", "HAND0001"),
        "given_names": "Samir",
        "office": world.office,
        "starts_at": by_hand["starts_at"],
        "claims": [],
    }
    assert set(hand.json()) == set(token.json())
    request = by_hand["request"]
    view = world.client.get(f"/api/v1/requests/{request['id']}", headers=auth(request["access_code"])).json()
    assert view["status"] == "attended"
    assert view["booking"]["status"] == "attended"


@pytest.mark.parametrize(
    ("document", "birth_date"),
    [("HAND9999", BIRTH), ("HAND0001", "1984-03-22"), ("HAND000", BIRTH)],
    ids=["other-document", "other-birth-date", "document-prefix"],
)
def test_a_wrong_document_is_identity_mismatch_kept_in_the_audit_log_and_the_right_one_then_checks_in(
    world: World, runtime: Runtime, document: str, birth_date: str
) -> None:
    (booking,) = book(world, [{"document": "HAND0001"}])

    refused = attend(world.client, world.desk, booking, document_number=document, birth_date=birth_date)

    assert_problem(refused, 403, "identity_mismatch")
    assert _status(runtime, booking["id"]) == "booked"
    assert [action for action, _actor in _events(runtime, booking["id"])] == ["checkin.refused"]
    assert attend(world.client, world.desk, booking).status_code == 200


def test_a_booking_shown_with_the_buyers_document_is_refused_like_a_transferred_token(world: World) -> None:
    seller, buyer = book(world, [{"document": "SELL0001"}, {"document": "BUY00002"}])
    assert_problem(
        attend(world.client, world.desk, seller, document_number="BUY00002"), 403, "identity_mismatch"
    )
    assert attend(world.client, world.desk, buyer).status_code == 200
    assert attend(world.client, world.desk, seller).status_code == 200


def test_twice_is_already_checked_in_whichever_way_came_first(world: World) -> None:
    first, second = book(world, [{"document": "TWICE001"}, {"document": "TWICE002"}])
    assert attend(world.client, world.desk, first).status_code == 200
    assert_problem(attend(world.client, world.desk, first), 409, "already_checked_in")
    assert_problem(scan(world.client, world.desk, first), 409, "already_checked_in")
    assert scan(world.client, world.desk, second).status_code == 200
    assert_problem(attend(world.client, world.desk, second), 409, "already_checked_in")


def test_a_desk_of_another_office_gets_wrong_office_naming_the_bookings_and_changes_nothing(
    world: World, runtime: Runtime
) -> None:
    (booking,) = book(world, [{"document": "OTHER001"}])
    other_desk = create_key(runtime, "desk", [create_office(world.client, world.admin)["code"]])

    problem = assert_problem(attend(world.client, other_desk, booking), 409, "wrong_office")
    absent = attend(world.client, other_desk, booking, **ABSENT)

    assert problem["office"] == world.office
    assert_problem(absent, 409, "wrong_office")
    assert _status(runtime, booking["id"]) == "booked"
    assert _events(runtime, booking["id"]) == []


def test_a_booking_of_another_day_is_outside_the_check_in_window(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "OTHERDAY"}])
    settings = test_settings(runtime.settings.database_url, check_in_opens_minutes_before=120)
    with TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False) as desk:
        problem = assert_problem(attend(desk, world.desk, booking), 409, "outside_check_in_window")
        token = assert_problem(scan(desk, world.desk, booking), 409, "outside_check_in_window")
        assert problem["detail"] == token["detail"]
        clock.set(started(booking) - timedelta(minutes=30))
        assert attend(desk, world.desk, booking).status_code == 200


def test_a_cancelled_booking_is_booking_cancelled(world: World) -> None:
    (booking,) = book(world, [{"document": "CANCEL01"}])
    request = booking["request"]
    cancel = world.client.post(
        f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"])
    )
    assert cancel.status_code == 200
    assert_problem(attend(world.client, world.desk, booking), 409, "booking_cancelled")
    assert_problem(attend(world.client, world.desk, booking, **ABSENT), 409, "booking_cancelled")


def test_claims_are_asked_judged_and_refuted_by_hand_as_at_a_scan(world: World, runtime: Runtime) -> None:
    asked, confirmed, refuted = book(world, [{"document": f"CLAIM00{n}", **urgent()} for n in range(3)])

    unverified = assert_problem(attend(world.client, world.desk, asked), 422, "claims_unverified")
    ok = attend(
        world.client,
        world.desk,
        confirmed,
        claims={"permit_expiry": "confirmed", "vulnerability": "confirmed"},
    )
    forfeited = assert_problem(
        attend(world.client, world.desk, refuted, claims={"permit_expiry": "refuted"}), 409, "claim_refuted"
    )

    assert unverified["claims"] == [
        {"claim": "permit_expiry", "declared": "2026-12-11"},
        {"claim": "vulnerability", "declared": ["pregnancy"]},
    ]
    assert _status(runtime, asked["id"]) == "booked"
    assert ok.status_code == 200, ok.text
    assert {c["status"] for c in ok.json()["claims"]} == {"confirmed"}
    assert forfeited["excluded_until"] == "2027-05-30"
    assert _status(runtime, refuted["id"]) == "forfeited"
    assert [a for a, _ in _events(runtime, refuted["id"])] == ["checkin.claim_refuted"]


def test_absent_before_the_slot_starts_is_refused_and_changes_nothing(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "EARLY001"}])
    clock.set(started(booking) - timedelta(seconds=1))

    problem = assert_problem(attend(world.client, world.desk, booking, **ABSENT), 409, "slot_not_started")

    assert "2026-12-03T09:00:00+01:00" in problem["detail"]
    assert _status(runtime, booking["id"]) == "booked"
    assert _events(runtime, booking["id"]) == []


def test_absent_once_the_slot_started_is_a_no_show_with_the_no_show_rules(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    (booking,) = book(world, [{"document": "ABSENT01"}])
    clock.set(started(booking))
    desk_id = _desk_actor(world, runtime)

    response = attend(world.client, world.desk, booking, **ABSENT)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "booking_id": booking["id"],
        "status": "no_show",
        "family_name": named_for("Haddad", "ABSENT01"),
        "given_names": "Samir",
        "office": world.office,
        "starts_at": booking["starts_at"],
        "claims": [],
    }
    request = booking["request"]
    view = world.client.get(f"/api/v1/requests/{request['id']}", headers=auth(request["access_code"])).json()
    assert (view["status"], view["booking"]["status"]) == ("no_show", "no_show")
    assert _events(runtime, booking["id"]) == [("booking.no_show", desk_id)]
    with session_scope(runtime.engine) as session:
        (row,) = session.exec(select(AuditEvent).where(AuditEvent.action == "booking.no_show")).all()
    assert row.office == world.office  # an auditor of the office reads it
    with session_scope(runtime.engine) as session:
        (missed,) = session.exec(select(NoShow)).all()
    assert (missed.booking_id, missed.missed_on.isoformat()) == (booking["id"], "2026-12-03")
    clock.advance(timedelta(hours=2))
    assert scheduler.tick(runtime).no_shows == []  # nothing left for the job
    assert_problem(attend(world.client, world.desk, booking, **ABSENT), 409, "booking_cancelled")
    assert_problem(attend(world.client, world.desk, booking), 409, "booking_cancelled")
    again = world.client.post(
        "/api/v1/requests",
        json=request_body(
            world.service,
            [world.office],
            identity={
                "document_type": "residence_permit",
                "document_number": "ABSENT01",
                "family_name": named_for("Haddad", "ABSENT01"),
                "given_names": "Samir",
                "birth_date": BIRTH,
            },
        ),
    )
    assert again.status_code == 201, again.text
    assert Decimal(again.json()["weight"]["total"]) == Decimal("0.5")


def test_absent_after_a_check_in_is_already_checked_in(world: World, clock: FrozenClock) -> None:
    (booking,) = book(world, [{"document": "CAME0001"}])
    assert attend(world.client, world.desk, booking).status_code == 200
    clock.set(started(booking) + timedelta(minutes=10))
    assert_problem(attend(world.client, world.desk, booking, **ABSENT), 409, "already_checked_in")


#: Bodies the route refuses, and the field each refusal names.
BAD_BODIES: list[tuple[dict, str]] = [
    ({"outcome": "maybe"}, "outcome"),
    ({"outcome": "present", "document_number": "BAD00001", "birth_date": BIRTH}, "outcome"),
    ({}, "outcome"),
    ({"outcome": "attended", "birth_date": BIRTH}, "attended.document_number"),
    ({"outcome": "attended", "document_number": "BAD00001"}, "attended.birth_date"),
    (
        {"outcome": "attended", "document_number": "BAD00001", "birth_date": "21/03/1984"},
        "attended.birth_date",
    ),
    (
        {"outcome": "attended", "document_number": "BAD00001", "birth_date": "1984-02-30"},
        "attended.birth_date",
    ),
    (
        {
            "outcome": "attended",
            "document_number": "BAD00001",
            "birth_date": BIRTH,
            "claims": {"x": "confirmed"},
        },
        "attended.claims.x",
    ),
    ({"outcome": "absent", "document_number": "BAD00001"}, "absent.document_number"),
    ({"outcome": "attended", "document_number": "", "birth_date": BIRTH}, "attended.document_number"),
]


def test_bad_bodies_are_a_422_naming_the_field_and_change_nothing(world: World, runtime: Runtime) -> None:
    (booking,) = book(world, [{"document": "BAD00001"}])

    for body, path in BAD_BODIES:
        response = world.client.post(
            f"/api/v1/bookings/{booking['id']}/attendance", json=body, headers=auth(world.desk)
        )
        problem = assert_problem(response, 422, "validation_error")
        assert path in [e["path"] for e in problem["errors"]], (body, problem)

    assert _status(runtime, booking["id"]) == "booked"
    assert _events(runtime, booking["id"]) == []


def test_an_unknown_booking_is_404(world: World) -> None:
    fake = {"id": "00000000-0000-4000-8000-000000000000", "document": "NOBODY01"}
    assert_problem(attend(world.client, world.desk, fake), 404, "not_found")
    assert_problem(attend(world.client, world.desk, fake, **ABSENT), 404, "not_found")


def test_only_a_desk_records_attendance(world: World, runtime: Runtime) -> None:
    (booking,) = book(world, [{"document": "ROLE0001"}])

    for role in ("planner", "auditor", "admin", "agent", "verifier"):
        key = create_key(runtime, role, [] if role in ("auditor", "admin") else [world.office])
        assert_problem(attend(world.client, key, booking), 403, "forbidden")
        assert_problem(attend(world.client, key, booking, **ABSENT), 403, "forbidden")

    assert _status(runtime, booking["id"]) == "booked"


@pytest.mark.parametrize("credential", [None, "fsk_not-a-key"])
def test_without_a_staff_key_attendance_is_401(
    world: World, runtime: Runtime, credential: str | None
) -> None:
    (booking,) = book(world, [{"document": "ANON0001"}])
    response = attend(world.client, credential, booking)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert _status(runtime, booking["id"]) == "booked"


def _desk_actor(world: World, runtime: Runtime) -> str:
    with session_scope(runtime.engine) as session:
        return staff_keys.authenticate(session, world.desk).actor
