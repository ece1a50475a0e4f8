"""The demo `make run` loads: offices, services, keys, releases that draw, applicants."""

from __future__ import annotations

from datetime import timedelta

from app import demo
from app.db.engine import session_scope
from app.services import scheduler, staff_keys


def test_the_demo_loads_once_and_its_releases_draw_a_few_minutes_later(runtime, clock):
    result = demo.load(runtime, applicants=20, draw_in_minutes=5)
    assert result is not None
    assert set(result.keys) == {"admin", "planner", "desk"}
    with session_scope(runtime.engine) as session:
        assert staff_keys.authenticate(session, result.keys["planner"]).role == "planner"
    assert demo.load(runtime) is None  # the database is no longer empty

    assert scheduler.tick(runtime).draws == []
    clock.advance(timedelta(minutes=6))
    report = scheduler.tick(runtime)
    assert len(report.draws) == result.releases == 2
