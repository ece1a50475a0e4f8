"""Keeping one's place: a booking given back returns its slot to a draw and its request to the queue, twice
per request at most and never during the last day."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text

from app.services import scheduler
from tests.api.journey.world import JourneyWorld, outbox_of
from tests.assertions import assert_problem


def _world(client, runtime) -> JourneyWorld:
    return JourneyWorld(client, runtime, confirm_window_days=None)  # give back until a day before the slot


def _win_and_book(world: JourneyWorld, clock, person) -> dict:
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    booked = world.act(person, "accept")
    assert booked.status_code == 200, booked.text
    return booked.json()["booking"]


def test_a_booking_given_back_returns_its_slot_and_keeps_the_request_in_the_queue(client, runtime, clock):
    world = _world(client, runtime)
    person = world.applicant(contact={"email": "a@example.org"})
    booking = _win_and_book(world, clock, person)

    answer = world.act(person, "booking/give-back")

    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert view["status"] == "pending"
    assert [d["outcome"] for d in view["draws"]] == ["offered"]  # the draw it won is not a loss
    with runtime.engine.connect() as conn:
        status, returned = conn.execute(
            text(
                "SELECT b.status, s.returned_at FROM booking b JOIN slot s ON s.id = b.slot_id WHERE b.id = :id"
            ),
            {"id": booking["id"]},
        ).one()
    assert status == "given_back" and returned is not None  # the slot waits for its re-draw
    (message,) = outbox_of(runtime, person["id"], "booking_given_back")
    assert "STATUS:CANCELLED" in message.context["ics"]


def test_only_a_live_booking_can_be_given_back(client, runtime, clock):
    world = _world(client, runtime)
    (person,) = world.drawn(clock)

    assert_problem(world.act(person, "booking/give-back"), 409, "no_booking")  # an offer, not a booking
    assert world.view(person)["status"] == "offered"


def test_the_last_day_before_the_appointment_is_too_late_to_give_back(client, runtime, clock):
    world = _world(client, runtime)
    person = world.applicant()
    booking = _win_and_book(world, clock, person)
    clock.set(datetime.fromisoformat(booking["starts_at"]) - timedelta(hours=23))

    assert_problem(world.act(person, "booking/give-back"), 409, "too_late_to_give_back")
    assert world.view(person)["booking"]["status"] == "booked"


def test_a_request_gives_back_two_bookings_at_most(client, runtime, clock):
    world = _world(client, runtime)
    person = world.applicant()
    for _ in range(2):
        _win_and_book(world, clock, person)
        assert world.act(person, "booking/give-back").status_code == 200
    _win_and_book(world, clock, person)

    assert_problem(world.act(person, "booking/give-back"), 409, "give_back_limit")
    assert world.view(person)["status"] == "booked"
