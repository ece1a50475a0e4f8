"""How each scheduler job claims its next piece of work, written once.

Workers run side by side; each claims rows with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite, which has no
row locks, serialises writers with ``BEGIN IMMEDIATE`` instead), so a row another worker or an applicant
holds is skipped, never waited for, and each piece of work happens once.

A job about one request (an offer to expire or to remind, a booking to mark as a no-show) takes its locks in
the order every change takes them: the request row first, then its offer or booking.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from app.db.models import AppointmentRequest
from app.services.requests import repository

Row = TypeVar("Row", bound=SQLModel)


def claim_rows(session: Session, query: SelectOfScalar[Row], limit: int) -> Sequence[Row]:
    """Up to ``limit`` rows of ``query`` that no other worker holds, locked (``KEY SHARE``: others may still
    insert rows that reference them)."""
    return session.exec(query.limit(limit).with_for_update(skip_locked=True, key_share=True)).all()


def claim_for_request(
    session: Session, model: type[Row], query: Select[Any, str]
) -> tuple[Row, AppointmentRequest] | None:
    """The first ``(row id, request id)`` of ``query`` whose request no other worker holds, then the request
    and the row locked in that order and re-read; ``None`` when there is no such work."""
    found: tuple[Any, str] | None = session.exec(
        query.limit(1).with_for_update(skip_locked=True, of=AppointmentRequest)
    ).first()
    if found is None:
        return None
    row_id, request_id = found
    request = repository.lock_request(session, request_id)
    row = session.exec(
        select(model).where(model.id == row_id).with_for_update(key_share=True)  # type: ignore[attr-defined]
    ).one()
    session.refresh(row)
    return row, request
