"""What an applicant can expect: next draws and estimated chances, computed by the scheduler per release."""

from __future__ import annotations

from datetime import timedelta

from app.db.engine import session_scope
from app.db.models import ReleaseForecast
from app.services import scheduler
from app.services.evidence import chances
from tests.factories import World, auth, days_from
from tests.web.helpers import sign_in, token_for


def _view(world: World, made: dict) -> dict:
    response = world.client.get(f"/api/v1/requests/{made['id']}", headers=auth(made["access_code"]))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_pending_request_shows_its_next_draws_and_an_estimate_once_the_scheduler_made_one(
    client, runtime, clock
):
    world = World(client, runtime)
    urgent = world.applicant(permit_expires_on=days_from(world.now.date(), 10))
    others = [world.applicant() for _ in range(9)]
    release = world.release(slots=3, draw_in=timedelta(hours=5))

    before = _view(world, urgent)["next_draws"]
    assert before == [
        {
            "release_id": release["id"],
            "office": world.office,
            "draw_at": before[0]["draw_at"],
            "slots": 3,
            "chance": None,
            "estimated_at": None,
        }
    ]
    scheduler.tick(runtime)  # not due: no draw, but the forecast
    estimate = _view(world, urgent)["next_draws"][0]
    plain = _view(world, others[0])["next_draws"][0]
    assert estimate["estimated_at"] is not None
    assert estimate["chance"] > plain["chance"] > 0  # weight 4 against 1
    with session_scope(runtime.engine) as session:
        forecast = session.get(ReleaseForecast, release["id"])
        assert forecast is not None and forecast.entries == 10 and forecast.slots == 3
        # Every simulated race offers exactly 3 slots: the shares, weighted by how many hold each weight,
        # add up to the slots.
        counts = {"4.0000": 1, "1.0000": 9}
        assert abs(sum(forecast.chances[w] * n for w, n in counts.items()) - 3) < 0.01


def test_the_estimate_is_not_recomputed_per_view_but_refreshed_by_the_scheduler(client, runtime, clock):
    world = World(client, runtime)
    made = [world.applicant() for _ in range(4)]
    world.release(slots=2, draw_in=timedelta(hours=5))
    scheduler.tick(runtime)
    first = _view(world, made[0])["next_draws"][0]["estimated_at"]
    clock.advance(timedelta(minutes=10))
    scheduler.tick(runtime)
    assert _view(world, made[0])["next_draws"][0]["estimated_at"] == first
    clock.advance(chances.REFRESH)
    scheduler.tick(runtime)
    assert _view(world, made[0])["next_draws"][0]["estimated_at"] != first


def test_the_status_page_shows_the_next_draws_and_the_staff_home_shows_demand_against_capacity(
    client, runtime, clock
):
    world = World(client, runtime)
    made = [world.applicant() for _ in range(6)]
    world.release(slots=2, draw_in=timedelta(hours=5))
    scheduler.tick(runtime)
    token = token_for(client, "/status?lang=en")
    page = client.post(
        "/status?lang=en",
        data={"request_id": made[0]["id"], "access_code": made[0]["access_code"], "csrf_token": token},
    )
    assert page.status_code == 200, page.text[:500]
    assert "Next draws" in page.text and "in 100" in page.text

    sign_in(client, world.planner)
    home = client.get("/staff?lang=en")
    assert home.status_code == 200
    demand = home.text[home.text.index('id="demand"') :]
    row = demand[: demand.index("</tr>", demand.index("<tbody>"))]
    assert "<td>Test office</td><td>Test service</td><td>6</td><td>2</td>" in row  # names, not codes


def test_entries_with_an_availability_window_are_estimated_with_the_draws_own_assignment(
    client, runtime, clock
):
    world = World(client, runtime)
    day = (world.now + timedelta(days=2)).date().isoformat()
    narrow = world.applicant(availability={"earliest": day, "latest": day})
    for _ in range(5):
        world.applicant()
    release = world.release(slots=2, draw_in=timedelta(hours=5))
    scheduler.tick(runtime)
    assert _view(world, narrow)["next_draws"][0]["chance"] is not None
    with session_scope(runtime.engine) as session:
        forecast = session.get(ReleaseForecast, release["id"])
        assert forecast is not None
        assert abs(forecast.chances["1.0000"] * 6 - 2) < 0.01  # 2 slots among 6 equal weights
