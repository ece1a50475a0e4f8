"""The request repository and lifecycle: look a request up, open it with its access code, lock it, weigh it,
close it.

Every change to a request starts with ``lock_request`` (request row first, then its offer or booking, then
the slot, then a release: one lock order everywhere). A closed request frees its identity for a new one.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import date, datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, DrawEntry, NoShow, Service
from app.domain import lottery
from app.domain.errors import NotFound
from app.domain.weights import Weight, compute_weight
from app.services import catalog


def hash_access_code(code: str) -> str:
    """The stored form of an access code (SHA-256: codes carry 192 random bits)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def authenticate(session: Session, request_id: str, access_code: str | None) -> AppointmentRequest:
    """The request if ``access_code`` opens it; 404 otherwise (never 403: ids are not confirmed)."""
    request = by_id(session, request_id) if _looks_like_uuid(request_id) else None
    if request is None or not access_code:
        raise NotFound("no such request")
    if not hmac.compare_digest(request.access_code_hash, hash_access_code(access_code)):
        raise NotFound("no such request")
    return request


def by_id(session: Session, request_id: str) -> AppointmentRequest | None:
    """The request with public id ``request_id``."""
    return session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).first()


def lock_request(session: Session, request_id: str) -> AppointmentRequest:
    """Re-read a request with a row lock (``FOR UPDATE`` on PostgreSQL), the first lock of every change.

    A full ``FOR UPDATE``, not ``NO KEY UPDATE``: closing a request clears its unique identity key, which
    needs the full lock; taking it up front (instead of upgrading later) means waiting *before* holding
    anything, e.g. for a draw that is offering this request a slot, so the two never deadlock.
    """
    request = session.exec(
        select(AppointmentRequest).where(AppointmentRequest.id == request_id).with_for_update()
    ).one()
    session.refresh(request)
    return request


def current_weight(
    session: Session, request: AppointmentRequest, service: Service, on: date, *, lost: int | None = None
) -> Weight:
    """A request's weight as of ``on``, with its factors (``lost``: draws lost, when already known)."""
    return compute_weight(
        policy=catalog.policy_of(service),
        on=on,
        permit_expires_on=request.permit_expires_on,
        vulnerabilities=request.vulnerabilities,
        draws_lost=draws_lost(session, request) if lost is None else lost,
        last_no_show_on=last_no_show(session, request.identity_key, service.id),  # type: ignore[arg-type]
    )


def draws_lost(session: Session, request: AppointmentRequest) -> int:
    """How many draws the request entered and did not win (its waiting factor)."""
    lost: int = session.execute(
        sa_select(func.count()).where(
            col(DrawEntry.request_seq) == request.seq, col(DrawEntry.outcome) != lottery.OFFERED
        )
    ).scalar_one()
    return lost


def last_no_show(session: Session, identity: str, service_id: int) -> date | None:
    """The latest missed appointment of an identity for a service, if any."""
    missed: date | None = session.execute(
        sa_select(func.max(NoShow.missed_on)).where(
            col(NoShow.identity_key) == identity, col(NoShow.service_id) == service_id
        )
    ).scalar()
    return missed


def close(request: AppointmentRequest, status: str, now: datetime) -> None:
    """Move a request to a closed status, which frees its identity for a new request."""
    request.status = status
    request.active_identity_key = None
    request.closed_at = now
    request.updated_at = now


def _looks_like_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
