"""Notifications: one outbox message per event, in the applicant's language, sent once by SMTP.

The SMTP tests run a real aiosmtpd server on loopback. Draws are run through the planner's endpoint and the
scheduler's jobs (reminders, expiries, sending) drained one by one, so that the outbox can be looked at
between steps; the last tests drive the same through ``scheduler.tick``.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.services import scheduler
from app.services.bookings import offers
from app.services.messages import outbox
from tests.conftest import test_settings
from tests.factories import World, auth, create_key, create_office, submit_request


class _Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self, delay: float = 0.0) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.delay = delay
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.delay:
            time.sleep(self.delay)  # a slow server widens the window for a double send
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[Controller, _Inbox]]:
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def _smtp_runtime(runtime, database_url: str, port: int):
    settings = test_settings(database_url, smtp_url=f"smtp://127.0.0.1:{port}")
    return dataclasses.replace(runtime, settings=settings)


def _send(runtime) -> int:
    """Drain the outbox job once, with the runtime's sender (SMTP when configured, else the log)."""
    outlets = scheduler.outlets_of(runtime)
    try:
        return scheduler.send_messages(runtime, outlets)
    finally:
        outlets.close()


def _remind(runtime) -> list[str]:
    reminded = []
    while True:
        with session_scope(runtime.engine) as session:
            request_id = offers.remind_next(session, now=runtime.clock.now())
        if request_id is None:
            return reminded
        reminded.append(request_id)


def _expire(runtime) -> None:
    while True:
        with session_scope(runtime.engine) as session:
            expired = offers.expire_next(
                session, now=runtime.clock.now(), redraw_within=runtime.settings.redraw_within
            )
        if expired is None:
            return


def _outbox(runtime, *, received: bool = False) -> list[dict]:
    """The outbox, without the "request received" messages unless asked (they are sent at intake)."""
    with session_scope(runtime.engine) as session:
        rows = session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all()
        return [row.model_dump() for row in rows if received or row.kind != "request_received"]


def _kinds(runtime) -> Counter:
    return Counter((m["request_id"], m["kind"]) for m in _outbox(runtime))


def _post(client, applicant, action: str) -> dict:
    response = client.post(
        f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _draw_due(world: World) -> None:
    """The planner draws every due release (the scheduler would also send the outbox right away)."""
    for release in world.client.get("/api/v1/releases", params={"status": "scheduled"}).json():
        response = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
        assert response.status_code in (200, 409), response.text


def _drawn(world: World, clock, languages: list[str], **release) -> list[dict]:
    people = [world.applicant(language=language) for language in languages]
    _send(world.runtime)  # the "request received" messages leave (to the log) before the draw
    world.release(slots=len(languages), **release)
    clock.advance(timedelta(hours=1))
    _draw_due(world)
    return people


def test_each_event_queues_one_message_in_the_applicants_language(client, runtime, clock):
    world = World(client, runtime)
    booker, english, french = _drawn(world, clock, ["en", "en", "fr"], offer_ttl_hours=8)
    language = {booker["id"]: "en", english["id"]: "en", french["id"]: "fr"}
    _post(client, booker, "accept")
    _post(client, booker, "cancel")
    clock.advance(timedelta(hours=5, minutes=59))
    assert _remind(runtime) == []
    clock.advance(timedelta(minutes=1))  # a quarter of the 8 hours is left
    assert sorted(_remind(runtime)) == sorted([english["id"], french["id"]])
    assert _remind(runtime) == []
    clock.advance(timedelta(hours=2))
    _expire(runtime)
    assert _remind(runtime) == []

    assert _kinds(runtime) == Counter(
        {
            (booker["id"], "offer_made"): 1,
            (booker["id"], "booking_confirmed"): 1,
            (booker["id"], "booking_cancelled"): 1,
            (english["id"], "offer_made"): 1,
            (english["id"], "offer_expiring"): 1,
            (english["id"], "slot_freed"): 1,
            (french["id"], "offer_made"): 1,
            (french["id"], "offer_expiring"): 1,
            (french["id"], "slot_freed"): 1,
        }
    )
    for message in _outbox(runtime):
        assert message["language"] == language[message["request_id"]]
        assert message["status"] == "pending"
        assert message["recipient"].endswith("@example.org")
    received = [m for m in _outbox(runtime, received=True) if m["kind"] == "request_received"]
    assert sorted(m["request_id"] for m in received) == sorted(language)
    assert {m["status"] for m in received} == {"sent"}


def test_a_request_without_contact_gets_no_message_sent(client, runtime, clock):
    world = World(client, runtime)
    silent = submit_request(client, world.service, [world.office], contact=None)
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    _draw_due(world)
    assert silent["id"]
    assert _outbox(runtime) == []
    assert _send(runtime) == 0


def test_each_message_is_delivered_once_by_smtp_even_when_send_due_runs_twice(
    client, runtime, clock, database_url, smtp
):
    controller, inbox = smtp
    smtp_runtime = _smtp_runtime(runtime, database_url, controller.port)
    world = World(client, runtime)
    english, french = _drawn(world, clock, ["en", "fr"])

    assert _send(smtp_runtime) == 2
    assert _send(smtp_runtime) == 0
    outlets = scheduler.outlets_of(smtp_runtime)
    assert outbox.send_due(runtime.engine, outlets=outlets, now=clock.now()) == 0

    assert len(inbox.messages) == 2
    language_of = {m["recipient"]: m["language"] for m in _outbox(runtime)}
    by_language = {language_of[m["To"]]: m for m in inbox.messages}
    assert by_language["en"]["Subject"] == "Fairslot: an appointment is offered to you"
    assert by_language["fr"]["Subject"] == "Fairslot : un rendez-vous vous est proposé"
    assert english["entry"] in by_language["en"].get_content()
    assert french["entry"] in by_language["fr"].get_content()
    assert "tirage" in by_language["fr"].get_content()
    recipients = sorted(m["To"] for m in inbox.messages)
    assert recipients == sorted(m["recipient"] for m in _outbox(runtime))
    assert {m["status"] for m in _outbox(runtime)} == {"sent"}
    assert {m["attempts"] for m in _outbox(runtime)} == {1}

    _post(client, english, "accept")
    _send(smtp_runtime)
    _send(smtp_runtime)
    assert len(inbox.messages) == 3
    assert inbox.messages[-1]["Subject"] == "Fairslot: appointment confirmed"


def test_a_delivered_message_declares_its_language(client, runtime, clock, database_url, smtp):
    controller, inbox = smtp
    world = World(client, runtime)
    _drawn(world, clock, ["en"])
    _send(_smtp_runtime(runtime, database_url, controller.port))
    (message,) = inbox.messages
    assert message["Content-Language"] == "en"


def test_several_workers_sending_at_once_deliver_each_message_once(
    client, runtime, clock, database_url, smtp
):
    controller, inbox = smtp
    inbox.delay = 0.02
    smtp_runtime = _smtp_runtime(runtime, database_url, controller.port)
    world = World(client, runtime)
    _drawn(world, clock, ["fr"] * 12)
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                _send(smtp_runtime)
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    assert len(inbox.messages) == 12
    assert len({m["To"] for m in inbox.messages}) == 12
    assert {(m["status"], m["attempts"]) for m in _outbox(runtime)} == {("sent", 1)}


def test_a_message_is_retried_with_backoff_while_the_server_is_down_then_sent_once(
    client, runtime, clock, database_url
):
    port = _free_port()
    smtp_runtime = _smtp_runtime(runtime, database_url, port)
    world = World(client, runtime)
    _drawn(world, clock, ["en"])

    _send(smtp_runtime)
    (first,) = _outbox(runtime)
    assert (first["status"], first["attempts"]) == ("pending", 1)
    assert first["last_error"]
    assert first["next_attempt_at"] == clock.now() + timedelta(seconds=30)
    _send(smtp_runtime)  # not due yet: nothing is tried
    assert _outbox(runtime)[0]["attempts"] == 1

    clock.advance(timedelta(seconds=30))
    _send(smtp_runtime)
    (second,) = _outbox(runtime)
    assert (second["status"], second["attempts"]) == ("pending", 2)
    assert second["next_attempt_at"] == clock.now() + timedelta(seconds=60)

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _send(smtp_runtime)
        assert inbox.messages == []  # the backoff is respected even though the server is back
        clock.advance(timedelta(seconds=60))
        _send(smtp_runtime)
        _send(smtp_runtime)
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    (sent,) = _outbox(runtime)
    assert (sent["status"], sent["attempts"]) == ("sent", 3)
    assert sent["sent_at"] == clock.now()


def test_a_message_that_keeps_failing_is_given_up_after_the_last_attempt(
    client, runtime, clock, database_url
):
    smtp_runtime = _smtp_runtime(runtime, database_url, _free_port())
    world = World(client, runtime)
    _drawn(world, clock, ["fr"])
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        _send(smtp_runtime)
        clock.advance(timedelta(hours=1))
    (message,) = _outbox(runtime)
    assert (message["status"], message["attempts"]) == ("failed", outbox.MAX_ATTEMPTS)


def test_without_smtp_messages_go_to_the_log_and_are_marked_sent(client, runtime, clock, caplog):
    assert runtime.settings.smtp_url is None
    world = World(client, runtime)
    english, french = _drawn(world, clock, ["en", "fr"])

    with caplog.at_level(logging.INFO, logger="fairslot.notifications"):
        assert _send(runtime) == 2
        assert _send(runtime) == 0

    logged = [r.getMessage() for r in caplog.records if r.name == "fairslot.notifications"]
    assert len(logged) == 2
    assert any(
        "Fairslot: an appointment is offered to you" in line and english["entry"] in line for line in logged
    )
    assert any(
        "Fairslot : un rendez-vous vous est proposé" in line and french["entry"] in line for line in logged
    )
    assert {(m["status"], m["attempts"]) for m in _outbox(runtime)} == {("sent", 1)}


def test_a_due_reminder_is_not_hidden_behind_twenty_offers_that_are_not_due(client, runtime, clock):
    world = World(client, runtime)
    patient = world.applicant()
    world.release(slots=1, offer_ttl_hours=40)  # drawn at +1 h, expires at +41 h, reminder due from +31 h
    clock.advance(timedelta(hours=1))
    _draw_due(world)
    elsewhere = create_office(client, world.admin)["code"]
    planner = create_key(runtime, "planner", [elsewhere])
    for _ in range(20):
        submit_request(client, world.service, [elsewhere])
    first = (clock.now() + timedelta(days=2)).isoformat()
    release = client.post(
        "/api/v1/releases",
        json={
            "office": elsewhere,
            "service": world.service,
            "draw_at": (clock.now() + timedelta(hours=27)).isoformat(),
            "slots": [{"starts_at": first, "desks": 20}],
            "offer_ttl_hours": 8,  # drawn at +28 h, expire at +36 h (before the patient's), due from +34 h
        },
        headers=auth(planner),
    )
    assert release.status_code == 201, release.text
    clock.advance(timedelta(hours=27))
    drawn = client.post(f"/api/v1/releases/{release.json()['id']}/draw", headers=auth(planner))
    assert drawn.status_code == 200, drawn.text
    clock.advance(timedelta(hours=3))  # +31 h

    assert _remind(runtime) == [patient["id"]]


def test_a_scheduler_tick_sends_each_message_once_and_reminds_once(
    client, runtime, clock, database_url, smtp
):
    controller, inbox = smtp
    smtp_runtime = _smtp_runtime(runtime, database_url, controller.port)
    world = World(client, runtime)
    applicant = world.applicant(language="en")
    world.release(slots=1, offer_ttl_hours=8)
    clock.advance(timedelta(hours=1))

    scheduler.tick(smtp_runtime)
    scheduler.tick(smtp_runtime)

    assert [m["Subject"] for m in inbox.messages] == [
        "Fairslot: request received",
        "Fairslot: an appointment is offered to you",
    ]
    del inbox.messages[0]
    assert {m["status"] for m in _outbox(runtime)} == {"sent"}
    clock.advance(timedelta(hours=6))
    assert scheduler.tick(smtp_runtime).reminders == [applicant["id"]]
    assert scheduler.tick(smtp_runtime).reminders == []
    assert [m["Subject"] for m in inbox.messages][1:] == ["Fairslot: your offer expires soon"]
    clock.advance(timedelta(hours=2))
    assert scheduler.tick(smtp_runtime).expired == [applicant["id"]]
    assert inbox.messages[-1]["Subject"] == "Fairslot: offer expired"
    assert len(inbox.messages) == 3
