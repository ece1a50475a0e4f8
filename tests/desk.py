"""The desk's day in tests: people booked on one day at the world's office, and the desk's calls about them.

A world's releases put their slots two days after the frozen start, from 09:00 Paris time, one an hour: so
``DAY`` holds every booking ``book`` makes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.services import scheduler
from tests.factories import World, auth, named_for, request_body

BIRTH = "1984-03-21"
DAY = date(2026, 12, 3)
TODAY = date(2026, 12, 1)


def identity(document: str, family: str | None = None, given: str = "Samir") -> dict[str, str]:
    """An identity of its own (one person, one chance): the family name is told apart by the document
    unless one is given."""
    return {
        "document_type": "residence_permit",
        "document_number": document,
        "family_name": family if family is not None else named_for("Haddad", document),
        "given_names": given,
        "birth_date": BIRTH,
    }


def urgent() -> dict[str, Any]:
    """Declarations that raise a weight: a permit expiring within ten days, and a pregnancy."""
    return {"permit_expires_on": (TODAY + timedelta(days=10)).isoformat(), "vulnerabilities": ["pregnancy"]}


def book(world: World, people: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each person (``{"document", "family"?, ...declarations}``) files a request; one release of as many
    slots is drawn and each accepts. Returns each booking (``id``, ``token``, ``starts_at``…) with its
    ``request`` and ``document``, in the order of the people."""
    filed = []
    for person in people:
        extra = dict(person)
        document = extra.pop("document")
        family = extra.pop("family", None)
        body = request_body(world.service, [world.office], identity=identity(document, family), **extra)
        response = world.client.post("/api/v1/requests", json=body)
        assert response.status_code == 201, response.text
        filed.append((document, response.json()))
    world.release(slots=len(people))
    clock = world.runtime.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    booked = []
    for document, request in filed:
        accepted = world.client.post(
            f"/api/v1/requests/{request['id']}/accept", headers=auth(request["access_code"])
        )
        assert accepted.status_code == 200, accepted.text
        booked.append({**accepted.json()["booking"], "request": request, "document": document})
    return booked


def day_list(client: TestClient, key: str | None, office: str, **params: str) -> Any:
    """``GET /api/v1/offices/{office}/bookings`` with ``params`` (``date`` defaults to ``DAY``)."""
    query = {"date": DAY.isoformat(), **params}
    return client.get(f"/api/v1/offices/{office}/bookings", params=query, headers=auth(key) if key else {})


def attend(client: TestClient, key: str | None, booking: dict[str, Any], **body: Any) -> Any:
    """``POST /api/v1/bookings/{id}/attendance``: the holder's own document unless ``body`` says otherwise."""
    sent = {"outcome": "attended", "document_number": booking["document"], "birth_date": BIRTH, **body}
    sent = {name: value for name, value in sent.items() if value is not None}
    return client.post(
        f"/api/v1/bookings/{booking['id']}/attendance", json=sent, headers=auth(key) if key else {}
    )


def scan(client: TestClient, key: str, booking: dict[str, Any], **body: Any) -> Any:
    """``POST /api/v1/check-ins`` with the booking's token: the holder's own document unless told."""
    sent = {"token": booking["token"], "document_number": booking["document"], "birth_date": BIRTH, **body}
    return client.post("/api/v1/check-ins", json=sent, headers=auth(key))


def started(booking: dict[str, Any]) -> datetime:
    """The start of a booking's slot."""
    return datetime.fromisoformat(booking["starts_at"])
