"""Ten desks scanning one token at the same moment check the booking in once; a scan racing a cancel
ends in one clear verdict."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from threading import Barrier

import pytest
from sqlalchemy import text

from app.db.engine import session_scope
from app.domain.errors import BookingCancelled
from app.services import scheduler
from app.services.bookings import cancellations, checkins
from app.services.requests import repository
from app.services.staff import keys as staff_keys
from tests.factories import World, auth, create_key, request_body

DOCUMENT = "DESK 0101 0202"
BIRTH_DATE = "1975-03-21"


@pytest.mark.postgres_only
def test_ten_parallel_check_ins_of_one_token_give_one_200_and_nine_already_checked_in(client, runtime, clock):
    world = World(client, runtime)
    body = request_body(
        world.service,
        [world.office],
        identity={
            "document_type": "identity_card",
            "document_number": DOCUMENT,
            "family_name": "Ferreira",
            "given_names": "Ana",
            "birth_date": BIRTH_DATE,
        },
    )
    applicant = client.post("/api/v1/requests", json=body).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    accepted = client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    token = accepted.json()["booking"]["token"]
    desks = [world.desk] + [create_key(runtime, "desk", [world.office]) for _ in range(9)]
    barrier = Barrier(10)

    def scan(desk: str) -> tuple[int, str | None]:
        barrier.wait()
        response = client.post(
            "/api/v1/check-ins",
            json={"token": token, "document_number": DOCUMENT.lower(), "birth_date": BIRTH_DATE},
            headers=auth(desk),
        )
        return response.status_code, response.json().get("code")

    with ThreadPoolExecutor(max_workers=10) as pool:
        verdicts = Counter(pool.map(scan, desks))

    assert verdicts == Counter({(200, None): 1, (409, "already_checked_in"): 9})
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM booking")).scalar() == "attended"
        assert conn.execute(text("SELECT status FROM appointment_request")).scalar() == "attended"
        checked_in = conn.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'booking.checked_in'")
        )
        assert checked_in.scalar() == 1


def _interleave(runtime, monkeypatch, *, first, second) -> dict[str, BaseException]:
    """Run ``first`` until its request row is locked, run ``second`` until it waits for a lock (or ends),
    then let ``first`` go on; returns each side's exception."""
    original = repository.lock_request
    paused, resume = threading.Event(), threading.Event()

    def lock_then_pause(*args, **kwargs):
        request = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not paused.is_set():
            paused.set()
            resume.wait(30)
        return request

    monkeypatch.setattr(repository, "lock_request", lock_then_pause)
    errors: dict[str, BaseException] = {}

    def run(label: str, work) -> None:
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
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    while two.is_alive() and time.monotonic() < deadline:
        with runtime.engine.connect() as conn:
            if conn.execute(waiting).scalar():
                break
        time.sleep(0.01)
    resume.set()
    one.join(60)
    two.join(60)
    return errors


@pytest.mark.postgres_only
def test_a_check_in_racing_a_cancel_of_the_same_booking_does_not_deadlock(
    client, runtime, clock, monkeypatch
):
    world = World(client, runtime)
    body = request_body(
        world.service,
        [world.office],
        identity={
            "document_type": "identity_card",
            "document_number": DOCUMENT,
            "family_name": "Ferreira",
            "given_names": "Ana",
            "birth_date": BIRTH_DATE,
        },
    )
    applicant = client.post("/api/v1/requests", json=body).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    headers = auth(applicant["access_code"])
    token = client.post(f"/api/v1/requests/{applicant['id']}/accept", headers=headers).json()["booking"][
        "token"
    ]
    with session_scope(runtime.engine) as session:
        desk = staff_keys.authenticate(session, world.desk)
    now = clock.now()

    errors = _interleave(
        runtime,
        monkeypatch,
        first=lambda s: cancellations.cancel(
            session=s, request_id=applicant["id"], now=now, redraw_within=runtime.settings.redraw_within
        ),
        second=lambda s: checkins.check_in(
            session=s,
            staff=desk,
            token=token,
            document_number=DOCUMENT,
            birth_date=date.fromisoformat(BIRTH_DATE),
            now=now,
            secret=runtime.secret,
            pepper=runtime.pepper,
        ),
    )

    assert set(errors) <= {"second"}
    assert all(isinstance(e, BookingCancelled) for e in errors.values()), errors
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT status FROM booking")).scalar() in ("cancelled", "attended")
