"""Plain helpers of the planning tests: a schedule, a published week, a closure, a rule, through the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import OutboxMessage, Release, Slot
from app.runtime import Runtime
from tests.factories import auth

#: Monday to Friday, 09:00-12:00 and 13:30-16:00, at ``desks`` desks.
WEEKDAYS = [1, 2, 3, 4, 5]


def office_hours(desks: int = 2, days: list[int] | None = None) -> list[dict[str, Any]]:
    """A plain week: mornings and afternoons on ``days`` (Monday to Friday by default)."""
    return [
        line
        for day in (days or WEEKDAYS)
        for line in (
            {"weekday": day, "opens": "09:00", "closes": "12:00", "desks": desks},
            {"weekday": day, "opens": "13:30", "closes": "16:00", "desks": desks},
        )
    ]


def put_schedule(
    client: TestClient, key: str, office: str, service: str, weekly: list[dict[str, Any]]
) -> dict[str, Any]:
    """Replace the schedule; returns it."""
    response = client.put(
        f"/api/v1/offices/{office}/schedules/{service}", json={"weekly": weekly}, headers=auth(key)
    )
    assert response.status_code == 200, response.text
    return response.json()


def publish(
    client: TestClient, key: str, office: str, service: str, week: str, draw_at: datetime, **extra: Any
) -> Any:
    """Publish a week (the raw response)."""
    return client.post(
        f"/api/v1/offices/{office}/schedules/{service}/publish",
        json={"week": week, "draw_at": draw_at.isoformat(), **extra},
        headers=auth(key),
    )


def close(client: TestClient, key: str, office: str, **body: Any) -> Any:
    """Close days (the raw response)."""
    return client.post(f"/api/v1/offices/{office}/closures", json=body, headers=auth(key))


def slot_starts(runtime: Runtime, release_id: int, *, open_only: bool = True) -> list[datetime]:
    """The start times of a release's slots (one per desk), in order."""
    with session_scope(runtime.engine) as session:
        query = select(Slot.starts_at).where(Slot.release_id == release_id)
        if open_only:
            query = query.where(col(Slot.closed_at).is_(None))
        return sorted(session.exec(query).all())


def release_row(runtime: Runtime, release_id: int) -> Release:
    """A release as stored."""
    with session_scope(runtime.engine) as session:
        found = session.get(Release, release_id)
        assert found is not None
        session.expunge(found)
        return found


def messages_of(runtime: Runtime, request_id: str) -> list[str]:
    """The kinds of the messages queued for a request, in order."""
    with session_scope(runtime.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage.kind)
                .where(OutboxMessage.request_id == request_id)
                .order_by(col(OutboxMessage.id))
            ).all()
        )
