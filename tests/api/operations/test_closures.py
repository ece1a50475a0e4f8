"""Closures: the office closes days or runs fewer desks; what is published on them is taken back, bookings
only when told to, their holders told at once and put back in the queue with their waiting credit and the
``office_cancelled`` priority until their next offer."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import Booking, Offer, OfficeClosure, Release
from app.runtime import Runtime
from app.services import scheduler
from tests.assertions import assert_problem, count_rows
from tests.factories import World, auth, create_key, create_office
from tests.planning import close, messages_of, office_hours, publish, put_schedule, release_row, slot_starts

PARIS = ZoneInfo("Europe/Paris")
#: The world's clock starts on Tuesday 1 December 2026; week 50 starts on Monday 7 December.
WEEK = "2026-W50"
MONDAY = date(2026, 12, 7)


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _published(world: World, *, desks: int = 1, days: list[int] | None = None) -> dict[str, Any]:
    put_schedule(
        world.client, world.planner, world.office, world.service, office_hours(desks=desks, days=days)
    )
    response = publish(
        world.client, world.planner, world.office, world.service, WEEK, world.now + timedelta(hours=1)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _request(world: World, applicant: dict[str, Any]) -> dict[str, Any]:
    response = world.client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert response.status_code == 200
    return response.json()


def _draw(world: World, runtime: Runtime, clock: FrozenClock) -> None:
    clock.advance(timedelta(hours=2))
    assert scheduler.tick(runtime).draws


def _factor(request: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((f for f in request["weight"]["factors"] if f["name"] == name), None)


def test_closing_a_day_removes_its_free_slots_from_the_release(world: World, runtime: Runtime) -> None:
    release = _published(world, desks=2, days=[1, 2])

    response = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-08",
        ends_on="2026-12-08",
        reason="Grève",
    )

    assert response.status_code == 201, response.text
    closure = response.json()
    assert closure | {"id": 0, "created_at": ""} == {
        "id": 0,
        "created_at": "",
        "office": world.office,
        "starts_on": "2026-12-08",
        "ends_on": "2026-12-08",
        "reason": "Grève",
        "desks": None,
        "cancelled_bookings": 0,
        "withdrawn_offers": 0,
        "removed_slots": 22,
    }
    left = slot_starts(runtime, release["id"])
    assert {s.astimezone(PARIS).date() for s in left} == {MONDAY}
    assert release_row(runtime, release["id"]).slot_count == 22
    listed = world.client.get(f"/api/v1/offices/{world.office}/closures", headers=auth(world.desk)).json()
    assert [c["id"] for c in listed] == [closure["id"]]


def test_a_reduced_day_keeps_that_many_desks_at_each_time(world: World, runtime: Runtime) -> None:
    release = _published(world, desks=3, days=[1])

    response = close(
        world.client,
        world.admin,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-07",
        reason="Formation",
        desks=1,
    )

    assert response.status_code == 201, response.text
    assert response.json()["removed_slots"] == 22
    left = slot_starts(runtime, release["id"])
    assert len(left) == 11
    assert len(set(left)) == 11


def test_an_open_offer_on_a_closed_day_is_withdrawn_and_its_request_goes_back_first_in_line(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    _published(world, desks=1, days=[1])
    applicant = world.applicant()
    _draw(world, runtime, clock)
    assert _request(world, applicant)["status"] == "offered"

    response = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-07",
        reason="Travaux",
    )

    assert response.status_code == 201, response.text
    assert response.json()["withdrawn_offers"] == 1
    request = _request(world, applicant)
    assert request["status"] == "pending"
    assert request["offer"] is None
    factor = _factor(request, "office_cancelled")
    assert factor is not None
    assert factor["value"] == "10"
    assert factor["code"] == "office_cancelled"
    assert Decimal(request["weight"]["total"]) == 10
    assert messages_of(runtime, applicant["id"])[-1] == "offer_withdrawn_by_office"
    with session_scope(runtime.engine) as session:
        assert [o.status for o in session.exec(select(Offer)).all()] == ["withdrawn"]


def test_booked_days_answer_bookings_in_closure_with_their_count_and_change_nothing(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    release = _published(world, desks=1, days=[1])
    applicants = [world.applicant() for _ in range(2)]
    _draw(world, runtime, clock)
    for applicant in applicants:
        accepted = world.client.post(
            f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
        )
        assert accepted.status_code == 200, accepted.text
    slots_before = slot_starts(runtime, release["id"])

    response = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-09",
        reason="Grève",
    )

    problem = assert_problem(response, 409, "bookings_in_closure")
    assert problem["bookings"] == 2
    assert count_rows(runtime, OfficeClosure) == 0
    assert slot_starts(runtime, release["id"]) == slots_before
    assert {_request(world, a)["status"] for a in applicants} == {"booked"}


def test_cancelling_the_bookings_puts_their_holders_back_with_credit_and_priority_until_their_next_offer(
    world: World, runtime: Runtime, clock: FrozenClock, client: TestClient
) -> None:
    # Tuesdays only: the holder enters week 50's Monday draw and loses it (waiting credit: a draw day), then,
    # the next day, wins a Tuesday of week 51 and books it.
    holder = world.applicant(availability={"weekdays": [2]})
    _published(world, desks=1, days=[1])
    _draw(world, runtime, clock)
    clock.advance(timedelta(days=1))
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1, days=[2]))
    publish(client, world.planner, world.office, world.service, "2026-W51", clock.now() + timedelta(hours=1))
    _draw(world, runtime, clock)
    client.post(f"/api/v1/requests/{holder['id']}/accept", headers=auth(holder["access_code"]))
    booked = _request(world, holder)
    assert booked["status"] == "booked"
    assert booked["draws_entered"] == 2

    response = close(
        client,
        world.planner,
        world.office,
        starts_on="2026-12-15",
        ends_on="2026-12-15",
        reason="Grève",
        cancel_bookings=True,
    )

    assert response.status_code == 201, response.text
    assert response.json()["cancelled_bookings"] == 1
    back = _request(world, holder)
    assert back["status"] == "pending"
    assert back["booking"]["status"] == "cancelled_by_office"
    assert _factor(back, "waiting")["value"] == "1.25"  # type: ignore[index]  # the lost draw still counts
    assert _factor(back, "office_cancelled")["value"] == "10"  # type: ignore[index]
    assert Decimal(back["weight"]["total"]) == Decimal("12.5")
    assert messages_of(runtime, holder["id"])[-1] == "booking_cancelled_by_office"
    with session_scope(runtime.engine) as session:
        assert [b.status for b in session.exec(select(Booking)).all()] == ["cancelled_by_office"]
    # The next Tuesday's draw weighs the priority in, and the offer it makes ends it.
    rival = world.applicant()
    created = publish(
        client, world.planner, world.office, world.service, "2026-W52", clock.now() + timedelta(hours=1)
    ).json()
    _draw(world, runtime, clock)
    with session_scope(runtime.engine) as session:
        release = session.get(Release, created["id"])
        assert release is not None and release.status == "drawn"
    weights = {e["entry"]: e["weight"] for e in _entries(client, created["id"])}
    assert Decimal(weights[holder["entry"]]) == Decimal("12.5")
    assert Decimal(weights[rival["entry"]]) == 1
    offered = _request(world, holder)
    assert offered["status"] == "offered"
    assert _factor(offered, "office_cancelled") is None


def _entries(client: TestClient, release_id: int) -> list[dict[str, Any]]:
    draw_id = client.get(f"/api/v1/releases/{release_id}").json()["draw_id"]
    return client.get(f"/api/v1/draws/{draw_id}").json()["entries"]


def test_a_reduced_day_takes_back_free_slots_before_offers_and_offers_before_bookings(
    world: World, runtime: Runtime, clock: FrozenClock, client: TestClient
) -> None:
    put_schedule(
        client,
        world.planner,
        world.office,
        world.service,
        [{"weekday": 1, "opens": "09:00", "closes": "09:30", "desks": 3}],
    )
    publish(client, world.planner, world.office, world.service, WEEK, world.now + timedelta(hours=1))
    booked, offered = world.applicant(), world.applicant()
    _draw(world, runtime, clock)
    client.post(f"/api/v1/requests/{booked['id']}/accept", headers=auth(booked["access_code"]))

    to_two = close(
        client,
        world.planner,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-07",
        reason="Formation",
        desks=2,
    )
    to_one = close(
        client,
        world.planner,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-07",
        reason="Formation",
        desks=1,
    )

    assert to_two.json() | {"id": 0, "created_at": ""} == to_two.json() | {
        "id": 0,
        "created_at": "",
        "removed_slots": 1,
        "withdrawn_offers": 0,
        "cancelled_bookings": 0,
    }
    assert to_one.json()["withdrawn_offers"] == 1
    assert _request(world, booked)["status"] == "booked"
    assert _request(world, offered)["status"] == "pending"


def test_a_closure_inside_a_due_draw_is_draw_pending(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    release = _published(world, days=[1])
    clock.advance(timedelta(hours=2))  # draw_at has come; the draw has not run

    response = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-07",
        ends_on="2026-12-07",
        reason="Grève",
    )

    assert_problem(response, 409, "draw_pending")
    assert count_rows(runtime, OfficeClosure) == 0
    assert len(slot_starts(runtime, release["id"])) == 11


def test_a_closed_week_publishes_nothing_and_a_reduced_one_fewer_desks(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=3, days=[1, 2]))
    close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-14",
        ends_on="2026-12-20",
        reason="Travaux",
    )
    close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-22",
        ends_on="2026-12-22",
        reason="Formation",
        desks=1,
    )

    closed = publish(
        world.client, world.planner, world.office, world.service, "2026-W51", world.now + timedelta(hours=1)
    )
    reduced = publish(
        world.client, world.planner, world.office, world.service, "2026-W52", world.now + timedelta(hours=1)
    )

    assert_problem(closed, 409, "nothing_to_publish")
    assert reduced.json()["slot_count"] == 3 * 11 + 1 * 11


def test_a_deleted_closure_opens_its_days_to_later_publications(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=1, days=[1]))
    closure = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-14",
        ends_on="2026-12-14",
        reason="Grève",
    ).json()

    deleted = world.client.delete(
        f"/api/v1/offices/{world.office}/closures/{closure['id']}", headers=auth(world.planner)
    )
    again = world.client.delete(
        f"/api/v1/offices/{world.office}/closures/{closure['id']}", headers=auth(world.planner)
    )

    assert deleted.status_code == 204
    assert_problem(again, 404, "not_found")
    assert (
        publish(
            world.client,
            world.planner,
            world.office,
            world.service,
            "2026-W51",
            world.now + timedelta(hours=1),
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(
            {"starts_on": "2026-12-10", "ends_on": "2026-12-09"}, "body", id="ends-before-it-starts"
        ),
        pytest.param(
            {"starts_on": "2026-11-30", "ends_on": "2026-12-09"}, "starts_on", id="starts-in-the-past"
        ),
        pytest.param({"desks": 0}, "desks", id="zero-desks"),
        pytest.param({"starts_on": "10/12/2026"}, "starts_on", id="not-iso"),
        pytest.param({"reason": ""}, "reason", id="no-reason"),
        pytest.param({"starts_on": "2026-12-10", "ends_on": "2028-12-10"}, "body", id="over-a-year"),
        pytest.param({"cancel_bookings": "yes"}, "cancel_bookings", id="cancel-not-boolean"),
    ],
)
def test_a_bad_closure_is_a_422_and_changes_nothing(
    world: World, runtime: Runtime, body: dict[str, Any], path: str
) -> None:
    release = _published(world, days=[4])
    full = {"starts_on": "2026-12-10", "ends_on": "2026-12-10", "reason": "Grève", **body}

    response = close(world.client, world.planner, world.office, **full)

    problem = assert_problem(response, 422, "validation_error")
    assert path in {e["path"] for e in problem["errors"]}
    assert count_rows(runtime, OfficeClosure) == 0
    assert len(slot_starts(runtime, release["id"])) == 11


def test_another_offices_planner_or_a_desk_cannot_close_the_office(world: World, runtime: Runtime) -> None:
    other = create_office(world.client, world.admin)["code"]
    other_planner = create_key(runtime, "planner", [other])

    for key in (other_planner, world.desk, create_key(runtime, "auditor")):
        response = close(
            world.client, key, world.office, starts_on="2026-12-10", ends_on="2026-12-10", reason="x"
        )
        assert_problem(response, 403, "forbidden")
    assert count_rows(runtime, OfficeClosure) == 0


def test_a_closure_that_starts_today_leaves_the_slots_already_begun(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=1, days=[2]))
    release = publish(
        world.client, world.planner, world.office, world.service, "2026-W51", world.now + timedelta(hours=1)
    ).json()
    clock.set(datetime(2026, 12, 15, 11, 0, tzinfo=PARIS))  # Tuesday of that week, 11:00
    scheduler.tick(runtime)

    response = close(
        world.client,
        world.planner,
        world.office,
        starts_on="2026-12-15",
        ends_on="2026-12-15",
        reason="Grève",
    )

    assert response.status_code == 201, response.text
    left = [s.astimezone(PARIS).time().isoformat() for s in slot_starts(runtime, release["id"])]
    assert left == ["09:00:00", "09:30:00", "10:00:00", "10:30:00"]
