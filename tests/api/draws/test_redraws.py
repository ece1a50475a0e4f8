"""A slot that comes back (declined, expired, cancelled) is drawn again, never handed out first-come."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import text

from app.domain.draws import draw_record
from app.services import scheduler
from tests.factories import World, auth


def _view(client, applicant) -> dict:
    response = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert response.status_code == 200, response.text
    return response.json()


def _act(client, applicant, action: str):
    return client.post(f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"]))


def _scalar(runtime, sql: str, **params):
    with runtime.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _redraws(client) -> list[dict]:
    return [r for r in client.get("/api/v1/releases").json() if r["kind"] == "redraw"]


def _first_draw(world: World, clock, **release) -> tuple[dict, dict]:
    """One applicant offered the single slot of a release; returns the applicant and the release."""
    applicant = world.applicant()
    first = world.release(slots=1, **release)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    assert _view(world.client, applicant)["status"] == "offered"
    return applicant, first


def test_after_a_decline_no_endpoint_lets_anyone_take_the_returned_slot(client, runtime, clock):
    world = World(client, runtime)
    entrants = [world.applicant(), world.applicant()]
    first = world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    entrants.sort(key=lambda a: _view(client, a)["status"] != "offered")
    decliner, loser = entrants
    quick = world.applicant()
    slot_id = _scalar(runtime, "SELECT slot_id FROM offer WHERE request_id = :r", r=decliner["id"])
    assert _act(client, decliner, "decline").status_code == 200

    def nobody_holds_it() -> None:
        holders = _scalar(
            runtime,
            "SELECT count(*) FROM offer WHERE active_slot_id = :s "
            "OR (slot_id = :s AND status IN ('open', 'accepted'))",
            s=slot_id,
        )
        assert holders == 0

    for someone in (quick, loser, decliner):
        for action in ("accept", "decline"):
            response = _act(client, someone, action)
            assert response.status_code == 409
            assert response.json()["code"] == "no_offer"
    again = client.post(f"/api/v1/releases/{first['id']}/draw", headers=auth(world.planner))
    assert again.status_code == 409
    assert again.json()["code"] == "already_drawn"
    nobody_holds_it()

    scheduler.tick(runtime)
    (redraw,) = _redraws(client)
    early = client.post(f"/api/v1/releases/{redraw['id']}/draw", headers=auth(world.planner))
    assert early.status_code == 409
    assert early.json()["code"] == "too_early"
    assert _act(client, quick, "accept").json()["code"] == "no_offer"
    nobody_holds_it()


def test_the_manual_redraw_offers_the_returned_slot_to_one_of_its_entries_and_its_record_verifies(
    client, runtime, clock
):
    world = World(client, runtime)
    decliner, _first = _first_draw(world, clock)
    slot_id = _scalar(runtime, "SELECT slot_id FROM offer")
    others = [world.applicant() for _ in range(4)]
    _act(client, decliner, "decline")
    scheduler.tick(runtime)
    (redraw,) = _redraws(client)
    clock.set(datetime.fromisoformat(redraw["draw_at"]))

    response = client.post(
        f"/api/v1/releases/{redraw['id']}/draw", json={"beacon": "round-7"}, headers=auth(world.planner)
    )

    assert response.status_code == 200, response.text
    assert response.json()["entries"] == 5
    assert response.json()["offered"] == 1
    published = client.get(f"/api/v1/releases/{redraw['id']}").json()
    assert published["status"] == "drawn"
    assert hashlib.sha256(bytes.fromhex(published["seed"])).hexdigest() == redraw["seed_commitment"]
    record = client.get(f"/api/v1/draws/{response.json()['draw_id']}").json()
    assert record["release_id"] == redraw["id"]
    assert record["beacon"] == "round-7"
    assert record["slots"] == [{"slot": str(slot_id), "starts_at": record["slots"][0]["starts_at"]}]
    assert draw_record.verify_record(record) == []
    (winner,) = [e for e in record["entries"] if e["outcome"] == "offered"]
    assert winner["slot"] == str(slot_id)
    everyone = {a["entry"]: a for a in [decliner, *others]}
    assert set(everyone) == {e["entry"] for e in record["entries"]}
    assert _view(client, everyone[winner["entry"]])["status"] == "offered"


def test_the_scheduler_draws_the_redraw_and_its_record_verifies(client, runtime, clock):
    world = World(client, runtime)
    decliner, _first = _first_draw(world, clock)
    for _ in range(3):
        world.applicant()
    _act(client, decliner, "decline")
    scheduler.tick(runtime)
    clock.advance(timedelta(minutes=30))

    scheduler.tick(runtime)

    (redraw,) = _redraws(client)
    assert redraw["status"] == "drawn"
    record = client.get(f"/api/v1/draws/{redraw['draw_id']}").json()
    assert draw_record.verify_record(record) == []
    assert [e["outcome"] for e in record["entries"]].count("offered") == 1
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE status = 'open'") == 1


def test_an_expired_offer_returns_its_slot_to_a_redraw(client, runtime, clock):
    world = World(client, runtime)
    sleeper, _first = _first_draw(world, clock, offer_ttl_hours=6)
    slot_id = _scalar(runtime, "SELECT slot_id FROM offer")
    newcomer = world.applicant()
    clock.advance(timedelta(hours=6))

    scheduler.tick(runtime)

    assert _scalar(runtime, "SELECT status FROM offer") == "expired"
    assert _view(client, sleeper)["status"] == "pending"
    (redraw,) = _redraws(client)
    clock.set(datetime.fromisoformat(redraw["draw_at"]))
    scheduler.tick(runtime)
    draw_id = client.get(f"/api/v1/releases/{redraw['id']}").json()["draw_id"]
    record = client.get(f"/api/v1/draws/{draw_id}").json()
    assert {e["entry"] for e in record["entries"]} == {sleeper["entry"], newcomer["entry"]}
    assert [e["slot"] for e in record["entries"] if e["outcome"] == "offered"] == [str(slot_id)]
    assert draw_record.verify_record(record) == []


def test_returned_slots_of_one_office_and_service_gather_in_one_redraw(client, runtime, clock):
    world = World(client, runtime)
    people = [world.applicant() for _ in range(3)]
    world.release(slots=3)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    for person in people:
        assert _act(client, person, "decline").status_code == 200

    scheduler.tick(runtime)

    (redraw,) = _redraws(client)
    assert redraw["slot_count"] == 3
    assert _scalar(runtime, "SELECT count(*) FROM slot WHERE release_id = :r", r=redraw["id"]) == 3


def test_a_slot_returned_too_close_to_its_start_is_left_unused_rather_than_given_first_come(
    client, runtime, clock
):
    world = World(client, runtime)
    holder, _first = _first_draw(world, clock)
    _act(client, holder, "accept")
    starts_at = datetime.fromisoformat(_view(client, holder)["booking"]["starts_at"])
    world.applicant()
    clock.set(starts_at - timedelta(minutes=50))

    assert _act(client, holder, "cancel").status_code == 200
    scheduler.tick(runtime)

    assert _redraws(client) == []
    assert _scalar(runtime, "SELECT count(*) FROM slot WHERE returned_at IS NOT NULL") == 0
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE active_slot_id IS NOT NULL") == 0
    assert _scalar(runtime, "SELECT count(*) FROM audit_event WHERE action = 'slot.unused'") == 1


def test_a_scheduler_tick_publishes_a_redraw_for_a_returned_slot(client, runtime, clock):
    world = World(client, runtime)
    decliner, _first = _first_draw(world, clock)
    _act(client, decliner, "decline")
    report = scheduler.tick(runtime)
    assert len(report.redraws) == 1
    assert len(_redraws(client)) == 1
