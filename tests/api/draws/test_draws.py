"""Draws through the API: due, once, published, recomputable, and reflected on each request."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from app.domain.draws import draw_record
from app.services import scheduler
from tests.factories import World, auth


def _draw(world: World, release_id: int, **body):
    return world.client.post(
        f"/api/v1/releases/{release_id}/draw", json=body or None, headers=auth(world.planner)
    )


def test_a_manual_draw_before_draw_at_is_too_early_and_changes_nothing(client, runtime):
    world = World(client, runtime)
    world.applicant()
    release = world.release()
    response = _draw(world, release["id"])
    assert response.status_code == 409
    assert response.json()["code"] == "too_early"
    assert client.get(f"/api/v1/releases/{release['id']}").json()["status"] == "scheduled"


def test_a_due_release_is_drawn_once_and_then_answers_already_drawn(client, runtime, clock):
    world = World(client, runtime)
    applicants = [world.applicant() for _ in range(5)]
    release = world.release(slots=3)
    clock.advance(timedelta(hours=2))

    first = _draw(world, release["id"], beacon="round-42")
    assert first.status_code == 200, first.text
    summary = first.json()
    assert summary["entries"] == 5
    assert summary["offered"] == 3

    again = _draw(world, release["id"])
    assert again.status_code == 409
    assert again.json()["code"] == "already_drawn"

    statuses = [
        client.get(f"/api/v1/requests/{a['id']}", headers=auth(a["access_code"])).json()["status"]
        for a in applicants
    ]
    assert sorted(statuses) == ["offered"] * 3 + ["pending"] * 2


def test_the_seed_is_hidden_until_the_draw_and_matches_the_commitment_after(client, runtime, clock):
    world = World(client, runtime)
    release = world.release()
    before = client.get(f"/api/v1/releases/{release['id']}").json()
    assert before["seed"] is None
    assert before["seed_commitment"] == release["seed_commitment"]
    clock.advance(timedelta(hours=2))
    _draw(world, release["id"])
    after = client.get(f"/api/v1/releases/{release['id']}").json()
    assert after["status"] == "drawn"
    assert after["seed"] is not None
    import hashlib

    assert hashlib.sha256(bytes.fromhex(after["seed"])).hexdigest() == release["seed_commitment"]
    assert after["draw_id"] is not None


def test_the_published_record_recomputes_and_holds_no_personal_data(client, runtime, clock):
    world = World(client, runtime)
    applicants = [world.applicant() for _ in range(12)]
    applicants.append(world.applicant(permit_expires_on="2026-12-10", vulnerabilities=["disability"]))
    applicants.append(world.applicant(availability={"weekdays": [3]}))
    release = world.release(slots=4, desks=2)
    clock.advance(timedelta(hours=2))
    draw_id = _draw(world, release["id"], beacon="public-round-9").json()["draw_id"]

    response = client.get(f"/api/v1/draws/{draw_id}")
    assert response.status_code == 200
    record = response.json()
    assert record["spec"] == "fairslot-draw-v1"
    assert record["beacon"] == "public-round-9"
    assert len(record["slots"]) == 8
    assert [e["rank"] for e in record["entries"]] == list(range(1, 15))
    assert draw_record.verify_record(record) == []

    text_record = json.dumps(record)
    for secret in ("Diallo", "Aïcha", "P0000", "applicant", "@example.org", "1990-04-12"):
        assert secret not in text_record
    assert {e["entry"] for e in record["entries"]} == {a["entry"] for a in applicants}
    urgent = next(e for e in record["entries"] if e["entry"] == applicants[-2]["entry"])
    assert urgent["weight"] == "6.0000"


def test_a_tampered_record_fails_verification(client, runtime, clock):
    world = World(client, runtime)
    for _ in range(6):
        world.applicant()
    release = world.release(slots=2)
    clock.advance(timedelta(hours=2))
    draw_id = _draw(world, release["id"]).json()["draw_id"]
    record = client.get(f"/api/v1/draws/{draw_id}").json()
    record["entries"][0]["outcome"], record["entries"][-1]["outcome"] = (
        record["entries"][-1]["outcome"],
        record["entries"][0]["outcome"],
    )
    assert draw_record.verify_record(record) != []


def test_requests_submitted_after_draw_at_or_for_other_offices_do_not_enter(client, runtime, clock):
    world = World(client, runtime)
    early = world.applicant()
    elsewhere_office = client.post(
        "/api/v1/offices",
        json={"code": "elsewhere", "name": "Elsewhere", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    ).json()["code"]
    from tests.factories import submit_request

    other = submit_request(client, world.service, [elsewhere_office])
    release = world.release(slots=5)
    clock.advance(timedelta(hours=1, minutes=30))
    late = world.applicant()
    draw_id = _draw(world, release["id"]).json()["draw_id"]
    entries = {e["entry"] for e in client.get(f"/api/v1/draws/{draw_id}").json()["entries"]}
    assert early["entry"] in entries
    assert late["entry"] not in entries
    assert other["entry"] not in entries


def test_the_scheduler_draws_due_releases_and_offers_carry_a_deadline(client, runtime, clock):
    world = World(client, runtime)
    applicant = world.applicant()
    release = world.release(slots=1, offer_ttl_hours=24)
    assert scheduler.tick(runtime).draws == []
    clock.advance(timedelta(hours=1))
    report = scheduler.tick(runtime)
    assert len(report.draws) == 1
    assert scheduler.tick(runtime).draws == []
    view = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])).json()
    assert view["status"] == "offered"
    assert view["offer"]["office"] == world.office
    assert view["draws_entered"] == 1
    assert view["draws"][0]["outcome"] == "offered"
    assert view["draws"][0]["release_id"] == release["id"]


def test_entries_not_selected_wait_one_more_draw_and_their_weight_ages(client, runtime, clock):
    world = World(client, runtime)
    applicants = [world.applicant() for _ in range(4)]
    release = world.release(slots=1)
    clock.advance(timedelta(hours=2))
    _draw(world, release["id"])
    losers = []
    for a in applicants:
        view = client.get(f"/api/v1/requests/{a['id']}", headers=auth(a["access_code"])).json()
        if view["status"] == "pending":
            losers.append(view)
    assert len(losers) == 3
    for view in losers:
        waiting = next(f for f in view["weight"]["factors"] if f["name"] == "waiting")
        assert waiting["value"] == "1.25"
        assert view["draws"][0]["outcome"] == "not_selected"
        assert view["weight"]["total"] == "1.2500"


def test_an_offered_slot_respects_the_applicants_weekdays(client, runtime, clock):
    world = World(client, runtime)
    start = world.now + timedelta(days=2)
    wanted = ((start.isoweekday()) % 7) + 1  # the weekday after the first slot's
    picky = world.applicant(availability={"weekdays": [wanted]})
    release = world.release(slots=48)
    clock.advance(timedelta(hours=2))
    _draw(world, release["id"])
    view = client.get(f"/api/v1/requests/{picky['id']}", headers=auth(picky["access_code"])).json()
    assert view["status"] == "offered"
    from datetime import datetime

    assert datetime.fromisoformat(view["offer"]["starts_at"]).isoweekday() == wanted


def test_the_draw_writes_nothing_but_its_rows(client, runtime, clock):
    world = World(client, runtime)
    for _ in range(3):
        world.applicant()
    release = world.release(slots=2)
    clock.advance(timedelta(hours=2))
    _draw(world, release["id"])
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM draw")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM draw_entry")).scalar() == 3
        assert conn.execute(text("SELECT count(*) FROM offer")).scalar() == 2
        assert conn.execute(text("SELECT count(DISTINCT active_slot_id) FROM offer")).scalar() == 2


def test_two_offices_drawn_the_same_day_count_as_one_day_of_waiting(client, runtime, clock):
    from tests.factories import create_key, create_office, create_release, submit_request

    world = World(client, runtime)
    other = create_office(client, world.admin)["code"]
    other_planner = create_key(runtime, "planner", [other])
    later = (clock.now() + timedelta(days=30)).date().isoformat()  # no slot of these draws fits
    applicant = submit_request(client, world.service, [world.office, other], availability={"earliest": later})

    def draw_both() -> None:
        world.release(slots=1)
        create_release(client, other_planner, office=other, service=world.service, now=clock.now(), slots=1)
        clock.advance(timedelta(hours=2))
        scheduler.tick(runtime)

    def waiting() -> dict:
        view = client.get(
            f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])
        ).json()
        return next(f for f in view["weight"]["factors"] if f["name"] == "waiting")

    draw_both()
    first = waiting()
    clock.advance(timedelta(days=1))
    draw_both()
    second = waiting()

    assert (first["value"], first["code"], first["params"]) == (
        "1.25",
        "draw_days_lost",
        {"days": 1, "capped": False},
    )
    assert (second["value"], second["params"]["days"]) == ("1.5", 2)
    view = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])).json()
    assert [d["outcome"] for d in view["draws"]] == ["no_compatible_slot"] * 4
    # Every draw of a date weighs the request alike: it counts the days before that date.
    assert [d["weight"] for d in view["draws"]] == ["1.0000", "1.0000", "1.2500", "1.2500"]
