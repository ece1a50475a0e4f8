"""Recurring release rules run by the scheduler, and withdrawing a release before its draw."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import AuditEvent, Release, ReleaseRule, Slot
from app.runtime import Runtime
from app.services import scheduler
from tests.assertions import assert_problem, count_rows
from tests.factories import World, auth, create_key, create_office
from tests.planning import office_hours, publish, put_schedule, release_row

PARIS = ZoneInfo("Europe/Paris")
#: Every Thursday at 10:00, the week after next, drawn on the Friday of the week after (a week before).
RULE = {"publish_weekday": 4, "publish_time": "10:00", "weeks_ahead": 2, "draw_after_hours": 24 * 8}


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _rule(world: World, key: str | None = None, **change: Any) -> Any:
    body = {"office": world.office, "service": world.service, **RULE, **change}
    return world.client.post("/api/v1/release-rules", json=body, headers=auth(key or world.planner))


def _audit(runtime: Runtime, prefix: str) -> list[dict[str, Any]]:
    with session_scope(runtime.engine) as session:
        rows = session.exec(
            select(AuditEvent).where(col(AuditEvent.action).startswith(prefix)).order_by(col(AuditEvent.id))
        ).all()
        return [{"action": r.action, **r.details} for r in rows]


def test_a_planner_creates_a_rule_and_sees_its_next_publication(world: World) -> None:
    response = _rule(world)

    assert response.status_code == 201, response.text
    rule = response.json()
    # The clock reads Tuesday 1 December 2026, 09:00 in Paris: the next Thursday 10:00 is the 3rd.
    assert datetime.fromisoformat(rule["next_publication"]) == datetime(2026, 12, 3, 10, 0, tzinfo=PARIS)
    assert rule | {"id": 0, "created_at": "", "next_publication": ""} == {
        "id": 0,
        "created_at": "",
        "next_publication": "",
        "office": world.office,
        "service": world.service,
        **RULE,
        "offer_ttl_hours": None,
        "last_run_at": None,
        "last_outcome": None,
    }
    for key in (world.planner, world.admin, create_key(world.runtime, "auditor")):
        listed = world.client.get(f"/api/v1/release-rules?office={world.office}", headers=auth(key))
        assert [r["id"] for r in listed.json()] == [rule["id"]]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        pytest.param({"publish_time": "25:00"}, "publish_time", id="at-25-00"),
        pytest.param({"publish_time": "10h"}, "publish_time", id="not-hh-mm"),
        pytest.param({"weeks_ahead": 0}, "weeks_ahead", id="weeks-ahead-0"),
        pytest.param({"weeks_ahead": 13}, "weeks_ahead", id="weeks-ahead-13"),
        pytest.param({"publish_weekday": 0}, "publish_weekday", id="weekday-0"),
        pytest.param({"publish_weekday": 8}, "publish_weekday", id="weekday-8"),
        pytest.param({"draw_after_hours": 0}, "draw_after_hours", id="draw-at-publication"),
        # Thursday 10:00, one week ahead: the week starts 86 hours later.
        pytest.param(
            {"weeks_ahead": 1, "draw_after_hours": 86}, "draw_after_hours", id="draw-after-week-starts"
        ),
        pytest.param({"office": "nowhere"}, "office", id="unknown-office"),
    ],
)
def test_a_bad_rule_is_a_422_and_creates_nothing(world: World, change: dict[str, Any], path: str) -> None:
    response = _rule(world, **change)

    problem = assert_problem(response, 422, "validation_error")
    assert path in {e["path"] for e in problem["errors"]}
    assert count_rows(world.runtime, ReleaseRule) == 0


def test_only_a_planner_of_the_office_writes_rules_and_a_desk_does_not_read_them(world: World) -> None:
    other = create_office(world.client, world.admin)["code"]
    other_planner = create_key(world.runtime, "planner", [other])

    for key in (other_planner, world.admin, world.desk):
        assert_problem(_rule(world, key), 403, "forbidden")
    assert_problem(world.client.get("/api/v1/release-rules", headers=auth(world.desk)), 403, "forbidden")
    rule = _rule(world).json()
    assert world.client.get("/api/v1/release-rules", headers=auth(other_planner)).json() == []
    assert_problem(
        world.client.delete(f"/api/v1/release-rules/{rule['id']}", headers=auth(other_planner)),
        403,
        "forbidden",
    )


def test_the_scheduler_publishes_the_week_once_at_publication_time_and_audits_it(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours(desks=2))
    rule = _rule(world).json()

    assert not scheduler.tick(runtime).rule_runs  # not yet Thursday
    clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=PARIS))
    first = scheduler.tick(runtime)
    second = scheduler.tick(runtime)

    assert [(r.week, r.outcome) for r in first.rule_runs] == [("2026-W51", "published")]
    assert second.rule_runs == []
    release = release_row(runtime, first.rule_runs[0].release_id or 0)
    assert release.week == "2026-W51"
    assert release.rule_id == rule["id"]
    assert release.slot_count == 2 * 11 * 5
    assert release.draw_at.astimezone(PARIS) == datetime(2026, 12, 11, 10, 0, tzinfo=PARIS)
    shown = world.client.get(
        f"/api/v1/release-rules?office={world.office}", headers=auth(world.planner)
    ).json()[0]
    assert shown["last_outcome"] == "published"
    assert datetime.fromisoformat(shown["next_publication"]) == datetime(2026, 12, 10, 10, 0, tzinfo=PARIS)
    assert [(a["action"], a["week"], a["outcome"]) for a in _audit(runtime, "release_rule.p")] == [
        ("release_rule.published", "2026-W51", "published")
    ]


def test_a_week_with_nothing_to_publish_or_already_published_is_skipped_and_said_so(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    _rule(world)
    clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=PARIS))
    no_schedule = scheduler.tick(runtime)
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    by_hand = publish(
        world.client, world.planner, world.office, world.service, "2026-W52", clock.now() + timedelta(hours=1)
    )
    assert by_hand.status_code == 201
    clock.set(datetime(2026, 12, 10, 10, 0, tzinfo=PARIS))
    already = scheduler.tick(runtime)

    assert [(r.week, r.outcome) for r in no_schedule.rule_runs] == [("2026-W51", "nothing_to_publish")]
    assert [(r.week, r.outcome) for r in already.rule_runs] == [("2026-W52", "week_published")]
    assert count_rows(runtime, Release) == 1
    assert [(a["action"], a["outcome"]) for a in _audit(runtime, "release_rule.skipped")] == [
        ("release_rule.skipped", "nothing_to_publish"),
        ("release_rule.skipped", "week_published"),
    ]


def test_a_deleted_rule_publishes_no_more(world: World, runtime: Runtime, clock: FrozenClock) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    rule = _rule(world).json()

    deleted = world.client.delete(f"/api/v1/release-rules/{rule['id']}", headers=auth(world.planner))
    clock.set(datetime(2026, 12, 3, 10, 0, tzinfo=PARIS))
    report = scheduler.tick(runtime)

    assert deleted.status_code == 204
    assert report.rule_runs == []
    assert count_rows(runtime, Release) == 0
    assert world.client.get("/api/v1/release-rules", headers=auth(world.planner)).json() == []
    assert_problem(
        world.client.delete(f"/api/v1/release-rules/{rule['id']}", headers=auth(world.planner)),
        404,
        "not_found",
    )


def test_a_scheduler_stopped_past_the_draw_skips_the_week_as_too_late(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    put_schedule(world.client, world.planner, world.office, world.service, office_hours())
    _rule(world, weeks_ahead=1, draw_after_hours=24)
    clock.set(datetime(2026, 12, 6, 12, 0, tzinfo=PARIS))  # Sunday: the draw could no longer precede Monday

    report = scheduler.tick(runtime)

    assert [(r.week, r.outcome) for r in report.rule_runs] == [("2026-W50", "too_late")]
    assert count_rows(runtime, Release) == 0


# --- withdrawing a release -----------------------------------------------------------------------------


def test_a_planner_withdraws_a_release_before_its_draw_and_it_is_never_drawn(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    applicant = world.applicant()
    release = world.release()

    response = world.client.post(
        f"/api/v1/releases/{release['id']}/withdraw",
        json={"reason": "published by mistake"},
        headers=auth(world.planner),
    )
    clock.advance(timedelta(hours=2))
    report = scheduler.tick(runtime)
    by_hand = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))

    assert response.status_code == 200, response.text
    shown = response.json()
    assert shown["status"] == "withdrawn"
    assert shown["withdrawn_reason"] == "published by mistake"
    assert shown["seed"] is None
    assert report.draws == []
    assert_problem(by_hand, 409, "release_withdrawn")
    status = world.client.get(
        f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])
    ).json()
    assert status["status"] == "pending"
    assert [r["id"] for r in world.client.get("/api/v1/releases?status=withdrawn").json()] == [release["id"]]


def test_a_drawn_release_cannot_be_withdrawn_nor_one_twice(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    drawn, other = world.release(), world.release(draw_in=timedelta(days=1))
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    world.client.post(
        f"/api/v1/releases/{other['id']}/withdraw", json={"reason": "x"}, headers=auth(world.planner)
    )

    after_draw = world.client.post(
        f"/api/v1/releases/{drawn['id']}/withdraw", json={"reason": "x"}, headers=auth(world.planner)
    )
    twice = world.client.post(
        f"/api/v1/releases/{other['id']}/withdraw", json={"reason": "x"}, headers=auth(world.planner)
    )

    assert_problem(after_draw, 409, "already_drawn")
    assert_problem(twice, 409, "release_withdrawn")
    assert release_row(runtime, drawn["id"]).status == "drawn"


def test_only_a_planner_of_the_office_withdraws_and_a_reason_is_needed(world: World) -> None:
    release = world.release()
    other = create_office(world.client, world.admin)["code"]

    for key in (create_key(world.runtime, "planner", [other]), world.admin, world.desk):
        refused = world.client.post(
            f"/api/v1/releases/{release['id']}/withdraw", json={"reason": "x"}, headers=auth(key)
        )
        assert_problem(refused, 403, "forbidden")
    no_reason = world.client.post(
        f"/api/v1/releases/{release['id']}/withdraw", json={}, headers=auth(world.planner)
    )
    assert_problem(no_reason, 422, "validation_error")
    assert_problem(
        world.client.post(
            "/api/v1/releases/999999/withdraw", json={"reason": "x"}, headers=auth(world.planner)
        ),
        404,
        "not_found",
    )
    assert release_row(world.runtime, release["id"]).status == "scheduled"


def test_slots_that_came_back_into_a_withdrawn_release_go_back_to_the_redraws(
    world: World, runtime: Runtime, clock: FrozenClock
) -> None:
    world.release(slots=1)
    applicant = world.applicant()
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    later = world.release(draw_in=timedelta(minutes=30))  # due within the re-draw window
    world.client.post(f"/api/v1/requests/{applicant['id']}/decline", headers=auth(applicant["access_code"]))
    with session_scope(runtime.engine) as session:
        moved = session.exec(select(Slot).where(Slot.release_id == later["id"])).all()
        assert len(moved) == 4  # its three, and the declined one

    world.client.post(
        f"/api/v1/releases/{later['id']}/withdraw", json={"reason": "x"}, headers=auth(world.planner)
    )

    with session_scope(runtime.engine) as session:
        returned = session.exec(select(Slot).where(col(Slot.returned_at).is_not(None))).all()
    assert len(returned) == 1
