"""Confirm or release, on a frozen clock: the window, the reminders, the release at ``confirm_by`` exactly
(never before, once), the slot re-drawn, the identity free at once and no no-show penalty."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import Booking, NoShow, OutboxMessage
from app.services import scheduler
from tests.assertions import assert_problem
from tests.factories import World, auth, create_key, create_office, create_service, request_body


def _booked(world: World, clock, *, days_ahead: float, document: str | None = None) -> dict:
    """An applicant booked on a slot ``days_ahead`` days after the draw (drawn one hour from now)."""
    overrides = {"identity": {**request_body(world.service, [world.office])["identity"]}} if document else {}
    if document:
        overrides["identity"]["document_number"] = document
    applicant = world.applicant(**overrides)
    release_and_draw(world, clock, days_ahead=days_ahead)
    _post(world, applicant, "accept")
    return applicant


def release_and_draw(world: World, clock, *, days_ahead: float) -> None:
    """One slot ``days_ahead`` days after a draw held one hour from now, drawn (the clock moves on)."""
    starts_at = clock.now() + timedelta(hours=1) + timedelta(days=days_ahead)
    release = world.client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": (clock.now() + timedelta(hours=1)).isoformat(),
            "slots": [{"starts_at": starts_at.isoformat()}],
        },
        headers=auth(world.planner),
    )
    assert release.status_code == 201, release.text
    clock.advance(timedelta(hours=1))
    drawn = world.client.post(f"/api/v1/releases/{release.json()['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text


def _post(world: World, applicant: dict, action: str):
    answer = world.client.post(
        f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"])
    )
    return answer


def _view(world: World, applicant: dict) -> dict:
    answer = world.client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _kinds(runtime, request_id: str) -> list[str]:
    with session_scope(runtime.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage.kind)
                .where(OutboxMessage.request_id == request_id, OutboxMessage.channel == "email")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def test_a_booking_far_ahead_is_confirmed_only_inside_its_window_and_twice_is_fine(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10)
    booking = _view(world, applicant)["booking"]
    starts_at = _at(booking["starts_at"])
    assert _at(booking["confirm_from"]) == starts_at - timedelta(days=7)
    assert _at(booking["confirm_by"]) == starts_at - timedelta(days=2)
    assert booking["confirmed_at"] is None

    assert_problem(_post(world, applicant, "confirm"), 409, "not_confirmable")
    clock.set(_at(booking["confirm_from"]) - timedelta(seconds=1))
    assert_problem(_post(world, applicant, "confirm"), 409, "not_confirmable")
    clock.set(_at(booking["confirm_from"]))
    confirmed = _post(world, applicant, "confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert _at(confirmed.json()["booking"]["confirmed_at"]) == clock.now()
    clock.advance(timedelta(days=3))
    again = _post(world, applicant, "confirm")
    assert again.status_code == 200
    assert again.json()["booking"]["confirmed_at"] == confirmed.json()["booking"]["confirmed_at"]

    clock.set(_at(booking["confirm_by"]) + timedelta(hours=1))
    assert scheduler.tick(runtime).released == []
    assert _view(world, applicant)["status"] == "booked"


def test_an_unconfirmed_booking_is_reminded_then_released_exactly_at_confirm_by_once(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10, document="SAMEPERS1")
    booking = _view(world, applicant)["booking"]
    confirm_from, confirm_by = _at(booking["confirm_from"]), _at(booking["confirm_by"])

    clock.set(confirm_from - timedelta(seconds=1))
    assert scheduler.tick(runtime).booking_reminders == []
    clock.set(confirm_from)
    assert scheduler.tick(runtime).booking_reminders == [booking["id"]]
    clock.set(confirm_by - timedelta(days=1))
    assert scheduler.tick(runtime).booking_reminders == [booking["id"]]
    clock.set(confirm_by - timedelta(microseconds=1))
    report = scheduler.tick(runtime)
    assert (report.released, report.booking_reminders) == ([], [])
    assert _view(world, applicant)["status"] == "booked"

    clock.set(confirm_by)
    assert scheduler.tick(runtime).released == [booking["id"]]
    assert scheduler.tick(runtime).released == []

    view = _view(world, applicant)
    assert (view["status"], view["booking"]["status"]) == ("released", "released")
    assert _kinds(runtime, applicant["id"])[-3:] == [
        "confirm_window_open",
        "confirm_due_tomorrow",
        "released",
    ]
    assert_problem(_post(world, applicant, "confirm"), 409, "not_confirmable")
    with session_scope(runtime.engine) as session:
        assert session.exec(select(NoShow)).all() == []
        released = session.execute(text("SELECT count(*) FROM audit_event WHERE action = 'booking.released'"))
        assert released.scalar_one() == 1
    # The identity is free at once: the same person may request again (a 409 duplicate_request before).
    identity = {**request_body(world.service, [world.office])["identity"], "document_number": "SAMEPERS1"}
    again = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], identity=identity)
    )
    assert again.status_code == 201, again.text


def test_the_released_slot_goes_back_to_a_draw_and_is_offered_to_someone_else(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10, document="FIRST0001")
    waiting = world.applicant()
    confirm_by = _at(_view(world, applicant)["booking"]["confirm_by"])
    clock.set(confirm_by)
    assert scheduler.tick(runtime).redraws  # the returned slot gathered into a re-draw
    clock.advance(timedelta(minutes=30))
    scheduler.tick(runtime)
    assert _view(world, waiting)["status"] == "offered"
    assert _view(world, waiting)["offer"]["starts_at"] == _view(world, applicant)["booking"]["starts_at"]


def test_a_booking_made_inside_the_window_is_confirmed_by_accepting(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=3)
    booking = _view(world, applicant)["booking"]
    assert _at(booking["confirmed_at"]) == clock.now()
    assert _post(world, applicant, "confirm").status_code == 200
    clock.set(_at(booking["confirm_by"]) + timedelta(minutes=1))
    assert scheduler.tick(runtime).released == []


def test_without_the_rule_a_booking_has_no_window_and_is_never_released(client, runtime, clock):
    world = World(client, runtime)
    world.service = create_service(client, world.admin, weight_policy={"confirm_window_days": None})["code"]
    services = {s["code"]: s for s in client.get("/api/v1/services").json()}
    assert services[world.service]["weight_policy"]["confirm_window_days"] is None
    applicant = _booked(world, clock, days_ahead=10)
    booking = _view(world, applicant)["booking"]
    assert (booking["confirm_from"], booking["confirm_by"], booking["confirmed_at"]) == (None, None, None)
    assert_problem(_post(world, applicant, "confirm"), 409, "not_confirmable")
    clock.advance(timedelta(days=9))
    assert scheduler.tick(runtime).released == []


def test_a_booking_made_before_the_rule_existed_is_never_released(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10)
    with session_scope(runtime.engine) as session:
        session.execute(update(Booking).values(confirm_from=None, confirm_by=None, confirmed_at=None))
    clock.advance(timedelta(days=9))
    assert scheduler.tick(runtime).released == []
    assert _view(world, applicant)["status"] == "booked"


def test_confirming_without_a_booking_is_not_confirmable(client, runtime):
    world = World(client, runtime)
    applicant = world.applicant()
    assert_problem(_post(world, applicant, "confirm"), 409, "not_confirmable")


@pytest.mark.parametrize("days", [[2, 7], [7, 7], [0, 0], [400, 2], [7]])
def test_an_incoherent_window_is_refused(client, runtime, days):
    world = World(client, runtime)
    answer = client.post(
        "/api/v1/services",
        json={
            "code": "svc-bad",
            "name": "x",
            "slot_minutes": 30,
            "weight_policy": {"confirm_window_days": days},
        },
        headers=auth(world.admin),
    )
    assert_problem(answer, 422, "validation_error")


def test_the_day_before_an_appointment_brings_the_address_and_what_to_bring(client, runtime, clock):
    world = World(client, runtime)
    world.office = create_office(client, world.admin, address="1 rue de Lutèce, 75004 Paris")["code"]
    world.planner = create_key(runtime, "planner", [world.office])
    applicant = _booked(world, clock, days_ahead=3)
    starts_at = _at(_view(world, applicant)["booking"]["starts_at"])
    clock.set(starts_at - timedelta(days=1, seconds=1))
    assert scheduler.tick(runtime).booking_reminders == []
    clock.set(starts_at - timedelta(days=1))
    assert scheduler.tick(runtime).booking_reminders == [_view(world, applicant)["booking"]["id"]]
    assert scheduler.tick(runtime).booking_reminders == []
    with session_scope(runtime.engine) as session:
        message = session.exec(
            select(OutboxMessage).where(OutboxMessage.kind == "appointment_tomorrow")
        ).one()
    assert message.context["address"] == "1 rue de Lutèce, 75004 Paris"
    offices = {o["code"]: o for o in client.get("/api/v1/offices").json()}
    assert offices[world.office]["address"] == "1 rue de Lutèce, 75004 Paris"


def test_a_booking_made_on_the_day_of_its_appointment_gets_no_appointment_tomorrow_reminder(
    client, runtime, clock
):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=0.25)  # drawn at 10:00 in Paris for 16:00 the same day
    starts_at = _at(_view(world, applicant)["booking"]["starts_at"])
    assert starts_at.date() == clock.now().astimezone(starts_at.tzinfo).date()

    scheduler.tick(runtime)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)

    assert "appointment_tomorrow" not in _kinds(runtime, applicant["id"])


def test_a_booking_made_in_the_evening_for_the_next_morning_is_reminded_at_once(client, runtime, clock):
    world = World(client, runtime)
    clock.set(clock.now().replace(hour=18))  # 19:00 in Paris
    applicant = _booked(world, clock, days_ahead=0.5)  # drawn at 20:00 for 08:00 the next day

    scheduler.tick(runtime)

    assert _kinds(runtime, applicant["id"]).count("appointment_tomorrow") == 1
