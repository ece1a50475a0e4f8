"""Each message's delivery status on the request, and the staff view of the outbox per channel."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from app.services import scheduler
from app.services.messages import outbox
from tests.assertions import assert_problem
from tests.conftest import test_settings
from tests.factories import World, auth, create_key
from tests.smsc import Smsc


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc().start()
    yield server
    server.stop()


def _view(client, applicant) -> dict:
    answer = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_request_shows_each_message_on_each_channel_with_its_delivery_status(
    client, runtime, clock, database_url, smsc
):
    world = World(client, runtime)
    applicant = world.applicant(contact={"email": "amina@example.org", "phone": "06 12 34 56 78"})
    assert [(m["channel"], m["kind"], m["status"]) for m in _view(client, applicant)["messages"]] == [
        ("email", "request_received", "queued"),
        ("sms", "request_received", "queued"),
    ]
    release = world.release(slots=1)
    clock.advance(timedelta(hours=1))
    assert (
        client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner)).status_code == 200
    )
    smsc.undeliverable = {"33612345678"}
    texting = dataclasses.replace(runtime, settings=test_settings(database_url, smpp_url=smsc.url))
    outlets = scheduler.outlets_of(texting)
    try:
        scheduler.send_messages(texting, outlets)
        deadline = time.monotonic() + 30
        while {m["status"] for m in _view(client, applicant)["messages"] if m["channel"] == "sms"} != {
            "failed"
        }:
            assert time.monotonic() < deadline
            outbox.send_due(runtime.engine, outlets=outlets, now=clock.now())
            time.sleep(0.05)
    finally:
        outlets.close()

    messages = _view(client, applicant)["messages"]
    assert [(m["channel"], m["kind"], m["status"]) for m in messages] == [
        ("email", "request_received", "sent"),
        ("sms", "request_received", "failed"),
        ("email", "offer_made", "sent"),
        ("sms", "offer_made", "failed"),
    ]
    assert {datetime.fromisoformat(m["at"]) for m in messages} == {clock.now()}


def test_the_outbox_view_counts_backlog_and_failures_per_channel_for_admins_and_auditors(
    client, runtime, clock
):
    world = World(client, runtime)
    world.applicant(contact={"email": "a@example.org", "phone": "06 12 34 56 78"})
    world.applicant(contact={"phone": "06 12 34 56 79"})
    for role in ("admin", "auditor"):
        answer = client.get("/api/v1/outbox", headers=auth(create_key(runtime, role)))
        assert answer.status_code == 200, answer.text
        channels = {c["channel"]: c for c in answer.json()["channels"]}
        assert (channels["email"]["queued"], channels["sms"]["queued"]) == (1, 2)
        assert channels["sms"]["due"] == 2
        assert channels["sms"]["failure_rate"] is None
    scheduler.tick(runtime)
    channels = {
        c["channel"]: c for c in client.get("/api/v1/outbox", headers=auth(world.admin)).json()["channels"]
    }
    assert (channels["sms"]["queued"], channels["sms"]["sent"], channels["sms"]["failure_rate"]) == (
        0,
        2,
        0.0,
    )


@pytest.mark.parametrize("role", ["planner", "desk"])
def test_other_roles_may_not_read_the_outbox(client, runtime, role):
    world = World(client, runtime)
    key = create_key(runtime, role, [world.office])
    assert_problem(client.get("/api/v1/outbox", headers=auth(key)), 403, "forbidden")


def test_the_outbox_view_needs_a_staff_key(client):
    assert_problem(client.get("/api/v1/outbox"), 401, "unauthorized")
