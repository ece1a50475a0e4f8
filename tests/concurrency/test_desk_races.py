"""Two desks at one booking at the same moment, one scanning and one working by hand, or one checking the
person in while the other marks them absent: one decision, the other told plainly (PostgreSQL, parallel
connections)."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import text

from tests.desk import attend, book, scan, started
from tests.factories import World, create_key

pytestmark = pytest.mark.postgres_only


def test_scans_and_check_ins_by_hand_of_one_booking_at_once_check_it_in_once(client, runtime) -> None:
    world = World(client, runtime)
    (booking,) = book(world, [{"document": "RACE0001"}])
    desks = [world.desk] + [create_key(runtime, "desk", [world.office]) for _ in range(5)]
    barrier = Barrier(len(desks))

    def act(n: int) -> tuple[int, str | None]:
        barrier.wait()
        call = scan if n % 2 else attend
        response = call(client, desks[n], booking)
        return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=len(desks)) as pool:
        verdicts = Counter(pool.map(act, range(len(desks))))

    assert verdicts == Counter({(200, None): 1, (409, "already_checked_in"): len(desks) - 1})
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM booking")).scalar() == "attended"
        checked_in = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'booking.checked_in'")
        )
        assert checked_in.scalar() == 1


def test_a_check_in_and_an_absence_at_once_leave_one_of_them(client, runtime, clock) -> None:
    world = World(client, runtime)
    (booking,) = book(world, [{"document": "RACE0002"}])
    clock.set(started(booking) + timedelta(minutes=5))
    other = create_key(runtime, "desk", [world.office])
    barrier = Barrier(2)

    def came() -> tuple[int, str | None]:
        barrier.wait()
        response = attend(client, world.desk, booking)
        return response.status_code, response.json().get("code")

    def absent() -> tuple[int, str | None]:
        barrier.wait()
        response = attend(client, other, booking, outcome="absent", document_number=None, birth_date=None)
        return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=2) as pool:
        here, away = pool.submit(came), pool.submit(absent)
        verdicts = {here.result(), away.result()}

    with runtime.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM booking")).scalar()
        no_shows = conn.execute(text("SELECT count(*) FROM no_show")).scalar()
    if status == "attended":
        assert verdicts == {(200, None), (409, "already_checked_in")}
        assert no_shows == 0
    else:
        assert status == "no_show"
        assert verdicts == {(200, None), (409, "booking_cancelled")}
        assert no_shows == 1
