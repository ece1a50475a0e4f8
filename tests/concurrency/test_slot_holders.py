"""One holder per slot, whatever interleaving of accepts, declines, cancels, expiries, re-draws and draws.

Fifty threads hammer one office and service on PostgreSQL for a few seconds, and until every path was taken
at least once, while a clock thread moves time on (so offers expire and returned slots are re-drawn), then
the database is checked for any slot with two holders. A unique constraint is the backstop: the SQL tests try to get past it. The lock-order tests replay,
step by step, an applicant's answer meeting a scheduler job on the same request, which must not deadlock.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.db.engine import make_engine, session_scope
from app.main import create_app
from app.runtime import Runtime
from app.services import audit, scheduler
from app.services.bookings import cancellations, no_shows, offers
from app.services.draws import drawing
from app.services.requests import repository
from tests.factories import World, auth, request_body, slot_times

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The app with a patient request timeout: fifty threads share one test client's worker threads, and on
    two loaded cores a request can wait for a thread longer than the production 30 s. These tests prove
    who holds a slot, not latency; a deadlock still answers PostgreSQL's ``busy_retry`` at once."""
    settings = runtime.settings.model_copy(update={"request_timeout_seconds": 180.0})
    with TestClient(
        create_app(dataclasses.replace(runtime, settings=settings)), raise_server_exceptions=False
    ) as test_client:
        yield test_client


DURATION_SECONDS = 5.0
#: The threads run at least DURATION_SECONDS and until every path was exercised (a returned slot put back
#: into a draw, each answer seen at least once), at most this long: on a loaded machine five seconds were
#: sometimes too few for a re-draw, which made the test fail on timing rather than on a finding.
MAX_SECONDS = 90.0
APPLICANT_THREADS = 39
PLANNER_THREADS = 4
PUBLISHER_THREADS = 2
SCHEDULER_THREADS = 4
CLOCK_THREADS = 1
HOT = 8  # identities that many threads fight over at once
ALLOWED = {
    "view": {200},
    "accept": {200, 409},
    "decline": {200, 409},
    "cancel": {200, 409},
    "submit": {201, 409},
    "draw": {200, 409},
    "release": {201},
    "list": {200},
}


def _rows(runtime, sql: str, **params) -> list:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def _identity(n: int) -> dict:
    return {
        "document_type": "passport",
        "document_number": f"RACE{n:05d}",
        "family_name": "Racer",
        "given_names": f"Number {n}",
        "birth_date": "1990-01-01",
    }


def test_fifty_threads_of_accepts_declines_cancels_expiries_and_redraws_never_give_a_slot_two_holders(
    client, runtime, clock, caplog
):
    caplog.set_level(logging.ERROR)
    world = World(client, runtime)
    bodies = {n: request_body(world.service, [world.office], identity=_identity(n)) for n in range(60)}
    people: dict[int, dict] = {}
    for n, body in bodies.items():
        response = client.post("/api/v1/requests", json=body)
        assert response.status_code == 201, response.text
        people[n] = response.json()
    for k in range(6):
        world.release(slots=4, desks=2, offer_ttl_hours=1, draw_in=timedelta(minutes=1 + k))
    clock.advance(timedelta(minutes=2))

    jobs_engine = make_engine(runtime.settings.database_url, pool_size=SCHEDULER_THREADS, max_overflow=2)
    jobs_runtime = dataclasses.replace(runtime, engine=jobs_engine)
    stop = threading.Event()
    lock = threading.Lock()
    answers: Counter = Counter()
    bad: list[str] = []
    crashes: list[str] = []
    repooled: set[int] = set()  # releases the scheduler put returned slots into

    def record(kind: str, response) -> None:
        problem = response.headers.get("content-type", "").startswith("application/problem+json")
        code = response.json().get("code") if problem else None
        with lock:
            answers[(kind, response.status_code, code)] += 1
            if response.status_code not in ALLOWED[kind]:  # a deadlock would be a 503 busy_retry
                bad.append(f"{kind} -> {response.status_code} {response.text[:300]}")

    def guarded(work: Callable[[random.Random], None]) -> Callable[[int], None]:
        def run(seed: int) -> None:
            rng = random.Random(seed)
            while not stop.is_set():
                try:
                    work(rng)
                except Exception as exc:  # a crash (or a deadlock) in a worker is a finding
                    with lock:
                        crashes.append(f"{work.__name__}: {exc!r}"[:2000])

        return run

    def applicant(rng: random.Random) -> None:
        n = rng.randrange(HOT) if rng.random() < 0.5 else rng.randrange(len(bodies))
        with lock:
            person = people[n]
        headers = auth(person["access_code"])
        view = client.get(f"/api/v1/requests/{person['id']}", headers=headers)
        record("view", view)
        if view.status_code != 200:
            return
        status = view.json()["status"]
        if status in ("withdrawn", "cancelled"):
            response = client.post("/api/v1/requests", json=bodies[n])
            record("submit", response)
            if response.status_code == 201:
                with lock:
                    people[n] = response.json()
            return
        weights = {
            "offered": {"accept": 5, "decline": 3, "cancel": 2},
            "booked": {"cancel": 2, "accept": 1, "decline": 1, None: 6},
            "pending": {"cancel": 1, "accept": 1, "decline": 1, None: 12},
        }.get(status, {None: 1})
        action = rng.choices(list(weights), weights=list(weights.values()))[0]
        if action is not None:
            record(action, client.post(f"/api/v1/requests/{person['id']}/{action}", headers=headers))

    def planner(rng: random.Random) -> None:
        listed = client.get("/api/v1/releases", params={"status": "scheduled"})
        record("list", listed)
        for release in listed.json() if listed.status_code == 200 else []:
            if datetime.fromisoformat(release["draw_at"]) <= clock.now():
                record(
                    "draw", client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
                )

    def publisher(rng: random.Random) -> None:
        now = clock.now()
        first = now + timedelta(days=2, minutes=rng.randrange(0, 10_000))
        body = {
            "office": world.office,
            "service": world.service,
            "draw_at": (now + timedelta(minutes=rng.randrange(120, 240))).isoformat(),
            "slots": [{"starts_at": t, "desks": 2} for t in slot_times(first, 2)],
            "offer_ttl_hours": 1,
        }
        record("release", client.post("/api/v1/releases", json=body, headers=auth(world.planner)))
        time.sleep(rng.uniform(0.1, 0.3))

    def worker(rng: random.Random) -> None:
        report = scheduler.tick(jobs_runtime)
        with lock:
            repooled.update(report.redraws)
        time.sleep(rng.uniform(0.05, 0.2))  # leaves the planners' manual draws a chance to come first

    def ticker(rng: random.Random) -> None:
        clock.advance(timedelta(minutes=1))
        time.sleep(0.04)

    roles = (
        [applicant] * APPLICANT_THREADS
        + [planner] * PLANNER_THREADS
        + [publisher] * PUBLISHER_THREADS
        + [worker] * SCHEDULER_THREADS
        + [ticker] * CLOCK_THREADS
    )
    assert len(roles) == 50
    threads = [threading.Thread(target=guarded(role), args=(i,)) for i, role in enumerate(roles)]

    def exercised() -> bool:
        with lock:
            seen = Counter({(kind, status): n for (kind, status, _code), n in answers.items()})
            return bool(repooled) and all(
                seen[wanted] > 0
                for wanted in (("accept", 200), ("decline", 200), ("cancel", 200), ("submit", 201))
            )

    for thread in threads:
        thread.start()
    time.sleep(DURATION_SECONDS)
    deadline = time.monotonic() + MAX_SECONDS
    while not exercised() and not crashes and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    jobs_engine.dispose()
    assert repooled, "the scheduler put no returned slot back into a draw while the threads ran"
    for _ in range(12):  # let the last expiries and re-draws run out, two hours of scheduler passes
        clock.advance(timedelta(minutes=10))
        scheduler.tick(runtime)

    server_errors = [
        f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records if r.levelno >= logging.ERROR
    ]
    assert crashes == []
    assert bad == [], server_errors
    done = Counter({(kind, status): n for (kind, status, _code), n in answers.items()})
    for kind, status in (("accept", 200), ("decline", 200), ("cancel", 200), ("submit", 201)):
        assert done[(kind, status)] > 0, (kind, answers)
    assert done[("draw", 200)] + done[("draw", 409)] > 0, answers

    # No slot has two holders: an open offer, and an accepted offer whose booking is live, each hold it.
    two_holders = """
        SELECT o.slot_id FROM offer o LEFT JOIN booking b ON b.offer_id = o.id
        WHERE o.status = 'open' OR (o.status = 'accepted' AND b.status IN ('booked', 'attended'))
        GROUP BY o.slot_id HAVING count(*) > 1
    """
    assert _rows(runtime, two_holders) == []
    assert (
        _rows(
            runtime,
            "SELECT slot_id FROM offer WHERE status IN ('open', 'accepted') GROUP BY slot_id HAVING count(*) > 1",
        )
        == []
    )
    assert (
        _rows(
            runtime,
            "SELECT slot_id FROM booking WHERE status = 'booked' GROUP BY slot_id HAVING count(*) > 1",
        )
        == []
    )
    # The constrained column agrees with the statuses.
    assert (
        _rows(
            runtime,
            """
            SELECT o.id FROM offer o LEFT JOIN booking b ON b.offer_id = o.id
            WHERE (o.status = 'open' OR coalesce(b.status, '') = 'booked') <> (o.active_slot_id IS NOT NULL)
               OR (o.active_slot_id IS NOT NULL AND o.active_slot_id <> o.slot_id)
            """,
        )
        == []
    )
    # Each request's status matches what it holds.
    assert (
        _rows(
            runtime,
            """
            SELECT r.id, r.status FROM appointment_request r
            WHERE (r.status = 'offered') <> ((SELECT count(*) FROM offer o
                                              WHERE o.request_id = r.id AND o.status = 'open') = 1)
               OR (r.status = 'booked') <> ((SELECT count(*) FROM booking b
                                             WHERE b.request_id = r.id AND b.status = 'booked') = 1)
            """,
        )
        == []
    )
    # Expiries and re-draws took part.
    assert _rows(runtime, "SELECT count(*) FROM offer WHERE status = 'expired'")[0][0] > 0
    redrawn = "SELECT count(*) FROM (SELECT slot_id FROM offer GROUP BY slot_id HAVING count(DISTINCT draw_id) > 1) t"
    assert _rows(runtime, redrawn)[0][0] > 0
    with session_scope(runtime.engine) as session:
        assert audit.verify(session)[1] == []


# The constraint


def _one_open_offer(client, runtime, clock) -> tuple[int, int, int, str]:
    """Two applicants, one slot: the offer's id, slot and draw, and the pending loser's request id."""
    world = World(client, runtime)
    world.applicant()
    world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    ((offer_id, slot_id, draw_id),) = _rows(
        runtime, "SELECT id, slot_id, draw_id FROM offer WHERE status = 'open'"
    )
    ((loser_id,),) = _rows(runtime, "SELECT id FROM appointment_request WHERE status = 'pending'")
    return offer_id, slot_id, draw_id, loser_id


def _insert_offer(
    conn, *, request_id: str, slot_id: int, active: int | None, draw_id: int, status: str
) -> None:
    """A copy of the existing offer row with these values (every other column copied, whatever they are)."""
    given = {
        "request_id": request_id,
        "slot_id": slot_id,
        "active_slot_id": active,
        "draw_id": draw_id,
        "status": status,
    }
    copied = [c["name"] for c in inspect(conn).get_columns("offer") if c["name"] not in {*given, "id"}]
    names = [*given, *copied]
    values = [f":{c}" for c in given] + copied
    conn.execute(
        text(f"INSERT INTO offer ({', '.join(names)}) SELECT {', '.join(values)} FROM offer LIMIT 1"), given
    )


def test_the_database_refuses_a_second_active_offer_for_a_slot_inserted_in_sql(client, runtime, clock):
    _offer_id, slot_id, draw_id, loser_id = _one_open_offer(client, runtime, clock)
    with pytest.raises(IntegrityError), runtime.engine.begin() as conn:
        _insert_offer(
            conn, request_id=loser_id, slot_id=slot_id, active=slot_id, draw_id=draw_id, status="open"
        )
    assert _rows(runtime, "SELECT count(*) FROM offer")[0][0] == 1


def test_the_database_refuses_reviving_a_declined_offer_onto_a_held_slot(client, runtime, clock):
    offer_id, slot_id, draw_id, loser_id = _one_open_offer(client, runtime, clock)
    with runtime.engine.begin() as conn:
        _insert_offer(
            conn, request_id=loser_id, slot_id=slot_id, active=None, draw_id=draw_id, status="declined"
        )
    with pytest.raises(IntegrityError), runtime.engine.begin() as conn:
        conn.execute(
            text("UPDATE offer SET status = 'open', active_slot_id = slot_id WHERE id <> :id"),
            {"id": offer_id},
        )
    assert _rows(runtime, "SELECT count(*) FROM offer WHERE active_slot_id IS NOT NULL")[0][0] == 1


# Lock order: an applicant's answer holds its request row and then wants the offer (or booking) row; a
# scheduler job that took the offer (or booking) first and the request second would deadlock against it.


def _interleave(
    runtime,
    monkeypatch,
    *,
    pause_in: tuple[object, str],
    pause: str,
    first: Callable,
    second: Callable,
) -> dict[str, BaseException]:
    """Run ``first`` until it calls ``pause_in`` (pausing ``pause`` it: "before" or "after"), run ``second``
    until it waits for a lock (or ends), then let ``first`` go on; returns each side's exception."""
    module, name = pause_in
    original = getattr(module, name)
    paused, resume = threading.Event(), threading.Event()

    def wrapper(*args, **kwargs):
        if threading.current_thread().name != "first" or paused.is_set():
            return original(*args, **kwargs)
        if pause == "before":
            paused.set()
            resume.wait(30)
            return original(*args, **kwargs)
        result = original(*args, **kwargs)
        paused.set()
        resume.wait(30)
        return result

    monkeypatch.setattr(module, name, wrapper)
    errors: dict[str, BaseException] = {}

    def run(label: str, work: Callable) -> None:
        try:
            with session_scope(runtime.engine) as session:
                work(session)
        except Exception as exc:
            errors[label] = exc

    one = threading.Thread(target=run, args=("first", first), name="first")
    one.start()
    assert paused.wait(30), errors
    two = threading.Thread(target=run, args=("second", second), name="second")
    two.start()
    deadline = time.monotonic() + 30
    waiting = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    while two.is_alive() and time.monotonic() < deadline and not _rows(runtime, waiting)[0][0]:
        time.sleep(0.01)
    resume.set()
    one.join(60)
    two.join(60)
    return errors


def _offered(client, runtime, clock, **release) -> tuple[dict, dict]:
    world = World(client, runtime)
    applicant = world.applicant()
    world.release(slots=1, **release)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    view = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])).json()
    assert view["status"] == "offered"
    return applicant, view["offer"]


def test_an_accept_racing_the_expiry_of_its_offer_does_not_deadlock(client, runtime, clock, monkeypatch):
    applicant, offer = _offered(client, runtime, clock, offer_ttl_hours=2)
    deadline = datetime.fromisoformat(offer["expires_at"])
    settings = runtime.settings

    errors = _interleave(
        runtime,
        monkeypatch,
        pause_in=(offers, "offer_for_update"),
        pause="before",
        first=lambda s: offers.accept(
            session=s,
            request_id=applicant["id"],
            now=deadline - timedelta(seconds=1),
            secret=runtime.secret,
            token_grace=timedelta(minutes=settings.no_show_grace_minutes),
        ),
        second=lambda s: offers.expire_next(s, now=deadline, redraw_within=settings.redraw_within),
    )

    assert errors == {}
    assert _rows(runtime, "SELECT status FROM appointment_request")[0][0] == "booked"


def test_a_decline_racing_the_reminder_of_its_offer_does_not_deadlock(client, runtime, clock, monkeypatch):
    applicant, offer = _offered(client, runtime, clock, offer_ttl_hours=8)
    deadline = datetime.fromisoformat(offer["expires_at"])

    errors = _interleave(
        runtime,
        monkeypatch,
        pause_in=(offers, "offer_for_update"),
        pause="before",
        first=lambda s: offers.decline(
            session=s,
            request_id=applicant["id"],
            now=deadline - timedelta(hours=1),
            redraw_within=runtime.settings.redraw_within,
        ),
        second=lambda s: offers.remind_next(s, now=deadline - timedelta(hours=1)),
    )

    assert errors == {}
    assert _rows(runtime, "SELECT status FROM offer")[0][0] == "declined"


def test_a_cancel_and_the_no_show_job_on_one_booking_take_their_locks_in_the_same_order(
    client, runtime, clock, monkeypatch
):
    # In real time the two no longer meet (a started appointment cannot be cancelled); the lock order
    # must hold anyway, so each side gets its own clock here.
    applicant, _offer = _offered(client, runtime, clock)
    accepted = client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    booking = accepted.json()["booking"]
    before = datetime.fromisoformat(booking["starts_at"]) - timedelta(seconds=1)
    late = datetime.fromisoformat(booking["ends_at"]) + timedelta(hours=1)
    grace = timedelta(minutes=runtime.settings.no_show_grace_minutes)

    errors = _interleave(
        runtime,
        monkeypatch,
        pause_in=(repository, "lock_request"),
        pause="after",
        first=lambda s: cancellations.cancel(
            session=s, request_id=applicant["id"], now=before, redraw_within=runtime.settings.redraw_within
        ),
        second=lambda s: no_shows.mark_next(s, now=late, grace=grace),
    )

    assert errors == {}
    assert _rows(runtime, "SELECT status FROM booking")[0][0] == "cancelled"
    assert _rows(runtime, "SELECT count(*) FROM no_show")[0][0] == 0


def test_a_withdrawal_racing_the_draw_that_offers_that_request_does_not_deadlock(
    client, runtime, clock, monkeypatch
):
    world = World(client, runtime)
    applicant = world.applicant()
    release = world.release(slots=1)
    clock.advance(timedelta(hours=1))
    now = clock.now()

    errors = _interleave(
        runtime,
        monkeypatch,
        pause_in=(repository, "lock_request"),
        pause="after",
        first=lambda s: cancellations.cancel(
            session=s, request_id=applicant["id"], now=now, redraw_within=runtime.settings.redraw_within
        ),
        second=lambda s: drawing.draw_next_due(session=s, now=now, secret=runtime.secret),
    )

    assert errors == {}
    assert _rows(runtime, "SELECT status FROM appointment_request")[0][0] == "withdrawn"
    assert _rows(runtime, "SELECT status FROM release WHERE id = :r", r=release["id"])[0][0] == "drawn"
    assert _rows(runtime, "SELECT count(*) FROM offer WHERE active_slot_id IS NOT NULL")[0][0] == 0


def test_the_database_refuses_a_second_live_booking_for_a_slot(client, runtime, clock):
    world = World(client, runtime)
    first, second = world.applicant(), world.applicant()
    world.release(slots=2)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    accepted = client.post(f"/api/v1/requests/{first['id']}/accept", headers=auth(first["access_code"]))
    assert accepted.status_code == 200
    # A booking for the second applicant's own offer, but on the first applicant's slot.
    forged = """
        INSERT INTO booking (id, offer_id, request_id, slot_id, office_id, identity_key, status, token, created_at)
        SELECT 'forged', o.id, o.request_id, b.slot_id, b.office_id, 'x', 'booked', 'x', now()
        FROM offer o, booking b WHERE o.request_id = :second
    """
    with pytest.raises(IntegrityError, match="uq_booking_live_slot"), runtime.engine.begin() as conn:
        conn.execute(text(forged), {"second": second["id"]})
