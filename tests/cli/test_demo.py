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


def test_the_demo_makes_a_named_account_for_every_role_that_signs_in_with_its_password_and_code(
    runtime, clock
):
    from fastapi.testclient import TestClient

    from app.domain.staff import second_factor
    from app.main import create_app
    from tests.web.helpers import csrf_of

    result = demo.load(runtime, applicants=2)
    assert result is not None
    assert {a.role for a in result.accounts} == {"admin", "planner", "desk", "agent", "verifier", "auditor"}
    assert len(result.password) >= 12
    assert set(result.keys) >= {"admin", "planner", "desk", "verifier", "auditor", "agent", "partner"}
    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        for account in result.accounts:
            clock.advance(timedelta(seconds=30))
            token = csrf_of(browser.get("/staff/sign-in?lang=en").text)
            answer = browser.post(
                "/staff/sign-in",
                data={
                    "csrf_token": token,
                    "email": account.email,
                    "password": result.password,
                    "code": second_factor.code_at(account.totp_secret, clock.now()),
                },
            )
            assert answer.status_code == 200, (account.role, answer.text)
            assert f"Signed in as {account.display_name}" in answer.text
            browser.post("/staff/sign-out", data={"csrf_token": csrf_of(answer.text)})
