"""A hung SMTP server (it accepts the TCP connection and never says a word) must neither block the
service nor stall the worker: the outbox is claimed and committed before anything is sent, every attempt
is bounded, and the outcome is recorded afterwards; once a working server is there, every message goes
out once.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.services import scheduler
from app.services.messages import outbox
from tests.conftest import test_settings
from tests.factories import World, auth, request_body


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
    rows = _outbox(runtime)
    assert {(m.status, m.attempts) for m in rows} == {("pending", 1)}
    assert all(m.next_attempt_at == clock.now() + outbox.backoff(1) for m in rows)
    assert all(m.last_error and "@" not in m.last_error for m in rows)


def test_a_server_that_never_answers_costs_one_bounded_attempt_per_batch_and_nothing_is_lost(
    client, runtime, clock, database_url, hung
):
    _three_offers(client, runtime, clock)
    hung_runtime = _runtime_with(runtime, database_url, hung.port, timeout=0.5)

    report = scheduler.tick(hung_runtime)

    assert report.sent == 3  # handled: each one tried and given its retry time
    assert hung.accepted == 1  # one timeout for the batch, not one per message
    assert {(m.status, m.attempts) for m in _outbox(runtime)} == {("pending", 1)}
    assert scheduler.tick(hung_runtime).sent == 0  # nothing due again before the backoff

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
    assert {(m.status, m.attempts) for m in _outbox(runtime)} == {("sent", 2)}
