"""Races on claims (PostgreSQL, real threads): two desks judging one booking at once, one wins; a refusal
racing a cancel ends in one outcome, never half of each."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from threading import Barrier

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.domain.errors import BookingCancelled, ClaimRefuted, FairslotError, NotCancellable
from app.services import scheduler
from app.services.bookings import cancellations, checkins
from app.services.requests import repository
from app.services.staff import keys as staff_keys
from tests.factories import World, auth, create_key, request_body

DOCUMENT = "RACE 0101 0303"
BIRTH_DATE = "1969-10-10"
SOON = (date(2026, 12, 1) + timedelta(days=9)).isoformat()


def _booked(world: World, clock, *, starts_in_days: int = 2) -> dict:
    body = request_body(
        world.service,
        [world.office],
        identity={
            "document_type": "passport",
            "document_number": DOCUMENT,
            "family_name": "Kowalczyk",
            "given_names": "Piotr",
            "birth_date": BIRTH_DATE,
        },
        permit_expires_on=SOON,
    )
    applicant = world.client.post("/api/v1/requests", json=body).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    accepted = world.client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    return {**accepted.json()["booking"], "request": applicant}


def _states(runtime) -> tuple[str, str, int, int]:
    with runtime.engine.connect() as conn:
        return (
            conn.execute(text("SELECT status FROM booking")).scalar_one(),
            conn.execute(text("SELECT status FROM appointment_request")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM claim_sanction")).scalar_one(),
            conn.execute(text("SELECT count(*) FROM claim WHERE status <> 'declared'")).scalar_one(),
        )


@pytest.mark.postgres_only
def test_two_desks_judging_one_booking_at_once_one_wins_and_the_other_gets_a_clear_answer(
    client, runtime, clock
):
    world = World(client, runtime)
    booking = _booked(world, clock)
    desks = [world.desk, create_key(runtime, "desk", [world.office])]
    barrier = Barrier(2)

    def judge(pair: tuple[str, str]) -> tuple[int, str | None]:
        desk, verdict = pair
        barrier.wait()
        response = client.post(
            "/api/v1/check-ins",
            json={
                "token": booking["token"],
                "document_number": DOCUMENT,
                "birth_date": BIRTH_DATE,
                "claims": {"permit_expiry": verdict},
            },
            headers=auth(desk),
        )
        return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = Counter(pool.map(judge, zip(desks, ["confirmed", "refuted"], strict=True)))

    if answers[(200, None)]:  # the confirming desk went first
        assert answers == Counter({(200, None): 1, (409, "already_checked_in"): 1})
        assert _states(runtime) == ("attended", "attended", 0, 1)
    else:  # the refuting desk went first
        assert answers == Counter({(409, "claim_refuted"): 1, (409, "booking_cancelled"): 1})
        assert _states(runtime) == ("forfeited", "forfeited", 2, 1)


@pytest.mark.postgres_only
def test_a_refuted_claim_racing_a_cancel_ends_in_one_outcome(client, runtime, clock):
    world = World(client, runtime)
    booking = _booked(world, clock)
    person = booking["request"]
    barrier = Barrier(2)

    def refute() -> tuple[int, str | None]:
        barrier.wait()
        response = client.post(
            "/api/v1/check-ins",
            json={
                "token": booking["token"],
                "document_number": DOCUMENT,
                "birth_date": BIRTH_DATE,
                "claims": {"permit_expiry": "refuted"},
            },
            headers=auth(world.desk),
        )
        return response.status_code, response.json().get("code")

    def cancel() -> tuple[int, str | None]:
        barrier.wait()
        response = client.post(f"/api/v1/requests/{person['id']}/cancel", headers=auth(person["access_code"]))
        return response.status_code, response.json().get("code") if response.status_code != 200 else None

    with ThreadPoolExecutor(max_workers=2) as pool:
        refused, cancelled = pool.submit(refute), pool.submit(cancel)
        outcome = (refused.result(), cancelled.result())

    if outcome[0] == (409, "claim_refuted"):
        assert outcome[1] == (409, "not_cancellable")
        assert _states(runtime) == ("forfeited", "forfeited", 2, 1)
    else:
        assert outcome == ((409, "booking_cancelled"), (200, None))
        assert _states(runtime) == ("cancelled", "cancelled", 0, 0)


def _unit_of_work(runtime, work) -> BaseException | None:
    """Run ``work`` as the API's unit of work does: commit, or keep what an error asks to keep."""
    with Session(runtime.engine, expire_on_commit=False) as session:
        try:
            work(session)
            session.commit()
        except FairslotError as exc:
            session.commit() if exc.keep_changes else session.rollback()
            return exc
    return None


@pytest.mark.postgres_only
@pytest.mark.parametrize("first", ["refute", "cancel"])
def test_whichever_of_a_refusal_and_a_cancel_locks_first_wins_and_the_other_finds_it_closed(
    client, runtime, clock, monkeypatch, first
):
    world = World(client, runtime)
    booking = _booked(world, clock)
    with Session(runtime.engine) as session:
        staff = staff_keys.authenticate(session, world.desk)
    now = clock.now()

    def refute(session: Session) -> None:
        checkins.check_in(
            session=session,
            staff=staff,
            token=booking["token"],
            document_number=DOCUMENT,
            birth_date=date.fromisoformat(BIRTH_DATE),
            now=now,
            secret=runtime.secret,
            pepper=runtime.pepper,
            verdicts={"permit_expiry": "refuted"},
            window=checkins.window_of(
                runtime.settings.check_in_opens_minutes_before, runtime.settings.no_show_grace_minutes
            ),
        )

    def cancel(session: Session) -> None:
        cancellations.cancel(
            session=session, request_id=booking["request"]["id"], now=now, redraw_within=timedelta(hours=1)
        )

    original = repository.lock_request
    locked, go_on = threading.Event(), threading.Event()

    def lock_then_pause(*args, **kwargs):
        request = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not locked.is_set():
            locked.set()
            go_on.wait(30)
        return request

    monkeypatch.setattr(repository, "lock_request", lock_then_pause)
    work = {"refute": refute, "cancel": cancel}
    results: dict[str, BaseException | None] = {}
    one = threading.Thread(
        target=lambda: results.__setitem__(first, _unit_of_work(runtime, work[first])), name="first"
    )
    second = "cancel" if first == "refute" else "refute"
    two = threading.Thread(
        target=lambda: results.__setitem__(second, _unit_of_work(runtime, work[second])), name="second"
    )
    one.start()
    assert locked.wait(30)
    two.start()
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with runtime.engine.connect() as conn:
            if conn.execute(waiting).scalar():
                break
        time.sleep(0.01)
    go_on.set()
    one.join(60)
    two.join(60)

    if first == "refute":
        assert isinstance(results["refute"], ClaimRefuted)
        assert isinstance(results["cancel"], NotCancellable)
        assert _states(runtime) == ("forfeited", "forfeited", 2, 1)
    else:
        assert results["cancel"] is None
        assert isinstance(results["refute"], BookingCancelled)
        assert _states(runtime) == ("cancelled", "cancelled", 0, 0)
