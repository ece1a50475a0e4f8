"""Helpers of the verified-entries tests: a phone-policy world, and the code as only its SMS carries it."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, OutboxMessage
from app.domain import verification
from app.runtime import Runtime
from app.services.messages import outbox
from tests.factories import World, auth, create_service, request_body

MOBILE = "+33612345678"


def phone_world(client: Any, runtime: Runtime, **policy: Any) -> World:
    """A world whose service asks for a code by SMS (``entry_verification: "phone"``)."""
    world = World(client, runtime)
    world.service = create_service(
        client, world.admin, weight_policy={"entry_verification": "phone", **policy}
    )["code"]
    return world


def texting(world: World, n: int | None = None, phone: str = MOBILE, **overrides: Any) -> dict[str, Any]:
    """An online request with a French mobile number (unverified under the phone policy)."""
    body = request_body(world.service, [world.office], n, contact={"phone": phone}, **overrides)
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def request_row(runtime: Runtime, request_id: str) -> AppointmentRequest:
    """The stored request, detached (its verification columns as the database holds them)."""
    with session_scope(runtime.engine) as session:
        row = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        session.expunge(row)
        return row


def sealed_code(runtime: Runtime, request_id: str) -> str:
    """The last code queued for ``request_id``, opened as the sending worker opens it (the test holds the
    server secret; nothing else in the system reads a code back)."""
    with session_scope(runtime.engine) as session:
        row = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.request_id == request_id, OutboxMessage.kind == outbox.CODE_KIND)
            .order_by(col(OutboxMessage.id).desc())
        ).first()
        assert row is not None, "no code was queued"
        return verification.open_code(runtime.secret, row.context[outbox.SEALED], request_id)


def ask_code(world: World, request: dict[str, Any]) -> Any:
    """``POST /phone-code`` with the request's access code."""
    return world.client.post(
        f"/api/v1/requests/{request['id']}/phone-code", headers=auth(request["access_code"])
    )


def type_code(world: World, request: dict[str, Any], code: str) -> Any:
    """``POST /phone-verification`` with the request's access code."""
    return world.client.post(
        f"/api/v1/requests/{request['id']}/phone-verification",
        json={"code": code},
        headers=auth(request["access_code"]),
    )


def verify(world: World, request: dict[str, Any]) -> dict[str, Any]:
    """Ask for a code and type it back: the request is verified."""
    sent = ask_code(world, request)
    assert sent.status_code == 202, sent.text
    response = type_code(world, request, sealed_code(world.runtime, request["id"]))
    assert response.status_code == 200, response.text
    return response.json()


def wrong(code: str) -> str:
    """Another 6-digit code."""
    return f"{(int(code) + 1) % 1_000_000:06d}"
