"""The demo `make run` loads: offices, services, keys, releases that draw, applicants."""

from __future__ import annotations

from datetime import timedelta

from app import demo
from app.db.engine import session_scope
from app.services import scheduler
from app.services.staff import keys as staff_keys


def test_the_demo_loads_once_and_its_releases_draw_a_few_minutes_later(runtime, clock):
    result = demo.load(runtime, applicants=20, draw_in_minutes=5)
    assert result is not None
    assert set(result.keys) == {"admin", "planner", "desk", "verifier", "auditor", "agent", "partner"}
    with session_scope(runtime.engine) as session:
        assert staff_keys.authenticate(session, result.keys["planner"]).role == "planner"
    assert demo.load(runtime) is None  # the database is no longer empty

    assert scheduler.tick(runtime).draws == []
    clock.advance(timedelta(minutes=6))
    report = scheduler.tick(runtime)
    assert len(report.draws) == result.releases == 2


def test_the_demo_holds_counter_and_partner_requests_filed_by_its_agent_and_partner_keys(runtime):
    from sqlalchemy import text

    result = demo.load(runtime, applicants=5)
    assert result is not None
    assert result.counter_requests > 0
    assert result.partner_requests > 0
    with runtime.engine.connect() as conn:
        channels = dict(
            conn.execute(text("SELECT channel, count(*) FROM appointment_request GROUP BY channel")).all()
        )
    assert channels == {"online": 5, "counter": result.counter_requests, "partner": result.partner_requests}


def test_the_demo_verifies_its_applicants_and_its_service_asks_for_a_phone_code(runtime):
    from sqlalchemy import text

    assert demo.load(runtime, applicants=6) is not None
    with runtime.engine.connect() as conn:
        methods = dict(
            conn.execute(
                text(
                    "SELECT verification_method, count(*) FROM appointment_request "
                    "WHERE verification_status = 'verified' GROUP BY verification_method"
                )
            ).all()
        )
        unverified = conn.execute(
            text("SELECT count(*) FROM appointment_request WHERE verification_status <> 'verified'")
        ).scalar_one()
        policy = conn.execute(
            text("SELECT weight_policy FROM service WHERE code = 'first-permit'")
        ).scalar_one()
    assert unverified == 0
    assert methods["phone"] == 6 and methods["counter"] > 0 and methods["partner"] > 0
    assert "phone" in str(policy)
