"""A world whose office and service carry practical information, and the steps of an applicant's journey."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World, auth, create_key, create_office, create_service

ADDRESS = "12 rue de Lutèce, 75004 Paris"
PHONE = "+33142764040"
ACCESS = "Entrée B, accès de plain-pied"
DOCUMENTS = {"fr": ["Passeport", "Justificatif de domicile"], "en": ["Passport", "Proof of address"]}


class JourneyWorld(World):
    """An office with an address, a phone and access notes, and a service with papers to bring."""

    def __init__(self, client: TestClient, runtime: Runtime, **policy: Any) -> None:
        self.client = client
        self.runtime = runtime
        self.admin = create_key(runtime, "admin")
        self.office = create_office(client, self.admin, address=ADDRESS, phone=PHONE, access_notes=ACCESS)[
            "code"
        ]
        self.service = create_service(client, self.admin, documents=DOCUMENTS, weight_policy=policy)["code"]
        self.planner = create_key(runtime, "planner", [self.office])
        self.desk = create_key(runtime, "desk", [self.office])

    def drawn(
        self, clock: Any, applicants: int = 1, slots: int = 1, **overrides: Any
    ) -> list[dict[str, Any]]:
        """``applicants`` pending requests, a release of ``slots`` slots, drawn by the scheduler."""
        people = [self.applicant(**overrides) for _ in range(applicants)]
        self.release(slots=slots)
        clock.advance(timedelta(hours=1))
        assert len(scheduler.tick(self.runtime).draws) == 1
        return people

    def act(self, applicant: dict[str, Any], action: str, **kwargs: Any) -> Any:
        """POST an applicant's action with its access code."""
        return self.client.post(
            f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"]), **kwargs
        )

    def view(self, applicant: dict[str, Any]) -> dict[str, Any]:
        """The request as its applicant sees it."""
        response = self.client.get(
            f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"])
        )
        assert response.status_code == 200, response.text
        return response.json()


def outbox_of(runtime: Runtime, request_id: str, kind: str | None = None) -> list[OutboxMessage]:
    """The request's queued messages (of one kind), oldest first."""
    with session_scope(runtime.engine) as session:
        query = select(OutboxMessage).where(OutboxMessage.request_id == request_id)
        if kind is not None:
            query = query.where(OutboxMessage.kind == kind)
        rows = session.exec(query.order_by(col(OutboxMessage.id))).all()
        for row in rows:
            session.expunge(row)
        return list(rows)
