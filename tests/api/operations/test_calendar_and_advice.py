"""The calendar of an office (holidays, closures, slots by state per service) and the capacity advice."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import CapacityAdvice
from app.runtime import Runtime
from app.services import scheduler
from app.services.operations import capacity, catalog
from tests.assertions import assert_problem, count_rows
from tests.factories import World, auth, create_key, create_office, submit_request
from tests.planning import close, office_hours, publish, put_schedule

ZERO = {
    "slots": 0,
    "free": 0,
    "offered": 0,
    "booked": 0,
    "confirmed": 0,
    "attended": 0,
    "no_show": 0,
    "cancelled": 0,
}


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _calendar(world: World, key: str, **query: Any) -> Any:
    return world.client.get(f"/api/v1/offices/{world.office}/calendar", params=query, headers=auth(key))


def _day(calendar: dict[str, Any], day: str) -> dict[str, Any]:
    return next(d for d in calendar["days"] if d["date"] == day)


def test_the_calendar_counts_each_days_slots_by_state(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=1, days=[1]))
    publish(
        world.client, world.planner, world.office, world.service, "2026-W50", world.now + timedelta(hours=1)
    )
    first, second, third = world.applicant(), world.applicant(), world.applicant()
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    world.client.post(f"/api/v1/requests/{first['id']}/accept", headers=auth(first["access_code"]))
    world.client.post(f"/api/v1/requests/{second['id']}/accept", headers=auth(second["access_code"]))
    world.client.post(f"/api/v1/requests/{second['id']}/cancel", headers=auth(second["access_code"]))

    response = _calendar(world, world.desk, **{"from": "2026-12-07", "days": 2})

    assert response.status_code == 200, response.text
    calendar = response.json()
    assert calendar["office"] == world.office
    assert calendar["timezone"] == "Europe/Paris"
    assert [d["date"] for d in calendar["days"]] == ["2026-12-07", "2026-12-08"]
    monday = _day(calendar, "2026-12-07")
    assert monday["holiday"] is None
    assert monday["closure"] is None
    # Eleven slots; three offers, one accepted (inside the confirmation window: confirmed by accepting), one
    # accepted then cancelled (its slot back in the draws).
    assert monday["services"] == [
        {
            **ZERO,
            "service": world.service,
            "slots": 11,
            "free": 9,
            "offered": 1,
            "confirmed": 1,
            "cancelled": 1,
        }
    ]
    assert _day(calendar, "2026-12-08")["services"] == [{**ZERO, "service": world.service}]
    assert third["id"]


def test_the_calendar_names_holidays_and_closures(world: World, client: TestClient) -> None:
    office = create_office(
        client, world.admin, code="pap", timezone="America/Guadeloupe", holiday_region="GP"
    )["code"]
    planner = create_key(world.runtime, "planner", [office])
    close(client, planner, office, starts_on="2027-05-26", ends_on="2027-05-27", reason="Travaux", desks=2)

    response = client.get(f"/api/v1/offices/{office}/calendar?from=2027-05-25&days=4", headers=auth(planner))

    days = {d["date"]: d for d in response.json()["days"]}
    assert days["2027-05-27"]["holiday"] == "Abolition de l'esclavage"  # Guadeloupe's 27 May
    assert days["2027-05-25"]["holiday"] is None
    assert days["2027-05-26"]["closure"]["reason"] == "Travaux"
    assert days["2027-05-26"]["closure"]["desks"] == 2
    assert days["2027-05-28"]["closure"] is None


@pytest.mark.parametrize("query", [{"days": 40}, {"days": 0}, {"from": "2027-13-01"}, {"from": "tomorrow"}])
def test_a_calendar_of_40_days_or_a_bad_date_is_a_422(world: World, query: dict[str, Any]) -> None:
    assert_problem(_calendar(world, world.planner, **query), 422, "validation_error")


def test_another_offices_staff_cannot_read_the_calendar(world: World) -> None:
    other = create_office(world.client, world.admin)["code"]
    for role in ("planner", "desk"):
        assert_problem(_calendar(world, create_key(world.runtime, role, [other])), 403, "forbidden")
    assert_problem(_calendar(world, create_key(world.runtime, "agent", [world.office])), 403, "forbidden")
    assert _calendar(world, create_key(world.runtime, "auditor")).status_code == 200


def test_the_calendar_starts_today_and_shows_a_week_by_default(world: World) -> None:
    days = _calendar(world, world.planner).json()["days"]
    assert [d["date"] for d in days] == [
        (date(2026, 12, 1) + timedelta(days=i)).isoformat() for i in range(7)
    ]


# --- capacity advice -----------------------------------------------------------------------------------


def _advice(world: World, key: str, **query: Any) -> Any:
    return world.client.get(
        f"/api/v1/offices/{world.office}/services/{world.service}/capacity-advice",
        params=query,
        headers=auth(key),
    )


def test_with_under_two_weeks_of_history_the_estimates_are_null_and_the_method_says_why(world: World) -> None:
    world.applicant()
    world.release()

    response = _advice(world, world.planner)

    assert response.status_code == 200, response.text
    advice = response.json()
    assert advice["expected_wait_days_p90"] is None
    assert advice["slots_per_week_needed"] is None
    assert advice["weeks_of_history"] == 0.0
    assert advice["backlog"] == 1
    assert advice["target_wait_days"] == 30
    assert "at least 2 are needed" in advice["method"]
    assert advice["computed_at"]


def test_the_measures_count_verified_first_choice_requests_and_published_slots_per_week(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    other = create_office(world.client, world.admin)["code"]
    for _week in range(4):
        for _ in range(6):
            world.applicant(permit_expires_on=(clock.now().date() + timedelta(days=20)).isoformat())
        submit_request(world.client, world.service, [other, world.office])  # another office's first choice
        world.release(slots=3)
        clock.advance(timedelta(weeks=1))
    with session_scope(runtime.engine) as session:
        office = catalog.office_at(session, world.office)
        service = catalog.service_at(session, world.service)
        measured = capacity.measure(session, office, service, clock.now())

    # Every declared expiry falls within 60 days of now (or is already past): all urgent.
    assert measured == capacity.Measured(
        inflow_per_week=6.0, slots_per_week=3.0, backlog=24, urgent_share=1.0, weeks_of_history=4.0
    )


@pytest.mark.once
def test_with_history_the_advice_is_simulated_and_served_from_the_daily_computation(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    # Four weeks of a small office: 4 requests and 2 slots a week, the queue growing.
    for _week in range(4):
        for _ in range(4):
            world.applicant()
        world.release(slots=2, draw_in=timedelta(days=1))
        clock.advance(timedelta(weeks=1))
    # The scheduler's step (its draws left out, so the backlog stays what was filed).
    assert capacity.refresh_next(runtime.engine, now=clock.now()) is not None
    assert count_rows(runtime, CapacityAdvice) == 1  # the daily advice, default target

    advice = _advice(world, world.planner).json()

    assert advice["weeks_of_history"] == 4.0
    assert advice["inflow_per_week"] == 4.0
    assert advice["slots_per_week"] == 2.0
    assert advice["backlog"] == 16
    assert advice["expected_wait_days_p90"] > 30
    assert advice["slots_per_week_needed"] > 2
    assert "20 runs" in advice["method"]
    stricter = _advice(world, world.planner, target_wait_days=20).json()
    assert stricter["slots_per_week_needed"] >= advice["slots_per_week_needed"]
    assert count_rows(runtime, CapacityAdvice) == 2  # computed on demand for the new target, then kept


@pytest.mark.parametrize("target", [0, 366, "soon"])
def test_a_bad_target_is_a_422(world: World, target: Any) -> None:
    assert_problem(_advice(world, world.planner, target_wait_days=target), 422, "validation_error")


def test_the_advice_is_for_planners_auditors_and_admins_of_the_office(world: World) -> None:
    other = create_office(world.client, world.admin)["code"]
    for key in (world.desk, create_key(world.runtime, "planner", [other])):
        assert_problem(_advice(world, key), 403, "forbidden")
    for key in (world.admin, create_key(world.runtime, "auditor")):
        assert _advice(world, key).status_code == 200
