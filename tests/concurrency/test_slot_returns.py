"""Returned slots join releases in one order, so jobs returning several slots never deadlock.

Releases often share a draw time. Were the earliest release chosen by draw time alone, the order in which a
scan meets the rows would break the tie, and it changes as rows are rewritten: two transactions each
returning several slots could take one such release each and then wait for the other's (what a scheduler
under load met). Ordered by draw time and id, every transaction takes the same release, and a second one
simply waits for the first.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.db.engine import session_scope
from app.db.models import Slot
from app.services.draws import returns
from tests.factories import World

pytestmark = pytest.mark.postgres_only

WITHIN = timedelta(hours=1)


class _Transaction(threading.Thread):
    """One transaction run step by step: each step put on its queue runs in order, then it commits."""

    def __init__(self, runtime, name: str) -> None:
        super().__init__(name=name)
        self.runtime = runtime
        self.steps: queue.Queue[Callable[[Session], None] | None] = queue.Queue()
        self.finished = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with session_scope(self.runtime.engine) as session:
                while (step := self.steps.get()) is not None:
                    step(session)
                    self.finished += 1
        except BaseException as exc:  # a deadlock is the finding
            self.error = exc


def _settle(runtime, transaction: _Transaction, finished: int) -> None:
    """Wait until the transaction ran ``finished`` steps, or waits for a lock, or failed."""
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and transaction.finished < finished and transaction.error is None:
        with runtime.engine.connect() as conn:
            if conn.execute(text(waiting)).scalar():
                return
        time.sleep(0.01)


def test_two_jobs_returning_slots_while_releases_share_a_draw_time_take_them_in_one_order(
    client, runtime, clock
):
    world = World(client, runtime)
    now = clock.now()
    source = world.release(slots=4, draw_in=timedelta(hours=3))
    first = world.release(slots=1, draw_in=timedelta(minutes=30))
    second = world.release(slots=1, draw_in=timedelta(minutes=30))
    assert first["draw_at"] == second["draw_at"] and first["id"] < second["id"]
    with runtime.engine.begin() as conn:
        # The earlier release's row is rewritten outside its page's chain (an indexed column changes and
        # changes back), so every scan meets the later release first.
        for shift in ("+", "-"):
            conn.execute(
                text(f"UPDATE release SET draw_at = draw_at {shift} interval '1 second' WHERE id = :id"),
                {"id": first["id"]},
            )
        slot_ids = [
            row[0]
            for row in conn.execute(
                text("SELECT id FROM slot WHERE release_id = :id ORDER BY id"), {"id": source["id"]}
            )
        ]

    def give_back(slot_id: int) -> Callable[[Session], None]:
        def step(session: Session) -> None:
            slot = session.get(Slot, slot_id)
            assert slot is not None
            returns.return_slot(session, slot, now=now, redraw_within=WITHIN, actor="scheduler")
            session.flush()

        return step

    one, two = _Transaction(runtime, "one"), _Transaction(runtime, "two")
    one.start()
    two.start()
    for transaction, slot_id, finished in ((one, 0, 1), (two, 1, 1), (one, 2, 2), (two, 3, 2)):
        transaction.steps.put(give_back(slot_ids[slot_id]))
        _settle(runtime, transaction, finished)
    one.steps.put(None)
    two.steps.put(None)
    one.join(60)
    two.join(60)

    assert (one.error, two.error) == (None, None)
    with runtime.engine.connect() as conn:
        joined = conn.execute(
            text("SELECT release_id, count(*) FROM slot WHERE id = ANY(:ids) GROUP BY release_id"),
            {"ids": slot_ids},
        ).all()
        counts = dict(conn.execute(text("SELECT id, slot_count FROM release")).all())
    assert joined == [(first["id"], 4)]
    assert counts[first["id"]] == 5 and counts[second["id"]] == 1
