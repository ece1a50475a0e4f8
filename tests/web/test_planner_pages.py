"""The planner's pages: the office week (publish, close, withdraw) and the schedules with recurring releases,
in French and English, every bad input a clear message in the page that changes nothing."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.models import OfficeClosure, OpeningSchedule, Release, ReleaseRule
from app.runtime import Runtime
from app.services import scheduler
from app.services.operations import capacity
from tests.assertions import count_rows
from tests.factories import World, auth, create_key, create_office
from tests.planning import office_hours, put_schedule
from tests.web.helpers import sign_in

WEEK = "2026-W50"


def _text(response: Any) -> str:
    return html.unescape(response.text)


def test_the_week_shows_its_days_counts_holidays_and_closures(client: TestClient, world: World) -> None:
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=2, days=[1]))
    client.post(
        f"/api/v1/offices/{world.office}/schedules/{world.service}/publish",
        json={"week": WEEK, "draw_at": (world.now + timedelta(hours=1)).isoformat()},
        headers=auth(world.planner),
    )
    client.post(
        f"/api/v1/offices/{world.office}/closures",
        json={"starts_on": "2026-12-09", "ends_on": "2026-12-09", "reason": "Formation"},
        headers=auth(world.planner),
    )
    sign_in(client, world.planner)

    page = client.get(f"/staff/calendar?week={WEEK}&lang=en")

    assert page.status_code == 200
    text = _text(page)
    assert f"{WEEK} · Monday 7 December 2026" in text or f"{WEEK} ·" in text
    assert f'data-state="slots" data-day="2026-12-07" data-service="{world.service}">22<' in page.text
    assert f'data-state="free" data-day="2026-12-07" data-service="{world.service}">22<' in page.text
    assert "Formation (closed)" in text
    assert 'action="/staff/calendar/publish"' in page.text
    french = _text(client.get(f"/staff/calendar?week={WEEK}&lang=fr"))
    assert "Calendrier du bureau" in french
    assert "Publier la semaine" in french
    christmas = _text(client.get("/staff/calendar?week=2026-W52&lang=fr"))
    assert "Noël" in christmas


def test_a_desk_reads_the_week_without_the_planners_forms(client: TestClient, world: World) -> None:
    sign_in(client, world.desk)
    page = client.get("/staff/calendar?lang=en")
    assert page.status_code == 200
    assert 'action="/staff/calendar/publish"' not in page.text
    assert 'action="/staff/calendar/closures"' not in page.text


def test_another_offices_staff_see_a_refusal_not_the_week(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    sign_in(client, create_key(runtime, "planner", [other]))

    page = client.get(f"/staff/calendar?office={world.office}&lang=en")

    assert page.status_code == 403
    assert "Your staff key is not allowed to do this." in _text(page)


def test_a_week_that_is_not_iso_is_a_clear_message(client: TestClient, world: World) -> None:
    sign_in(client, world.planner)
    page = client.get("/staff/calendar?week=2026-50&lang=en")
    assert page.status_code == 422
    assert "Enter an ISO week such as 2027-W03." in _text(page)


def _publish(client: TestClient, token: str, world: World, **change: str) -> Any:
    data = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "week": WEEK,
        "draw_at": "2026-12-03T10:00",
    }
    data.update(change)
    return client.post("/staff/calendar/publish?lang=en", data=data)


def test_the_planner_publishes_the_week_from_the_page(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1, days=[1, 2]))
    token = sign_in(client, world.planner)

    published = _publish(client, token, world)
    again = _publish(client, token, world)

    assert published.status_code == 201, published.text
    assert f"Week {WEEK} is published" in _text(published)
    assert again.status_code == 409
    assert "This week is already published" in _text(again)
    assert count_rows(runtime, Release) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param({"week": "2026-50"}, "Enter an ISO week such as 2027-W03.", id="week-not-iso"),
        pytest.param({"week": "2026-W54"}, "Enter an ISO week such as 2027-W03.", id="no-such-week"),
        pytest.param(
            {"draw_at": "2026-12-08T10:00"},
            "Enter the draw date and time, before the week starts and not in the past.",
            id="draw-after-the-week-starts",
        ),
        pytest.param({"service": ""}, "Choose a service.", id="no-service"),
    ],
)
def test_a_bad_publication_is_a_clear_message_that_publishes_nothing(
    client: TestClient, world: World, runtime: Runtime, change: dict[str, str], message: str
) -> None:
    put_schedule(client, world.planner, world.office, world.service, office_hours(days=[1]))
    token = sign_in(client, world.planner)

    refused = _publish(client, token, world, **change)

    assert refused.status_code == 422
    assert message in _text(refused)
    assert 'value="' + change.get("week", WEEK) + '"' in refused.text
    assert count_rows(runtime, Release) == 0


def _close(client: TestClient, token: str, world: World, **change: str) -> Any:
    data = {
        "csrf_token": token,
        "office": world.office,
        "week": WEEK,
        "starts_on": "2026-12-07",
        "ends_on": "2026-12-07",
        "reason": "Grève",
    }
    data.update(change)
    return client.post("/staff/calendar/closures?lang=en", data=data)


def test_closing_booked_days_asks_to_cancel_the_bookings_then_does(
    client: TestClient, world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1, days=[1]))
    client.post(
        f"/api/v1/offices/{world.office}/schedules/{world.service}/publish",
        json={"week": WEEK, "draw_at": (world.now + timedelta(hours=1)).isoformat()},
        headers=auth(world.planner),
    )
    applicant = world.applicant()
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    client.post(f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"]))
    token = sign_in(client, world.planner)

    asked = _close(client, token, world)
    done = _close(client, token, world, cancel_bookings="on")

    assert asked.status_code == 409
    assert "1 bookings fall on these days." in _text(asked)
    assert 'value="Grève"' in asked.text
    assert done.status_code == 201, done.text
    assert "1 bookings cancelled" in _text(done)
    status = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])).json()
    assert status["status"] == "pending"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"starts_on": "2026-12-09", "ends_on": "2026-12-08"},
            "Enter the last day to close, on or after the first day, within a year.",
            id="ends-before-it-starts",
        ),
        pytest.param(
            {"starts_on": "2026-11-20"},
            "Enter the first day to close, today or later, as a date.",
            id="in-the-past",
        ),
        pytest.param(
            {"desks": "0"},
            "Leave empty to close, or enter the desks left open, from 1 to 100.",
            id="zero-desks",
        ),
        pytest.param(
            {"reason": ""}, "Enter the reason, for example a strike, works or training.", id="no-reason"
        ),
    ],
)
def test_a_bad_closure_is_a_clear_message_that_closes_nothing(
    client: TestClient, world: World, runtime: Runtime, change: dict[str, str], message: str
) -> None:
    token = sign_in(client, world.planner)
    refused = _close(client, token, world, **change)
    assert refused.status_code == 422
    assert message in _text(refused)
    assert count_rows(runtime, OfficeClosure) == 0


def test_the_planner_withdraws_a_release_and_removes_a_closure_from_the_week(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    put_schedule(client, world.planner, world.office, world.service, office_hours(desks=1, days=[1]))
    release = client.post(
        f"/api/v1/offices/{world.office}/schedules/{world.service}/publish",
        json={"week": WEEK, "draw_at": (world.now + timedelta(hours=1)).isoformat()},
        headers=auth(world.planner),
    ).json()
    token = sign_in(client, world.planner)
    no_reason = client.post(
        f"/staff/calendar/releases/{release['id']}/withdraw?lang=en",
        data={"csrf_token": token, "office": world.office, "week": WEEK, "reason": ""},
    )
    withdrawn = client.post(
        f"/staff/calendar/releases/{release['id']}/withdraw?lang=en",
        data={"csrf_token": token, "office": world.office, "week": WEEK, "reason": "wrong hours"},
    )
    closed = _close(client, token, world, starts_on="2026-12-14", ends_on="2026-12-14")
    closure_id = client.get(f"/api/v1/offices/{world.office}/closures", headers=auth(world.planner)).json()[
        0
    ]["id"]
    removed = client.post(
        f"/staff/calendar/closures/{closure_id}/delete?lang=en",
        data={"csrf_token": token, "office": world.office},
    )

    assert no_reason.status_code == 422
    assert "Enter why the release is withdrawn." in _text(no_reason)
    assert withdrawn.status_code == 200
    assert f"Release {release['id']} is withdrawn" in _text(withdrawn)
    assert closed.status_code == 201
    assert removed.status_code == 200
    assert count_rows(runtime, OfficeClosure) == 0


# --- schedules and recurring releases ------------------------------------------------------------------


def _line(
    n: int, weekday: str = "2", opens: str = "09:00", closes: str = "12:00", desks: str = "2"
) -> dict[str, str]:
    return {f"weekday_{n}": weekday, f"opens_{n}": opens, f"closes_{n}": closes, f"desks_{n}": desks}


def _save(client: TestClient, token: str, world: World, *lines: dict[str, str]) -> Any:
    data: dict[str, str] = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "lines": str(len(lines) + 1),
    }
    for line in lines:
        data.update(line)
    return client.post("/staff/schedules?lang=en", data=data)


def test_the_planner_sets_a_schedule_on_the_page(client: TestClient, world: World) -> None:
    token = sign_in(client, world.planner)
    assert 'name="opens_1"' in client.get("/staff/schedules?lang=en").text

    saved = _save(
        client, token, world, _line(1), _line(2, weekday="4", opens="13:30", closes="16:00", desks="1")
    )

    assert saved.status_code == 200, saved.text
    assert "17 slots in an ordinary week" in _text(saved)  # 6 x 2 on Tuesdays, 5 x 1 on Thursdays
    shown = client.get(
        f"/api/v1/offices/{world.office}/schedules/{world.service}", headers=auth(world.desk)
    ).json()
    assert shown["weekly"] == [
        {"weekday": 2, "opens": "09:00", "closes": "12:00", "desks": 2},
        {"weekday": 4, "opens": "13:30", "closes": "16:00", "desks": 1},
    ]


@pytest.mark.parametrize(
    ("lines", "field", "message"),
    [
        pytest.param(
            [_line(1, opens="12:00", closes="09:00")],
            "closes_1",
            "Enter a closing time after the opening time",
            id="closing-before-opening",
        ),
        pytest.param(
            [_line(1), _line(2, opens="11:00", closes="13:00")],
            "overlap_2",
            "This line overlaps another line of the same weekday.",
            id="overlapping",
        ),
        pytest.param([_line(1, weekday="0")], "weekday_1", "Choose a weekday.", id="weekday-0"),
        pytest.param([_line(1, weekday="8")], "weekday_1", "Choose a weekday.", id="weekday-8"),
        pytest.param(
            [_line(1, desks="0")], "desks_1", "Enter a number of desks from 1 to 100.", id="zero-desks"
        ),
        pytest.param(
            [_line(1, opens="25:00")], "opens_1", "Enter an opening time such as 09:00", id="opens-at-25"
        ),
    ],
)
def test_a_bad_schedule_is_a_clear_message_on_its_line_and_changes_nothing(
    client: TestClient, world: World, runtime: Runtime, lines: list[dict[str, str]], field: str, message: str
) -> None:
    token = sign_in(client, world.planner)

    refused = _save(client, token, world, *lines)

    assert refused.status_code == 422
    assert f'id="schedule-{world.service}-{field}' in refused.text
    assert message in _text(refused)
    assert count_rows(runtime, OpeningSchedule) == 0


def _rule(client: TestClient, token: str, world: World, **change: str) -> Any:
    data = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "publish_weekday": "4",
        "publish_time": "10:00",
        "weeks_ahead": "2",
        "draw_after_hours": "72",
    }
    data.update(change)
    return client.post("/staff/schedules/rules?lang=en", data=data)


def test_the_planner_sets_and_stops_a_recurring_release_on_the_page(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    token = sign_in(client, world.planner)

    created = _rule(client, token, world)
    rule_id = client.get("/api/v1/release-rules", headers=auth(world.planner)).json()[0]["id"]
    stopped = client.post(
        f"/staff/schedules/rules/{rule_id}/delete?lang=en", data={"csrf_token": token, "office": world.office}
    )

    assert created.status_code == 201, created.text
    assert "The recurring release is set: first publication on Thursday 3 December 2026" in _text(created)
    assert stopped.status_code == 200
    assert "The recurring release is stopped" in _text(stopped)
    assert client.get("/api/v1/release-rules", headers=auth(world.planner)).json() == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        pytest.param(
            {"publish_time": "25:00"},
            "publish_time",
            "Enter a time such as 10:00 (00:00 to 23:59).",
            id="at-25-00",
        ),
        pytest.param(
            {"weeks_ahead": "0"},
            "weeks_ahead",
            "Enter how many weeks ahead to publish, from 1 to 12.",
            id="weeks-ahead-0",
        ),
        pytest.param(
            {"weeks_ahead": "13"},
            "weeks_ahead",
            "Enter how many weeks ahead to publish, from 1 to 12.",
            id="weeks-ahead-13",
        ),
        pytest.param(
            {"weeks_ahead": "1", "draw_after_hours": "100"},
            "draw_after_hours",
            "the draw must come before the published week starts.",
            id="draw-after-the-week-starts",
        ),
    ],
)
def test_a_bad_rule_is_a_clear_message_that_sets_nothing(
    client: TestClient, world: World, runtime: Runtime, change: dict[str, str], field: str, message: str
) -> None:
    token = sign_in(client, world.planner)
    refused = _rule(client, token, world, **change)
    assert refused.status_code == 422
    assert f'id="rule-{field}-error"' in refused.text
    assert message in _text(refused)
    assert count_rows(runtime, ReleaseRule) == 0


def test_another_offices_planner_cannot_change_this_offices_schedule_from_the_page(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    token = sign_in(client, create_key(runtime, "planner", [other]))

    refused = _save(client, token, world, _line(1))
    rule = _rule(client, token, world)

    assert refused.status_code == 403
    assert rule.status_code == 403
    assert count_rows(runtime, OpeningSchedule) == 0
    assert count_rows(runtime, ReleaseRule) == 0


def test_the_capacity_advice_says_how_it_is_computed_in_the_pages_language(
    client: TestClient, world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    world.applicant()
    world.release()
    assert capacity.refresh_next(runtime.engine, now=clock.now()) is not None  # under two weeks of history
    sign_in(client, world.planner)

    french = _text(client.get("/staff/calendar?lang=fr"))
    english = _text(client.get("/staff/calendar?lang=en"))

    assert "Seulement 0 semaines d\u2019historique ici" in french and "at least 2 are needed" not in french
    assert "Only 0 weeks of history here" in english
