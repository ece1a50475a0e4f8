"""Opening schedules and publishing a week: slots cut in the office's zone (clock changes included), public
holidays of the office's region left out, one release per week, every bad input a 422 that changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.models import OpeningSchedule, Release
from app.runtime import Runtime
from app.services import scheduler
from tests.assertions import assert_problem, count_rows
from tests.factories import World, auth, create_key, create_office
from tests.planning import office_hours, publish, put_schedule, release_row, slot_starts

PARIS = ZoneInfo("Europe/Paris")


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _draw_before(monday: str) -> datetime:
    """A draw time the Friday before a week's Monday (ISO date), 10:00 Paris."""
    return datetime.fromisoformat(monday + "T10:00:00").replace(tzinfo=PARIS) - timedelta(days=3)


# --- schedules -----------------------------------------------------------------------------------------


def test_a_planner_sets_a_schedule_and_anyone_of_the_office_reads_it_back(world: World) -> None:
    shown = put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=3))

    assert shown["office"] == world.office
    assert shown["service"] == world.service
    assert shown["weekly"][:2] == [
        {"weekday": 1, "opens": "09:00", "closes": "12:00", "desks": 3},
        {"weekday": 1, "opens": "13:30", "closes": "16:00", "desks": 3},
    ]
    # (6 + 5) thirty-minute slots a day, 3 desks, 5 days.
    assert shown["slots_per_week"] == 165
    for key in (world.desk, world.admin, create_key(world.runtime, "auditor")):
        again = world.client.get(
            f"/api/v1/offices/{world.office}/schedules/{world.service}", headers=auth(key)
        )
        assert again.status_code == 200
        assert again.json()["weekly"] == shown["weekly"]


def test_a_schedule_is_replaced_whole_and_an_empty_one_opens_nothing(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    shown = put_schedule(world.client, world.admin, world.office, world.service, [])

    assert shown["weekly"] == []
    assert shown["slots_per_week"] == 0
    assert count_rows(world.runtime, OpeningSchedule) == 1


BAD_LINES = [
    pytest.param({"opens": "12:00", "closes": "09:00"}, "weekly.0", id="closing-before-opening"),
    pytest.param({"opens": "09:00", "closes": "09:00"}, "weekly.0", id="closing-when-opening"),
    pytest.param({"weekday": 0}, "weekly.0.weekday", id="weekday-0"),
    pytest.param({"weekday": 8}, "weekly.0.weekday", id="weekday-8"),
    pytest.param({"desks": 0}, "weekly.0.desks", id="zero-desks"),
    pytest.param({"desks": 101}, "weekly.0.desks", id="too-many-desks"),
    pytest.param({"opens": "25:00"}, "weekly.0.opens", id="opens-at-25"),
    pytest.param({"closes": "9h"}, "weekly.0.closes", id="not-hh-mm"),
    pytest.param({"weekday": True}, "weekly.0.weekday", id="weekday-as-boolean"),
]


@pytest.mark.parametrize(("change", "path"), BAD_LINES)
def test_a_bad_schedule_line_is_a_422_naming_it_and_keeps_the_schedule(
    world: World, change: dict[str, Any], path: str
) -> None:
    before = put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    line = {"weekday": 2, "opens": "09:00", "closes": "12:00", "desks": 1, **change}

    response = world.client.put(
        f"/api/v1/offices/{world.office}/schedules/{world.service}",
        json={"weekly": [line]},
        headers=auth(world.planner),
    )

    problem = assert_problem(response, 422, "validation_error")
    assert path in {e["path"] for e in problem["errors"]}
    after = world.client.get(
        f"/api/v1/offices/{world.office}/schedules/{world.service}", headers=auth(world.desk)
    )
    assert after.json()["weekly"] == before["weekly"]


def test_overlapping_lines_of_one_weekday_are_a_422_but_touching_ones_are_fine(world: World) -> None:
    overlapping = [
        {"weekday": 3, "opens": "09:00", "closes": "12:00", "desks": 1},
        {"weekday": 3, "opens": "11:30", "closes": "13:00", "desks": 1},
    ]
    touching = [
        {"weekday": 3, "opens": "09:00", "closes": "12:00", "desks": 1},
        {"weekday": 3, "opens": "12:00", "closes": "13:00", "desks": 1},
        {"weekday": 4, "opens": "11:30", "closes": "13:00", "desks": 1},
    ]

    refused = world.client.put(
        f"/api/v1/offices/{world.office}/schedules/{world.service}",
        json={"weekly": overlapping},
        headers=auth(world.planner),
    )

    problem = assert_problem(refused, 422, "validation_error")
    assert "weekly.1 overlaps weekly.0" in problem["errors"][0]["message"]
    assert count_rows(world.runtime, OpeningSchedule) == 0
    assert (
        put_schedule(world.client, world.planner, world.office, world.service, touching)["slots_per_week"]
        == 11
    )


def test_another_offices_planner_and_a_desk_cannot_set_the_schedule(world: World) -> None:
    other = create_office(world.client, world.admin)["code"]
    other_planner = create_key(world.runtime, "planner", [other])

    for key in (other_planner, world.desk):
        response = world.client.put(
            f"/api/v1/offices/{world.office}/schedules/{world.service}",
            json={"weekly": office_hours()},
            headers=auth(key),
        )
        assert_problem(response, 403, "forbidden")
    reading = world.client.get(
        f"/api/v1/offices/{world.office}/schedules/{world.service}", headers=auth(other_planner)
    )
    assert_problem(reading, 403, "forbidden")
    assert count_rows(world.runtime, OpeningSchedule) == 0


def test_an_unknown_office_or_service_is_a_404(world: World) -> None:
    for path in (
        f"/api/v1/offices/nowhere/schedules/{world.service}",
        f"/api/v1/offices/{world.office}/schedules/x",
    ):
        assert_problem(world.client.get(path, headers=auth(world.admin)), 404, "not_found")


# --- publishing a week ---------------------------------------------------------------------------------


def test_publishing_a_week_releases_its_slots_in_local_time_one_per_desk(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=2))

    response = publish(
        world.client, world.planner, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "scheduled"
    assert created["slot_count"] == 2 * 11 * 5
    assert len(created["seed_commitment"]) == 64
    starts = slot_starts(world.runtime, created["id"])
    local = [s.astimezone(PARIS) for s in starts]
    assert local[0] == datetime(2027, 1, 11, 9, 0, tzinfo=PARIS)
    assert local[-1] == datetime(2027, 1, 15, 15, 30, tzinfo=PARIS)
    assert local.count(datetime(2027, 1, 11, 9, 0, tzinfo=PARIS)) == 2
    assert datetime(2027, 1, 11, 12, 0, tzinfo=PARIS) not in local  # the lunch break
    shown = world.client.get(f"/api/v1/releases/{created['id']}").json()
    assert shown["week"] == "2027-W02"
    assert shown["slot_count"] == 110


def test_a_published_week_is_drawn_like_any_release(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=1, days=[1]))
    applicant = world.applicant()
    created = publish(
        world.client, world.planner, world.office, world.service, "2026-W50", world.now + timedelta(hours=1)
    ).json()

    clock.advance(timedelta(hours=2))
    report = scheduler.tick(runtime)

    assert report.draws
    offer = world.client.get(
        f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])
    ).json()
    assert offer["status"] == "offered"
    assert release_row(runtime, created["id"]).status == "drawn"


def test_a_week_is_published_once_until_its_release_is_withdrawn(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    first = publish(
        world.client, world.planner, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
    )

    again = publish(
        world.client, world.planner, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
    )

    problem = assert_problem(again, 409, "week_published")
    assert problem["release_id"] == first.json()["id"]
    assert count_rows(world.runtime, Release) == 1
    withdrawn = world.client.post(
        f"/api/v1/releases/{first.json()['id']}/withdraw",
        json={"reason": "wrong week"},
        headers=auth(world.planner),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    republished = publish(
        world.client, world.planner, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
    )
    assert republished.status_code == 201


def test_a_week_the_schedule_leaves_empty_is_nothing_to_publish(world: World) -> None:
    no_schedule = publish(
        world.client, world.planner, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
    )
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(days=[1]))
    # 2027-W13: its Monday is Easter Monday, a public holiday everywhere in France.
    only_a_holiday = publish(
        world.client, world.planner, world.office, world.service, "2027-W13", _draw_before("2027-03-29")
    )

    assert_problem(no_schedule, 409, "nothing_to_publish")
    assert_problem(only_a_holiday, 409, "nothing_to_publish")
    assert count_rows(world.runtime, Release) == 0


@pytest.mark.parametrize(
    ("week", "draw_at", "path"),
    [
        pytest.param("2027-3", None, "week", id="not-iso"),
        pytest.param("2027-W54", None, "week", id="no-such-week"),
        pytest.param("2027W03", None, "week", id="no-dash"),
        pytest.param(
            "2027-W03", datetime(2027, 1, 18, 0, 0, tzinfo=PARIS), "draw_at", id="draw-when-week-starts"
        ),
        pytest.param(
            "2027-W03", datetime(2027, 1, 19, 9, 0, tzinfo=PARIS), "draw_at", id="draw-after-week-starts"
        ),
        pytest.param("2027-W03", datetime(2026, 11, 30, 9, 0, tzinfo=UTC), "draw_at", id="draw-in-the-past"),
    ],
)
def test_a_bad_week_or_draw_time_is_a_422_and_publishes_nothing(
    world: World, week: str, draw_at: datetime | None, path: str
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())

    response = publish(
        world.client, world.planner, world.office, world.service, week, draw_at or _draw_before("2027-01-18")
    )

    problem = assert_problem(response, 422, "validation_error")
    assert path in {e["path"] for e in problem["errors"]}
    assert count_rows(world.runtime, Release) == 0


def test_another_offices_planner_cannot_publish_a_week(world: World) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    other = create_office(world.client, world.admin)["code"]
    other_planner = create_key(world.runtime, "planner", [other])

    for key in (other_planner, world.admin, world.desk):
        response = publish(
            world.client, key, world.office, world.service, "2027-W02", _draw_before("2027-01-11")
        )
        assert_problem(response, 403, "forbidden")
    assert count_rows(world.runtime, Release) == 0


# --- clock changes and regions -------------------------------------------------------------------------


def test_the_week_the_clocks_go_forward_keeps_office_hours_on_the_wall_clock(world: World) -> None:
    # 2027-W12: Monday 22 March to Sunday 28 March, when Paris moves from +01:00 to +02:00 at 02:00.
    weekly = [
        {"weekday": 5, "opens": "09:00", "closes": "10:00", "desks": 1},
        {"weekday": 7, "opens": "01:00", "closes": "04:00", "desks": 1},
        {"weekday": 7, "opens": "09:00", "closes": "10:00", "desks": 1},
    ]
    put_schedule(world.client, world.planner, world.office, world.service, weekly)

    created = publish(
        world.client, world.planner, world.office, world.service, "2027-W12", _draw_before("2027-03-22")
    ).json()

    local = [s.astimezone(PARIS) for s in slot_starts(world.runtime, created["id"])]
    assert [(s.isoformat()) for s in local] == [
        "2027-03-26T09:00:00+01:00",
        "2027-03-26T09:30:00+01:00",
        # 02:00 and 02:30 do not exist that night: no slot there.
        "2027-03-28T01:00:00+01:00",
        "2027-03-28T01:30:00+01:00",
        "2027-03-28T03:00:00+02:00",
        "2027-03-28T03:30:00+02:00",
        "2027-03-28T09:00:00+02:00",
        "2027-03-28T09:30:00+02:00",
    ]


def test_the_week_the_clocks_go_back_has_each_wall_clock_slot_once(world: World) -> None:
    # 2027-W43: Monday 25 October to Sunday 31 October, when Paris moves back from +02:00 to +01:00 at 03:00.
    weekly = [
        {"weekday": 1, "opens": "09:00", "closes": "09:30", "desks": 1},
        {"weekday": 7, "opens": "01:30", "closes": "04:00", "desks": 1},
    ]
    put_schedule(world.client, world.planner, world.office, world.service, weekly)

    created = publish(
        world.client, world.planner, world.office, world.service, "2027-W43", _draw_before("2027-10-25")
    ).json()

    starts = slot_starts(world.runtime, created["id"])
    assert [s.astimezone(PARIS).isoformat() for s in starts] == [
        "2027-10-25T09:00:00+02:00",
        "2027-10-31T01:30:00+02:00",
        "2027-10-31T02:00:00+02:00",
        "2027-10-31T02:30:00+02:00",
        "2027-10-31T03:00:00+01:00",
        "2027-10-31T03:30:00+01:00",
    ]
    assert len(set(starts)) == len(starts)


def test_an_office_in_la_reunion_closes_on_its_own_holiday_in_its_own_zone(
    world: World, client: TestClient
) -> None:
    office = create_office(
        client, world.admin, code="st-denis", timezone="Indian/Reunion", holiday_region="RE"
    )["code"]
    planner = create_key(world.runtime, "planner", [office])
    put_schedule(client, planner, office, world.service, office_hours(desks=1))
    reunion = ZoneInfo("Indian/Reunion")

    # 2027-W51: Monday 20 December is the abolition of slavery in La Réunion; Paris works that day.
    created = publish(
        client, planner, office, world.service, "2027-W51", datetime(2027, 12, 17, 10, tzinfo=reunion)
    ).json()
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1))
    paris = publish(
        client, world.planner, world.office, world.service, "2027-W51", _draw_before("2027-12-20")
    ).json()

    local = [s.astimezone(reunion) for s in slot_starts(world.runtime, created["id"])]
    assert {s.date().isoformat() for s in local} == {"2027-12-21", "2027-12-22", "2027-12-23", "2027-12-24"}
    assert local[0].isoformat() == "2027-12-21T09:00:00+04:00"
    assert created["slot_count"] == 4 * 11
    assert paris["slot_count"] == 5 * 11


def test_alsace_moselle_closes_on_good_friday(world: World, client: TestClient) -> None:
    office = create_office(client, world.admin, code="metz", holiday_region="GES")["code"]
    planner = create_key(world.runtime, "planner", [office])
    put_schedule(client, planner, office, world.service, office_hours(desks=1, days=[5]))
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1, days=[5]))

    # 2027-W12: Friday 26 March is Good Friday, a holiday in Alsace-Moselle only.
    metz = publish(client, planner, office, world.service, "2027-W12", _draw_before("2027-03-22"))
    paris = publish(
        client, world.planner, world.office, world.service, "2027-W12", _draw_before("2027-03-22")
    )

    assert_problem(metz, 409, "nothing_to_publish")
    assert paris.status_code == 201
