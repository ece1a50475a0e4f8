"""News after every draw: an entrant not selected hears it stays in the queue, with its next draw and its
estimated chance there; once per request and draw day, by SMS only where the service asks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from app.services import scheduler
from app.services.draws import news
from app.services.messages import texts
from tests.api.journey.world import JourneyWorld, outbox_of
from tests.factories import create_key, create_office, create_release, submit_request

CONTACT = {"email": "a@example.org", "phone": "+33612345678"}


def _two_offices_drawing_the_same_day(world: JourneyWorld) -> str:
    other = create_office(world.client, world.admin)["code"]
    planner = create_key(world.runtime, "planner", [other])
    create_release(world.client, planner, office=other, service=world.service, now=world.now, slots=1)
    return other


def test_an_entrant_not_selected_hears_once_a_day_with_its_next_draw(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    other = _two_offices_drawing_the_same_day(world)
    people = [
        submit_request(client, world.service, [world.office, other], contact=CONTACT, language="en")
        for _ in range(3)
    ]
    world.release(slots=1)
    world.release(slots=1, draw_in=timedelta(days=1))  # the next draw
    clock.advance(timedelta(hours=1))

    report = scheduler.tick(runtime)

    assert len(report.draws) == 2
    losers = [p for p in people if world.view(p)["status"] == "pending"]
    assert len(losers) == 1 and report.news == [losers[0]["id"]]
    (email,) = outbox_of(runtime, losers[0]["id"], "not_selected")  # e-mail only: no SMS by default
    assert email.channel == "email"
    _subject, body = texts.render_email("not_selected", "en", email.context, "https://x.test/status")
    assert "stays in the queue" in body and "Next draw:" in body and "Test office" in body
    assert "estimated chance:" in body
    for winner in (p for p in people if p is not losers[0]):
        assert outbox_of(runtime, winner["id"], "not_selected") == []
    assert scheduler.tick(runtime).news == []  # told once


def test_the_service_may_ask_for_an_sms_too(client, runtime, clock):
    world = JourneyWorld(client, runtime, sms_not_selected=True)
    people = [world.applicant(contact=CONTACT, language="fr") for _ in range(2)]
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)

    (loser,) = [p for p in people if world.view(p)["status"] == "pending"]
    channels = sorted(m.channel for m in outbox_of(runtime, loser["id"], "not_selected"))
    assert channels == ["email", "sms"]
    (sms,) = [m for m in outbox_of(runtime, loser["id"], "not_selected") if m.channel == "sms"]
    assert "Aucun prochain tirage" in texts.render_sms("not_selected", "fr", sms.context, "L")


def test_every_entrant_not_selected_hears_when_the_winners_fill_whole_windows_of_ranks(
    client, runtime, clock, monkeypatch
):
    # The job walks the record in windows of ranks; here the first windows hold only winners.
    monkeypatch.setattr(news, "BATCH", 2)
    world = JourneyWorld(client, runtime)
    people = [world.applicant(contact=CONTACT, language="en") for _ in range(9)]
    world.release(slots=4)
    clock.advance(timedelta(hours=1))

    report = scheduler.tick(runtime)

    losers = {p["id"] for p in people if world.view(p)["status"] == "pending"}
    assert len(losers) == 5
    assert sorted(report.news) == sorted(losers)
    for person in people:
        told = outbox_of(runtime, person["id"], "not_selected")
        assert len(told) == (1 if person["id"] in losers else 0)
    assert scheduler.tick(runtime).news == []


@pytest.mark.postgres_only
def test_the_first_news_of_a_draw_summarizes_its_entries_and_refreshes_the_planners_statistics(
    client, runtime, clock
):
    # The record's order is a BRIN index: the news job reads windows of ranks through it, once the draw's
    # appended pages are summarized and the planner knows the table (else it would scan the whole table).
    world = JourneyWorld(client, runtime)
    for _ in range(3):
        world.applicant(contact=CONTACT, language="en")
    world.release(slots=1)
    clock.advance(timedelta(hours=1))

    def analyzed() -> int:
        with runtime.engine.connect() as conn:
            count = conn.execute(
                text("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'draw_entry'")
            ).scalar_one()
        return int(count)

    before = analyzed()
    report = scheduler.tick(runtime)

    assert len(report.draws) == 1 and len(report.news) == 2
    assert analyzed() == before + 1
    with runtime.engine.begin() as conn:
        left = conn.execute(
            text("SELECT brin_summarize_new_values('ix_draw_entry_draw_id_rank')")
        ).scalar_one()
    assert left == 0
