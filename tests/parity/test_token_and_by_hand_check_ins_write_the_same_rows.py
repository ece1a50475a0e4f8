"""Parity at the desk: a check-in by hand leaves what a token check-in leaves, through the API and the pages.

Each scenario runs four times on one database, for four applicants alike in everything but their document
(each with the same declarations): scanned through the API (``POST /check-ins``), by hand through the API
(``POST /bookings/{id}/attendance``), scanned at the desk page and by hand from the desk page's list. Then
what each run wrote is compared: the request and booking rows, the audit events with their details, the
messages queued, the claims' verdicts and the sanctions left on the identity; and the answers' statuses. Each
scenario also pins what was written, so four ways that all forget a row do not agree by accident. An
absence recorded by hand, through the API or the page, writes what the no-show job writes, its actor aside.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent, Booking, Claim, ClaimSanction, NoShow
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.staff import keys as staff_keys
from tests.desk import BIRTH, attend, book, scan, started, urgent
from tests.factories import World
from tests.parity.test_api_and_web_write_the_same_rows import written
from tests.web.helpers import sign_in

WAYS = ("api-token", "api-by-hand", "web-token", "web-by-hand")


@dataclass(frozen=True)
class Scenario:
    """What the desk is shown (``document`` of the holder or another's) and what it answers."""

    declarations: dict[str, Any]
    claims: dict[str, str]
    document: Callable[[dict[str, Any]], str]
    times: int = 1


HOLDER: Callable[[dict[str, Any]], str] = lambda booking: booking["document"]  # noqa: E731
BUYER: Callable[[dict[str, Any]], str] = lambda booking: "BUYER0001"  # noqa: E731

SCENARIOS = {
    "admitted": (Scenario({}, {}, HOLDER), [200], "attended"),
    "another-persons-document": (Scenario({}, {}, BUYER), [403], "booked"),
    "twice": (Scenario({}, {}, HOLDER, times=2), [200, 409], "attended"),
    "claims-unjudged": (Scenario(urgent(), {}, HOLDER), [422], "booked"),
    "claims-confirmed": (
        Scenario(urgent(), {"permit_expiry": "confirmed", "vulnerability": "confirmed"}, HOLDER),
        [200],
        "attended",
    ),
    "vulnerability-not-evidenced": (
        Scenario(urgent(), {"permit_expiry": "confirmed", "vulnerability": "not_evidenced"}, HOLDER),
        [200],
        "attended",
    ),
    "claim-refuted": (Scenario(urgent(), {"permit_expiry": "refuted"}, HOLDER), [409], "forfeited"),
}


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


@pytest.fixture
def desk_page(world: World, runtime: Runtime) -> Iterator[Callable[[], tuple[TestClient, str]]]:
    """A browser of its own; calling it signs the world's desk key in (again: a web session ends after idle
    time, and the tests move the clock) and gives the browser with its CSRF token."""
    with TestClient(create_app(runtime)) as browser:
        yield lambda: (browser, sign_in(browser, world.desk, next_page="desk"))


def _check_in(
    way: str, world: World, page: Callable[[], tuple[TestClient, str]], booking: dict, scenario: Scenario
) -> int:
    document = scenario.document(booking)
    if way == "api-token":
        return scan(
            world.client, world.desk, booking, document_number=document, claims=scenario.claims
        ).status_code
    if way == "api-by-hand":
        return attend(
            world.client, world.desk, booking, document_number=document, claims=scenario.claims
        ).status_code
    browser, csrf = page()
    claims = {f"claim_{kind}": verdict for kind, verdict in scenario.claims.items()}
    fields = {"csrf_token": csrf, "document_number": document, "birth_date": BIRTH, **claims}
    if way == "web-token":
        response = browser.post("/desk/check-in", data={**fields, "token": booking["token"]})
    else:
        response = browser.post(
            f"/desk/bookings/{booking['id']}/attendance", data={**fields, "outcome": "attended"}
        )
    assert ("verdict--ok" in response.text) == (response.status_code == 200), response.text
    return response.status_code


def at_the_desk(runtime: Runtime, request_id: str) -> dict[str, Any]:
    """What ``written`` holds, plus what the desk writes besides: its audit events' details, the claims'
    verdicts (who gave them, when), the sanctions on the identity and the person."""
    rows = written(runtime, request_id)
    with session_scope(runtime.engine) as session:
        request = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        subjects = [f"request:{request_id}"] + [f"booking:{b}" for b in _bookings(session, request_id)]
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.subject).in_(subjects)).order_by(col(AuditEvent.id))
        ).all()
        claims = session.exec(select(Claim).where(Claim.request_seq == request.seq)).all()
        sanctions = session.exec(
            select(ClaimSanction).where(
                col(ClaimSanction.digest).in_([request.identity_key, request.person_key])
            )
        ).all()
        # The desk's own events, with their details (those before it name each person's entry and slot).
        rows["audit_details"] = [
            (e.action, e.details) for e in events if e.action.startswith(("checkin.", "booking."))
        ]
        rows["claims"] = sorted((c.kind, c.status, c.decided_by, c.decided_at) for c in claims)
        rows["sanctions"] = sorted((s.effect, s.until) for s in sanctions)
    return rows


def _bookings(session: Any, request_id: str) -> list[str]:
    return [b.id for b in session.exec(select(Booking).where(Booking.request_id == request_id)).all()]


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_check_in_by_hand_writes_what_a_token_check_in_writes_through_the_api_and_the_pages(
    world: World, runtime: Runtime, desk_page: Callable[[], tuple[TestClient, str]], name: str
) -> None:
    scenario, statuses, booking_status = SCENARIOS[name]
    booked = book(world, [{"document": f"PARITY0{n}", **scenario.declarations} for n in range(len(WAYS))])

    answers = {
        way: [_check_in(way, world, desk_page, booking, scenario) for _ in range(scenario.times)]
        for way, booking in zip(WAYS, booked, strict=True)
    }

    assert answers == dict.fromkeys(WAYS, statuses)
    rows = {
        way: at_the_desk(runtime, booking["request"]["id"]) for way, booking in zip(WAYS, booked, strict=True)
    }
    for way in WAYS[1:]:
        assert rows[way] == rows[WAYS[0]], way
    pinned = rows[WAYS[0]]
    assert [status for status, _in, _out in pinned["bookings"]] == [booking_status]
    actions = [action for action, _details in pinned["audit_details"]]
    expected_actions = {
        "admitted": ["booking.checked_in"],
        "another-persons-document": ["checkin.refused"],
        "twice": ["booking.checked_in"],
        "claims-unjudged": [],
        "claims-confirmed": ["checkin.claims_judged", "booking.checked_in"],
        "vulnerability-not-evidenced": ["checkin.claims_judged", "booking.checked_in"],
        "claim-refuted": ["checkin.claim_refuted"],
    }[name]
    assert actions == expected_actions
    if name == "vulnerability-not-evidenced":
        assert [effect for effect, _until in pinned["sanctions"]] == ["vulnerability_strict"] * 2
    if name == "claim-refuted":
        assert [effect for effect, _until in pinned["sanctions"]] == ["excluded"] * 2
        assert ("forfeited", "fr", "pending") in pinned["outbox"]


def test_an_absence_by_hand_writes_what_the_no_show_job_writes_naming_the_desk_as_its_actor(
    world: World, runtime: Runtime, desk_page: Callable[[], tuple[TestClient, str]], clock: FrozenClock
) -> None:
    by_api, by_page, by_job = sorted(
        book(world, [{"document": f"ABSENT0{n}"} for n in range(3)]), key=lambda b: b["starts_at"]
    )
    clock.set(started(by_page) + timedelta(minutes=1))  # both by hand at once, the first two having started
    browser, csrf = desk_page()
    api = attend(world.client, world.desk, by_api, outcome="absent", document_number=None, birth_date=None)
    page = browser.post(
        f"/desk/bookings/{by_page['id']}/attendance",
        data={"csrf_token": csrf, "outcome": "absent", "confirm": "yes"},
    )
    clock.set(
        datetime.fromisoformat(by_job["ends_at"]) + timedelta(minutes=runtime.settings.no_show_grace_minutes)
    )
    job = scheduler.tick(runtime).no_shows

    assert (api.status_code, page.status_code, job) == (200, 200, [by_job["id"]])
    rows = {
        name: at_the_desk(runtime, b["request"]["id"])
        for name, b in [("api", by_api), ("page", by_page), ("job", by_job)]
    }
    assert rows["api"] == rows["page"]
    desk = f"staff:{_key_id(runtime, world.desk)}"
    assert rows["api"]["audit"][-1] == ("booking.no_show", "booking", desk)
    assert rows["job"]["audit"][-1] == ("booking.no_show", "booking", "scheduler")
    for name in ("api", "job"):
        rows[name]["audit"] = rows[name]["audit"][:-1]
        rows[name]["request"].pop("closed_at")
        rows[name]["bookings"] = [status for status, *_times in rows[name]["bookings"]]
    assert rows["api"] == rows["job"]
    with session_scope(runtime.engine) as session:
        missed = session.exec(select(NoShow).order_by(col(NoShow.booking_id))).all()
    assert sorted(m.booking_id for m in missed) == sorted(b["id"] for b in (by_api, by_page, by_job))


def _key_id(runtime: Runtime, key: str) -> int:
    with session_scope(runtime.engine) as session:
        return staff_keys.authenticate(session, key).key_id
