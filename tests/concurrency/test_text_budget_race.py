"""Workers sending at once never let a fourth text through to a number that has not verified a code: real
parallel senders on PostgreSQL, each claiming its own rows."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.services import scheduler
from app.services.messages import outbox
from tests.verified import phone_world, texting

pytestmark = pytest.mark.postgres_only

NUMBER = "+33698765432"


def test_parallel_senders_let_three_texts_through_to_an_unverified_number_and_no_more(client, runtime):
    world = phone_world(client, runtime)
    for _ in range(12):
        texting(world, phone=NUMBER)
    senders = 4
    barrier = threading.Barrier(senders)

    def send() -> None:
        outlets = scheduler.outlets_of(runtime)  # the log outlet: each text "sent" at once
        barrier.wait()
        while outbox.send_due(runtime.engine, outlets=outlets, now=runtime.clock.now(), limit=1):
            pass

    threads = [threading.Thread(target=send) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    with session_scope(runtime.engine) as session:
        statuses = [
            m.status for m in session.exec(select(OutboxMessage).where(OutboxMessage.recipient == NUMBER))
        ]
    assert sorted(statuses) == ["failed"] * 9 + ["sent"] * 3
