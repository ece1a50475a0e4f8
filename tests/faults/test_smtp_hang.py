"""A hung SMTP server (it accepts the TCP connection and never says a word) must neither block the
service nor stall the worker: the outbox is claimed and committed before anything is sent, every attempt
is bounded, and the outcome is recorded afterwards; once a working server is there, every message goes
out once. However many mails wait for it, it costs a scheduler pass one bounded attempt and is then left
alone a while, so due draws are drawn on time and one-time codes go out by SMS meanwhile.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import insert
from sqlmodel import col, select

from app.clock import SystemClock
from app.db.engine import session_scope
from app.db.models import Draw, OutboxMessage
from app.runtime import Runtime
from app.services import scheduler
from app.services.messages import outbox
from tests.conftest import test_settings
from tests.factories import World, auth, create_release, create_service, request_body


class HungServer:
    """Accepts connections on 127.0.0.1 and never answers; closes them when ``release`` is called."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.connected = threading.Event()
        self._conns: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            self.accepted += 1
            self.connected.set()

    def release(self) -> None:
        """Drop every connection held so far."""
        for conn in self._conns:
            conn.close()
        self._conns.clear()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.release()
        self.sock.close()


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def hung() -> Iterator[HungServer]:
    server = HungServer()
    yield server
    server.close()


def _runtime_with(runtime, database_url: str, port: int, timeout: float):
    settings = test_settings(
        database_url, smtp_url=f"smtp://127.0.0.1:{port}", message_timeout_seconds=timeout
    )
    return dataclasses.replace(runtime, settings=settings)


def _outbox(runtime) -> list[OutboxMessage]:
    with session_scope(runtime.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.kind != "request_received")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def _three_offers(client, runtime, clock) -> World:
    world = World(client, runtime)
    for _ in range(3):
        world.applicant()
    scheduler.tick(runtime)  # the "request received" messages leave first (to the log)
    release = world.release(slots=3)
    clock.advance(timedelta(hours=1))
    drawn = client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text
    assert len(_outbox(runtime)) == 3
    return world


def test_the_service_answers_while_the_worker_waits_on_a_hung_smtp_server(
    client, runtime, clock, database_url, hung
):
    world = _three_offers(client, runtime, clock)
    # A generous bound, so that the worker is certainly still waiting while the service is asked.
    hung_runtime = _runtime_with(runtime, database_url, hung.port, timeout=60)
    done = threading.Event()

    def work() -> None:
        outlets = scheduler.outlets_of(hung_runtime)
        try:
            scheduler.send_messages(hung_runtime, outlets, limit=1)
        finally:
            done.set()

    worker = threading.Thread(target=work, daemon=True)
    worker.start()
    assert hung.connected.wait(timeout=30)

    # The worker holds a connection to the hung server, and no transaction: intake writes at once
    # (on SQLite it would wait for the write lock, then answer 503), and another worker finds the
    # claimed messages leased, not free to send twice.
    created = client.post("/api/v1/requests", json=request_body(world.service, [world.office]))
    assert created.status_code == 201, created.text
    other = outbox.outlets_for(smtp_url=None, smpp_url=None, mail_from="x@example.org", public_url="http://t")
    assert outbox.send_due(runtime.engine, outlets=other, now=clock.now()) == 1  # the new request's
    assert {(m.status, m.attempts) for m in _outbox(runtime)} == {("pending", 1)}  # the leased ones wait
    assert not done.is_set()

    hung.release()  # the server hangs up: the attempt ends, its outcome is recorded
    assert done.wait(timeout=60)
    worker.join(timeout=5)
    tried, *untried = _outbox(runtime)
    # The message tried waits its backoff; the rest of the batch was never tried and is due again.
    assert (tried.status, tried.attempts, tried.next_attempt_at) == (
        "pending",
        1,
        clock.now() + outbox.backoff(1),
    )
    assert tried.last_error and "@" not in tried.last_error
    assert [(m.status, m.attempts, m.next_attempt_at, m.last_error) for m in untried] == [
        ("pending", 0, clock.now(), None)
    ] * 2


def test_a_server_that_never_answers_costs_one_bounded_attempt_is_left_alone_and_nothing_is_lost(
    client, runtime, clock, database_url, hung
):
    _three_offers(client, runtime, clock)
    hung_runtime = _runtime_with(runtime, database_url, hung.port, timeout=0.5)
    outlets = scheduler.outlets_of(hung_runtime)  # a worker's, kept across passes

    report = scheduler.tick(hung_runtime, outlets)

    assert report.sent == 3  # handled: one tried, two back in the queue untried
    assert hung.accepted == 1  # one timeout for the batch, not one per message
    assert sorted((m.status, m.attempts) for m in _outbox(runtime)) == [
        ("pending", 0),
        ("pending", 0),
        ("pending", 1),
    ]
    assert scheduler.tick(hung_runtime, outlets).sent == 0  # the dead server is left alone a while
    assert hung.accepted == 1
    outlets.close()

    inbox = _Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        working = _runtime_with(runtime, database_url, port, timeout=5)
        clock.advance(outbox.backoff(1))
        assert scheduler.tick(working).sent == 3
        assert scheduler.tick(working).sent == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 3
    assert len({m["To"] for m in inbox.messages}) == 3
    assert sorted((m.status, m.attempts) for m in _outbox(runtime)) == [("sent", 1), ("sent", 1), ("sent", 2)]


# --- a backlog of mail for a hung server, a due release, a one-time code -------------------------------

BACKLOG = 1000


def _queue_mails(runtime, request_id: str, now, count: int = BACKLOG) -> None:
    """A backlog of ``count`` mails (as a busy day leaves), all due now."""
    rows = [
        {
            "request_id": request_id,
            "channel": "email",
            "kind": "request_received",
            "language": "fr",
            "recipient": f"backlog{i}@example.org",
            "context": {"request_id": request_id},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for i in range(count)
    ]
    with session_scope(runtime.engine) as session:
        session.execute(insert(OutboxMessage), rows)


def _code_asked(client, world: World) -> dict:
    """An online request of a phone-verified service whose one-time code is queued (after the backlog)."""
    service = create_service(client, world.admin, weight_policy={"entry_verification": "phone"})["code"]
    texting = client.post(
        "/api/v1/requests", json=request_body(service, [world.office], contact={"phone": "+33612345699"})
    ).json()
    asked = client.post(f"/api/v1/requests/{texting['id']}/phone-code", headers=auth(texting["access_code"]))
    assert asked.status_code == 202, asked.text
    return texting


def _code_status(runtime, request_id: str) -> str:
    with session_scope(runtime.engine) as session:
        row = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.request_id == request_id, OutboxMessage.kind == outbox.CODE_KIND
            )
        ).one()
        return row.status


def test_a_backlog_for_a_hung_server_costs_a_pass_one_attempt_and_the_draw_and_the_code_go_on(
    client, runtime, clock, database_url, hung
):
    world = World(client, runtime)
    entrant = world.applicant()
    scheduler.tick(runtime)  # the "request received" messages leave first (to the log)
    _queue_mails(runtime, entrant["id"], clock.now())
    texting = _code_asked(client, world)
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    hung_runtime = _runtime_with(runtime, database_url, hung.port, timeout=0.5)
    outlets = scheduler.outlets_of(hung_runtime)

    first = scheduler.tick(hung_runtime, outlets)
    second = scheduler.tick(hung_runtime, outlets)
    outlets.close()

    assert len(first.draws) == 1
    assert hung.accepted == 1  # one bounded attempt, then the server is left alone: not one per batch
    assert _code_status(runtime, texting["id"]) == "sent"  # the code did not wait behind the mail
    assert second.sent == 0 and hung.accepted == 1
    with session_scope(runtime.engine) as session:
        tried = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.channel == "email",
                OutboxMessage.status == "pending",
                OutboxMessage.attempts > 0,
            )
        ).all()
    assert len(tried) == 1  # the backlog waits for the server, no attempt spent on it


@pytest.mark.once
def test_a_release_due_while_the_worker_faces_a_hung_server_and_a_backlog_is_drawn_on_time(
    client, runtime, database_url, hung
):
    world = World(client, runtime)
    entrant = world.applicant()
    real_now = datetime.now(UTC)
    _queue_mails(runtime, entrant["id"], real_now)
    draw_at = real_now + timedelta(seconds=3)
    create_release(
        client,
        world.planner,
        office=world.office,
        service=world.service,
        now=real_now,
        slots=1,
        draw_in=draw_at - real_now,
    )
    # A real worker loop on the real clock: 1,000 mails to a server that never answers, 2 s per attempt.
    worker_runtime = Runtime(
        settings=test_settings(
            database_url, smtp_url=f"smtp://127.0.0.1:{hung.port}", message_timeout_seconds=2
        ),
        engine=runtime.engine,
        clock=SystemClock(),
    )
    worker = scheduler.BackgroundScheduler(worker_runtime)
    worker.start()
    try:
        drawn_at = None
        # Before the fix, the pass under way at draw_at sent the whole backlog first: 20 batches of 50,
        # 2 s each, so the draw came 40 s late. A bounded pass draws within one attempt of draw_at.
        while drawn_at is None and datetime.now(UTC) < draw_at + timedelta(seconds=15):
            with session_scope(runtime.engine) as session:
                draw = session.exec(select(Draw)).first()
                drawn_at = draw.drawn_at if draw is not None else None
            time.sleep(0.1)
    finally:
        worker.stop()
    assert drawn_at is not None, "the release was not drawn within 15 s of its draw_at"
    print(f"drawn {(drawn_at - draw_at).total_seconds():.1f} s after draw_at; server tried {hung.accepted}x")
