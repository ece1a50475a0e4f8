"""Offers through the API: accept, decline, cancel and withdraw, each with its contract answer.

The scheduler is driven by ``scheduler.tick`` after moving the frozen clock.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text

from app.domain.draws import draw_record
from app.services import scheduler
from tests.factories import World, auth, named_for, request_body


def _view(client, applicant) -> dict:
    response = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert response.status_code == 200, response.text
    return response.json()


def _act(client, applicant, action: str):
    return client.post(f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"]))


def _identity(document: str, birth_date: str = "1990-04-12") -> dict:
    return {
        "document_type": "passport",
        "document_number": document,
        "family_name": named_for("Nguyen", document),
        "given_names": "Linh",
        "birth_date": birth_date,
    }


def _drawn(world: World, clock, applicants: int = 1, slots: int = 1, **release) -> list[dict]:
    """``applicants`` pending requests, a release of ``slots`` slots, drawn by the scheduler."""
    people = [world.applicant() for _ in range(applicants)]
    world.release(slots=slots, **release)
    clock.advance(timedelta(hours=1))
    assert len(scheduler.tick(world.runtime).draws) == 1
    return people


def _scalar(runtime, sql: str, **params):
    with runtime.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# Accept


def test_accepting_before_the_deadline_books_the_slot_and_returns_the_token(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    offer = _view(client, applicant)["offer"]
    clock.set(datetime.fromisoformat(offer["expires_at"]) - timedelta(minutes=1))

    response = _act(client, applicant, "accept")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "booked"
    assert body["offer"] is None
    booking = body["booking"]
    assert {"id", "office", "starts_at", "token"} <= set(booking)
    assert booking["office"] == world.office
    assert booking["starts_at"] == offer["starts_at"]
    assert re.fullmatch(r"[\w-]+\.[\w-]+\.[\w-]+", booking["token"])
    assert _view(client, applicant)["booking"] == booking


def test_accepting_twice_answers_no_offer_the_second_time(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    assert _act(client, applicant, "accept").status_code == 200
    again = _act(client, applicant, "accept")
    assert again.status_code == 409
    assert again.json()["code"] == "no_offer"
    assert _scalar(runtime, "SELECT count(*) FROM booking") == 1


def test_accepting_after_the_deadline_is_offer_expired_even_before_the_scheduler_runs(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock, offer_ttl_hours=24)
    clock.set(datetime.fromisoformat(_view(client, applicant)["offer"]["expires_at"]))

    response = _act(client, applicant, "accept")

    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "offer_expired"
    assert _scalar(runtime, "SELECT count(*) FROM booking") == 0


def test_accepting_after_the_scheduler_expired_the_offer_is_offer_expired(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock, offer_ttl_hours=24)
    clock.advance(timedelta(hours=25))
    scheduler.tick(runtime)
    assert _view(client, applicant)["status"] == "pending"

    response = _act(client, applicant, "accept")

    assert response.status_code == 409
    assert response.json()["code"] == "offer_expired"
    declined = _act(client, applicant, "decline")
    assert declined.status_code == 409
    assert declined.json()["code"] == "no_offer"


def test_a_scheduler_tick_expires_an_overdue_offer(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock, offer_ttl_hours=24)
    clock.advance(timedelta(hours=25))
    report = scheduler.tick(runtime)
    assert report.expired == [applicant["id"]]
    assert _view(client, applicant)["status"] == "pending"


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_answering_without_an_offer_is_no_offer(client, runtime, clock, action):
    world = World(client, runtime)
    applicant = world.applicant()
    response = _act(client, applicant, action)
    assert response.status_code == 409
    assert response.json()["code"] == "no_offer"
    assert _view(client, applicant)["status"] == "pending"


# Decline


def test_declining_keeps_the_request_pending_and_moves_the_slot_into_the_next_release_due_soon(
    client, runtime, clock
):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    slot_id = _scalar(runtime, "SELECT slot_id FROM offer")
    soon = world.release(slots=1, draw_in=timedelta(minutes=30))
    later_comer = world.applicant()

    response = _act(client, applicant, "decline")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pending"
    assert response.json()["offer"] is None
    assert client.get(f"/api/v1/releases/{soon['id']}").json()["slot_count"] == 2
    assert _scalar(runtime, "SELECT release_id FROM slot WHERE id = :s", s=slot_id) == soon["id"]
    assert _scalar(runtime, "SELECT count(*) FROM release WHERE kind = 'redraw'") == 0

    clock.advance(timedelta(minutes=30))
    scheduler.tick(runtime)
    draw_id = client.get(f"/api/v1/releases/{soon['id']}").json()["draw_id"]
    record = client.get(f"/api/v1/draws/{draw_id}").json()
    assert str(slot_id) in {s["slot"] for s in record["slots"]}
    assert {e["entry"] for e in record["entries"]} == {applicant["entry"], later_comer["entry"]}
    assert draw_record.verify_record(record) == []


def test_declining_with_no_release_due_soon_makes_the_scheduler_publish_a_redraw_release(
    client, runtime, clock
):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    world.release(slots=1, draw_in=timedelta(hours=3))  # due, but not within redraw_within (1 h)
    assert _act(client, applicant, "decline").status_code == 200
    assert _scalar(runtime, "SELECT count(*) FROM slot WHERE returned_at IS NOT NULL") == 1

    scheduler.tick(runtime)

    redraws = [r for r in client.get("/api/v1/releases").json() if r["kind"] == "redraw"]
    assert len(redraws) == 1
    redraw = redraws[0]
    assert redraw["status"] == "scheduled"
    assert redraw["slot_count"] == 1
    assert re.fullmatch(r"[0-9a-f]{64}", redraw["seed_commitment"])
    assert redraw["seed"] is None
    assert datetime.fromisoformat(redraw["draw_at"]) > clock.now()
    assert datetime.fromisoformat(redraw["draw_at"]) - clock.now() <= runtime.settings.redraw_within
    assert _scalar(runtime, "SELECT count(*) FROM slot WHERE returned_at IS NOT NULL") == 0


def test_declining_gives_no_waiting_bonus_for_that_draw(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    view = _act(client, applicant, "decline").json()
    waiting = next(f for f in view["weight"]["factors"] if f["name"] == "waiting")
    assert Decimal(waiting["value"]) == 1
    assert Decimal(view["weight"]["total"]) == 1
    assert view["draws"][0]["outcome"] == "offered"

    world.applicant()  # a competitor, so the next draw has an entry to compare with
    scheduler.tick(runtime)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    redraw = next(r for r in client.get("/api/v1/releases").json() if r["kind"] == "redraw")
    record = client.get(f"/api/v1/draws/{redraw['draw_id']}").json()
    mine = next(e for e in record["entries"] if e["entry"] == applicant["entry"])
    assert Decimal(mine["weight"]) == 1


def test_a_declined_request_can_be_offered_again_by_a_later_draw(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    _act(client, applicant, "decline")
    scheduler.tick(runtime)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    view = _view(client, applicant)
    assert view["status"] == "offered"
    assert [d["outcome"] for d in view["draws"]] == ["offered", "offered"]
    assert _act(client, applicant, "accept").status_code == 200


# Cancel and withdraw


def test_withdrawing_a_pending_request_frees_the_identity_for_a_new_request(client, runtime):
    world = World(client, runtime)
    body = request_body(world.service, [world.office], identity=_identity("WD 100-200"))
    first = client.post("/api/v1/requests", json=body).json()
    duplicate = client.post("/api/v1/requests", json=body)
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_request"

    response = _act(client, first, "cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"
    assert client.post("/api/v1/requests", json=body).status_code == 201


def test_withdrawing_an_offered_request_returns_its_slot_to_the_draws(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    response = _act(client, applicant, "cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert _scalar(runtime, "SELECT status FROM offer") == "declined"
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE active_slot_id IS NOT NULL") == 0
    assert _scalar(runtime, "SELECT count(*) FROM slot WHERE returned_at IS NOT NULL") == 1


def test_cancelling_a_booking_returns_the_slot_to_a_redraw_and_frees_the_identity(client, runtime, clock):
    world = World(client, runtime)
    body = request_body(world.service, [world.office], identity=_identity("CX 555 666"))
    holder = client.post("/api/v1/requests", json=body).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    assert _act(client, holder, "accept").status_code == 200
    slot_id = _scalar(runtime, "SELECT slot_id FROM booking")
    waiting = world.applicant()

    response = _act(client, holder, "cancel")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert response.json()["booking"]["status"] == "cancelled"
    assert _scalar(runtime, "SELECT status FROM booking") == "cancelled"
    again = client.post("/api/v1/requests", json=body)
    assert again.status_code == 201, again.text

    scheduler.tick(runtime)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    redraw = next(r for r in client.get("/api/v1/releases").json() if r["kind"] == "redraw")
    record = client.get(f"/api/v1/draws/{redraw['draw_id']}").json()
    assert [s["slot"] for s in record["slots"]] == [str(slot_id)]
    winner = next(e for e in record["entries"] if e["outcome"] == "offered")
    assert winner["slot"] == str(slot_id)
    assert winner["entry"] in {waiting["entry"], again.json()["entry"]}
    assert holder["entry"] not in {e["entry"] for e in record["entries"]}
    assert draw_record.verify_record(record) == []


def test_cancelling_a_booking_marks_its_offer_cancelled_so_it_no_longer_reads_as_holding_the_slot(
    client, runtime, clock
):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    _act(client, applicant, "accept")
    world.applicant()
    _act(client, applicant, "cancel")
    scheduler.tick(runtime)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)  # the redraw offers the slot to the other applicant
    assert _scalar(runtime, "SELECT status FROM offer ORDER BY id LIMIT 1") == "cancelled"
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE status = 'open'") == 1
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE active_slot_id IS NOT NULL") == 1
    two_holders = (
        "SELECT slot_id FROM offer WHERE status IN ('open', 'accepted') GROUP BY slot_id HAVING count(*) > 1"
    )
    with runtime.engine.connect() as conn:
        assert conn.execute(text(two_holders)).all() == []


def test_cancelling_a_closed_request_is_not_cancellable(client, runtime):
    world = World(client, runtime)
    applicant = world.applicant()
    assert _act(client, applicant, "cancel").status_code == 200
    response = _act(client, applicant, "cancel")
    assert response.status_code == 409
    assert response.json()["code"] == "not_cancellable"
    for action in ("accept", "decline"):
        assert _act(client, applicant, action).json()["code"] == "no_offer"


# Access


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("POST", "/accept"),
        ("POST", "/decline"),
        ("POST", "/cancel"),
        ("GET", "/booking/qr.svg"),
    ],
)
def test_another_applicants_access_code_answers_404_and_changes_nothing(client, runtime, clock, method, path):
    world = World(client, runtime)
    victim, intruder = _drawn(world, clock, applicants=2, slots=2)
    assert _act(client, victim, "accept").status_code == 200

    response = client.request(
        method, f"/api/v1/requests/{victim['id']}{path}", headers=auth(intruder["access_code"])
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert _view(client, victim)["status"] == "booked"
    assert _view(client, intruder)["status"] == "offered"


def test_the_qr_code_is_served_only_for_an_active_booking(client, runtime, clock):
    world = World(client, runtime)
    (applicant,) = _drawn(world, clock)
    path = f"/api/v1/requests/{applicant['id']}/booking/qr.svg"
    headers = auth(applicant["access_code"])
    assert client.get(path, headers=headers).status_code == 404  # offered, not booked

    _act(client, applicant, "accept")
    qr = client.get(path, headers=headers)
    assert qr.status_code == 200
    assert qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.lstrip().startswith("<svg")

    _act(client, applicant, "cancel")
    assert client.get(path, headers=headers).status_code == 404


@pytest.mark.parametrize(
    ("starts_in", "answer_within"),
    [
        (timedelta(hours=6), timedelta(hours=4)),  # two hours to come after answering
        (timedelta(hours=3), timedelta(minutes=90)),  # less than twice two hours: half the time left
        (timedelta(hours=1), timedelta(minutes=30)),
    ],
)
def test_a_same_day_offer_must_be_answered_well_before_its_slot_starts(
    client, runtime, clock, starts_in, answer_within
):
    world = World(client, runtime)
    applicant = world.applicant()
    draw_at = clock.now() + timedelta(minutes=5)
    release = client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": draw_at.isoformat(),
            "slots": [{"starts_at": (draw_at + starts_in).isoformat()}],
        },
        headers=auth(world.planner),
    )
    assert release.status_code == 201, release.text
    clock.set(draw_at)
    scheduler.tick(runtime)

    offer = _view(client, applicant)["offer"]

    assert datetime.fromisoformat(offer["expires_at"]) == draw_at + answer_within
    assert datetime.fromisoformat(offer["starts_at"]) - datetime.fromisoformat(offer["expires_at"]) >= min(
        timedelta(hours=2), starts_in / 2
    )


def test_a_closed_request_shows_no_weight(client, runtime):
    world = World(client, runtime)
    applicant = world.applicant()
    assert _view(client, applicant)["weight"]["total"] == "1.0000"

    cancelled = _act(client, applicant, "cancel")

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "withdrawn"
    assert cancelled.json()["weight"] is None
    assert _view(client, applicant)["weight"] is None
