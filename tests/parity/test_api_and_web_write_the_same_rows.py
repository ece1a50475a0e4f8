"""Parity: one scenario through the API and through the web forms writes the same rows.

Each test runs a scenario twice on one database, once per face, for two applicants alike in everything but
their document, then compares what each run wrote: the request's status and fields, its offers and bookings,
the audit events about it (and about its bookings and slots), and the messages queued for it. Each test also
pins what was written, so two faces that both forget a row do not agree by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Protocol

import pytest
from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent, Booking, Offer, OutboxMessage
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.staff import keys as staff_keys
from tests.factories import World, auth, person_suffix, request_body
from tests.web.helpers import sign_in, text_of, token_for

BIRTH_DATE = "1988-02-29"


def _person(n: int) -> dict[str, str]:
    """Applicant ``n``: a person of their own (one person, one chance), so each face files a new request."""
    return {
        "document_number": f"PARITY{n:04d}",
        "email": f"parity{n}@example.org",
        "family_name": f"Diallo {person_suffix(n)}".strip(),
    }


class Face(Protocol):
    """The applicant's and the desk's actions, as one face offers them."""

    def submit(self, person: dict[str, str]) -> tuple[str, str]: ...
    def act(self, action: str, request_id: str, code: str) -> int: ...
    def check_in(self, token: str, document_number: str) -> int: ...


class Api:
    """The JSON API."""

    def __init__(self, world: World) -> None:
        self.world = world

    def submit(self, person: dict[str, str]) -> tuple[str, str]:
        body = request_body(
            self.world.service,
            [self.world.office],
            identity={
                "document_type": "passport",
                "document_number": person["document_number"],
                "family_name": person["family_name"],
                "given_names": "Aïcha",
                "birth_date": BIRTH_DATE,
            },
            contact={"email": person["email"]},
            language="fr",
        )
        response = self.world.client.post("/api/v1/requests", json=body)
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["access_code"]

    def act(self, action: str, request_id: str, code: str) -> int:
        response = self.world.client.post(f"/api/v1/requests/{request_id}/{action}", headers=auth(code))
        return response.status_code

    def check_in(self, token: str, document_number: str) -> int:
        body = {"token": token, "document_number": document_number, "birth_date": BIRTH_DATE}
        return self.world.client.post(
            "/api/v1/check-ins", json=body, headers=auth(self.world.desk)
        ).status_code


class Web:
    """The pages, in a browser of their own (its own cookies), with the same desk key signed in at /desk."""

    def __init__(self, world: World, client: TestClient) -> None:
        self.world = world
        self.client = client

    def submit(self, person: dict[str, str]) -> tuple[str, str]:
        form = {
            "csrf_token": token_for(self.client),
            "service": self.world.service,
            "office_1": self.world.office,
            "document_type": "passport",
            "document_number": person["document_number"],
            "family_name": person["family_name"],
            "given_names": "Aïcha",
            "birth_date": BIRTH_DATE,
            "email": person["email"],
            "language": "fr",
        }
        response = self.client.post("/apply", data=form)
        assert response.status_code == 201, response.text
        return text_of(response.text, "request-id"), text_of(response.text, "access-code")

    def act(self, action: str, request_id: str, code: str) -> int:
        form = {
            "csrf_token": token_for(self.client, "/status"),
            "request_id": request_id,
            "access_code": code,
        }
        if action in ("cancel", "decline"):  # the page asks first; this is the confirmed answer
            form["confirm"] = "yes"
        return self.client.post(f"/status/{action}", data=form).status_code

    def check_in(self, token: str, document_number: str) -> int:
        csrf = sign_in(self.client, self.world.desk, next_page="desk")
        form = {
            "csrf_token": csrf,
            "token": token,
            "document_number": document_number,
            "birth_date": BIRTH_DATE,
        }
        response = self.client.post("/desk/check-in", data=form)
        assert ("verdict--ok" in response.text) == (response.status_code == 200), response.text
        return response.status_code  # a refusal answers with the API's status, its reason in the page


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


@pytest.fixture
def faces(world: World, runtime: Runtime) -> Iterator[tuple[Api, Web]]:
    with TestClient(create_app(runtime)) as browser:
        browser.get("/")
        yield Api(world), Web(world, browser)


def written(runtime: Runtime, request_id: str) -> dict[str, Any]:
    """What the database holds about one request, without what differs from person to person."""
    with session_scope(runtime.engine) as session:
        request = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        offers = session.exec(select(Offer).where(Offer.request_id == request_id)).all()
        bookings = session.exec(select(Booking).where(Booking.request_id == request_id)).all()
        subjects = (
            [f"request:{request_id}"]
            + [f"booking:{b.id}" for b in bookings]
            + [f"slot:{o.slot_id}" for o in offers]
        )
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.subject).in_(subjects)).order_by(col(AuditEvent.id))
        ).all()
        outbox = session.exec(select(OutboxMessage).where(OutboxMessage.request_id == request_id)).all()
        return {
            "request": {
                "status": request.status,
                "offices": request.offices,
                "family_name": (request.family_name or "").split(" ")[0],  # the person's own suffix aside
                "given_names": request.given_names,
                "permit_expires_on": request.permit_expires_on,
                "vulnerabilities": request.vulnerabilities,
                "availability": request.availability,
                "language": request.language,
                "active": request.active_identity_key is not None,
                "submitted_at": request.submitted_at,
                "closed_at": request.closed_at,
            },
            "offers": sorted((o.status, o.decided_at) for o in offers),
            "bookings": sorted((b.status, b.checked_in_at, b.cancelled_at) for b in bookings),
            "audit": [(e.action, e.subject.split(":")[0], e.actor) for e in events],
            "outbox": sorted((m.kind, m.language, m.status) for m in outbox),
        }


def _offered(world: World, api: Api, count: int) -> list[tuple[str, str]]:
    """``count`` applicants (filed through the API), drawn: each holds an open offer."""
    people = [api.submit(_person(n)) for n in range(count)]
    world.release(slots=count)
    assert isinstance(world.runtime.clock, FrozenClock)
    world.runtime.clock.advance(timedelta(hours=1))
    assert scheduler.tick(world.runtime).draws
    return people


def _booked(world: World, api: Api, count: int) -> list[tuple[str, str, str]]:
    """``count`` applicants holding a booking; each with its booking token."""
    booked = []
    for request_id, code in _offered(world, api, count):
        answer = world.client.post(f"/api/v1/requests/{request_id}/accept", headers=auth(code))
        assert answer.status_code == 200, answer.text
        booked.append((request_id, code, answer.json()["booking"]["token"]))
    return booked


def test_an_intake_writes_the_same_request_through_the_form_as_through_the_api(
    runtime: Runtime, faces: tuple[Api, Web]
) -> None:
    api, web = faces
    by_api, _code = api.submit(_person(1))
    by_web, _code = web.submit(_person(2))

    assert written(runtime, by_api) == written(runtime, by_web)
    rows = written(runtime, by_web)
    assert rows["request"]["status"] == "pending"
    assert rows["request"]["active"]
    assert rows["request"]["submitted_at"] == runtime.clock.now()


@pytest.mark.parametrize(
    ("action", "offer", "status", "audit"),
    [
        ("accept", "accepted", "booked", []),
        ("decline", "declined", "pending", ["offer.declined"]),
        ("cancel", "declined", "withdrawn", []),
    ],
)
def test_answering_an_offer_writes_the_same_rows_on_both_faces(
    world: World,
    runtime: Runtime,
    faces: tuple[Api, Web],
    action: str,
    offer: str,
    status: str,
    audit: list[str],
) -> None:
    api, web = faces
    (api_id, api_code), (web_id, web_code) = _offered(world, api, 2)

    assert api.act(action, api_id, api_code) == web.act(action, web_id, web_code) == 200

    assert written(runtime, api_id) == written(runtime, web_id)
    rows = written(runtime, web_id)
    assert rows["request"]["status"] == status
    assert [s for s, _at in rows["offers"]] == [offer]
    assert set(audit) <= {a for a, _subject, _actor in rows["audit"]}


def test_cancelling_a_booking_writes_the_same_rows_on_both_faces(
    world: World, runtime: Runtime, faces: tuple[Api, Web]
) -> None:
    api, web = faces
    (api_id, api_code, _t), (web_id, web_code, _t2) = _booked(world, api, 2)

    assert api.act("cancel", api_id, api_code) == web.act("cancel", web_id, web_code) == 200

    assert written(runtime, api_id) == written(runtime, web_id)
    rows = written(runtime, web_id)
    assert rows["request"]["status"] == "cancelled"
    assert [b[0] for b in rows["bookings"]] == ["cancelled"]
    assert "slot.returned" in {a for a, _subject, _actor in rows["audit"]}


def test_an_admitted_check_in_writes_the_same_rows_at_both_desks(
    world: World, runtime: Runtime, faces: tuple[Api, Web]
) -> None:
    api, web = faces
    (api_id, _c, api_token), (web_id, _c2, web_token) = _booked(world, api, 2)

    assert api.check_in(api_token, _person(0)["document_number"]) == 200
    assert web.check_in(web_token, _person(1)["document_number"]) == 200

    assert written(runtime, api_id) == written(runtime, web_id)
    rows = written(runtime, web_id)
    assert rows["request"]["status"] == "attended"
    assert ("booking.checked_in", "booking", f"staff:{_desk_id(runtime, world)}") in rows["audit"]


def test_a_transferred_token_refused_at_the_web_desk_is_on_record_as_at_the_api(
    world: World, runtime: Runtime, faces: tuple[Api, Web]
) -> None:
    api, web = faces
    (api_id, _c, api_token), (web_id, _c2, web_token) = _booked(world, api, 2)
    buyer = "BUYER0001"

    assert api.check_in(api_token, buyer) == web.check_in(web_token, buyer) == 403

    assert written(runtime, api_id) == written(runtime, web_id)
    rows = written(runtime, web_id)
    assert ("checkin.refused", "booking", f"staff:{_desk_id(runtime, world)}") in rows["audit"]
    assert [b[0] for b in rows["bookings"]] == ["booked"]


def _desk_id(runtime: Runtime, world: World) -> int:
    with session_scope(runtime.engine) as session:
        return staff_keys.authenticate(session, world.desk).key_id
