"""Plain factory functions: each creates one thing through the API and returns its JSON."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.db.engine import session_scope
from app.runtime import Runtime
from app.schemas.staff import StaffKeyCreate
from app.services.staff import keys as staff_keys

_counter = itertools.count(1)


def auth(key: str) -> dict[str, str]:
    """The Authorization header for a staff key or an access code."""
    return {"Authorization": f"Bearer {key}"}


def create_key(runtime: Runtime, role: str = "admin", offices: list[str] | None = None) -> str:
    """A staff key created directly (as ``fairslot admin create-key`` does)."""
    with session_scope(runtime.engine) as session:
        _row, key = staff_keys.create_key(
            session=session,
            data=StaffKeyCreate(role=role, offices=offices or [], label="test"),
            staff=staff_keys.operator("test"),
        )
    return key


def create_office(client: TestClient, admin: str, **overrides: Any) -> dict[str, Any]:
    """An office (Europe/Paris unless told otherwise)."""
    body = {
        "code": f"office-{next(_counter)}",
        "name": "Test office",
        "timezone": "Europe/Paris",
        **overrides,
    }
    response = client.post("/api/v1/offices", json=body, headers=auth(admin))
    assert response.status_code == 201, response.text
    return response.json()


def create_service(client: TestClient, admin: str, **overrides: Any) -> dict[str, Any]:
    """A service with 30-minute slots, drawing v1 (``beacon: "none"``) and asking no entry verification
    (``entry_verification: "none"``) unless its policy says otherwise: the tests of verified entries ask
    for ``"phone"`` explicitly."""
    policy = {
        "beacon": "none",
        "entry_verification": "none",
        **(overrides.pop("weight_policy", None) or {}),
    }
    body = {
        "code": f"service-{next(_counter)}",
        "name": "Test service",
        "slot_minutes": 30,
        "weight_policy": policy,
        **overrides,
    }
    response = client.post("/api/v1/services", json=body, headers=auth(admin))
    assert response.status_code == 201, response.text
    return response.json()


def slot_times(first: datetime, count: int, step: timedelta = timedelta(hours=1)) -> list[str]:
    """``count`` start times from ``first``, ``step`` apart, as RFC 3339 strings."""
    return [(first + i * step).isoformat() for i in range(count)]


def create_release(
    client: TestClient,
    planner: str,
    *,
    office: str,
    service: str,
    now: datetime,
    slots: int = 3,
    desks: int = 1,
    draw_in: timedelta = timedelta(hours=1),
    **overrides: Any,
) -> dict[str, Any]:
    """A release drawn ``draw_in`` from ``now`` with slots starting two days later, one hour apart."""
    first = (now + timedelta(days=2)).astimezone(UTC)
    body = {
        "office": office,
        "service": service,
        "draw_at": (now + draw_in).isoformat(),
        "slots": [{"starts_at": t, "desks": desks} for t in slot_times(first, slots)],
        **overrides,
    }
    response = client.post("/api/v1/releases", json=body, headers=auth(planner))
    assert response.status_code == 201, response.text
    return response.json()


def person_suffix(n: int) -> str:
    """Letters naming applicant ``n`` apart (one person, one chance: each number is another person)."""
    letters = ""
    while n:
        n, digit = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[digit]
    return letters


def named_for(family_name: str, document: str) -> str:
    """A family name told apart by ``document`` (tests that file several documents mean several people)."""
    letters = "".join(
        ch if ch.isalpha() else "abcdefghij"[int(ch)] for ch in document.lower() if ch.isalnum()
    )
    return f"{family_name} {letters}"


def request_body(service: str, offices: list[str], n: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid intake body for applicant number ``n`` (number 0 is plain "Diallo")."""
    n = next(_counter) if n is None else n
    body: dict[str, Any] = {
        "service": service,
        "offices": offices,
        "identity": {
            "document_type": "passport",
            "document_number": f"P{n:08d}",
            "family_name": f"Diallo {person_suffix(n)}".strip(),
            "given_names": "Aïcha",
            "birth_date": "1990-04-12",
        },
        "contact": {"email": f"applicant{n}@example.org"},
        "language": "fr",
    }
    body.update(overrides)
    return body


def submit_request(client: TestClient, service: str, offices: list[str], **overrides: Any) -> dict[str, Any]:
    """A pending request; the answer includes its access code."""
    response = client.post("/api/v1/requests", json=request_body(service, offices, **overrides))
    assert response.status_code == 201, response.text
    return response.json()


def days_from(today: date, days: int) -> str:
    """An ISO date ``days`` after ``today``."""
    return (today + timedelta(days=days)).isoformat()


class World:
    """An office, a service, an admin and a planner: what most API tests start from."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self.admin = create_key(runtime, "admin")
        self.office = create_office(client, self.admin)["code"]
        self.service = create_service(client, self.admin)["code"]
        self.planner = create_key(runtime, "planner", [self.office])
        self.desk = create_key(runtime, "desk", [self.office])

    @property
    def now(self) -> datetime:
        """The frozen test time."""
        return self.runtime.clock.now()

    def release(self, **overrides: Any) -> dict[str, Any]:
        """A release of this world's office and service."""
        return create_release(
            self.client, self.planner, office=self.office, service=self.service, now=self.now, **overrides
        )

    def applicant(self, **overrides: Any) -> dict[str, Any]:
        """A pending request for this world's service at its office."""
        return submit_request(self.client, self.service, [self.office], **overrides)
