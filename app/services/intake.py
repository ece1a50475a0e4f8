"""Applicant intake: one identity, one active request per service, bound to a keyed identity digest.

The document number is normalised and turned into ``HMAC-SHA256(pepper, number | birth_date)`` before
anything is stored or logged; the clear number never leaves this function. The unique constraint on
``(service_id, active_identity_key)`` is what stops concurrent duplicates: the check is the database's.
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, DrawEntry, NoShow, Service
from app.domain import access_codes
from app.domain.errors import DuplicateRequest, InvalidInput, NotFound
from app.domain.identity import identity_key
from app.domain.weights import Weight, compute_weight
from app.schemas.requests import RequestCreate
from app.services import audit, catalog
from app.services.staff_keys import StaffPrincipal

ACTIVE_STATUSES = ("pending", "offered", "booked")
_ENTRY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk


def new_entry() -> str:
    """A public, opaque reference for draw records (no personal data), e.g. ``FS-7KQ3M-2XDPA``."""
    # 32 symbols: each random byte's low five bits pick one without bias (256 is a multiple of 32).
    chars = "".join(_ENTRY_ALPHABET[b & 31] for b in secrets.token_bytes(10))
    return f"FS-{chars[:5]}-{chars[5:]}"


def hash_access_code(code: str) -> str:
    """The stored form of an access code just issued (see ``app.domain.access_codes``)."""
    return access_codes.stored_hash(code)


def prepare_request(
    *, data: RequestCreate, service: Service, pepper: bytes, now: datetime
) -> tuple[AppointmentRequest, str]:
    """A new pending request (not yet stored) and its access code; the document number goes no further."""
    values, access_code = prepare_values(data=data, service=service, pepper=pepper, now=now)
    return AppointmentRequest(**values), access_code


def prepare_values(
    *, data: RequestCreate, service: Service, pepper: bytes, now: datetime
) -> tuple[dict[str, Any], str]:
    """The column values of a new pending request and its access code (no ORM object: intake's hot path)."""
    key = identity_key(pepper, data.identity.document_number, data.identity.birth_date)
    access_code = access_codes.new_access_code()
    availability = data.availability.model_dump(mode="json") if data.availability else None
    if availability and not any(v is not None for v in availability.values()):
        availability = None
    contact = data.contact
    values = {
        "id": str(uuid.uuid4()),
        "entry": new_entry(),
        "service_id": service.id,
        "offices": list(data.offices),
        "identity_key": key,
        "active_identity_key": key,
        "family_name": data.identity.family_name,
        "given_names": data.identity.given_names,
        "permit_expires_on": data.permit_expires_on,
        "vulnerabilities": list(data.vulnerabilities),
        "availability": availability,
        "email": str(contact.email) if contact and contact.email else None,
        "phone": contact.phone if contact else None,
        "language": data.language,
        "access_code_hash": hash_access_code(access_code),
        "submitted_at": now,
        "updated_at": now,
        "status": "pending",
        "closed_at": None,
        "purged_at": None,
        "channel": "online",
        "filed_by": None,
    }
    return values, access_code


def check_catalogue(session: Session, data: RequestCreate) -> Service:
    """The requested service, once the service and every office are known (422 naming the field otherwise)."""
    service = catalog.service_by_code(session, data.service)
    unknown = catalog.offices_known(session, data.offices)
    if unknown:
        raise InvalidInput(
            "unknown office in offices",
            errors=[{"path": f"offices.{i}", "message": f"unknown office {code!r}"} for i, code in unknown],
        )
    return service


DUPLICATE_DETAIL = "this identity already has an active request for this service; check it with its access code, or cancel it first"


def submit_request(
    *,
    session: Session,
    data: RequestCreate,
    pepper: bytes,
    now: datetime,
    staff: StaffPrincipal | None = None,
    channel: str = "online",
) -> tuple[AppointmentRequest, str]:
    """Store a new pending request; returns it and its access code (shown once, stored hashed).

    ``staff`` is the agent or partner filing it (``app.services.staff_intake`` checks its scope and sets
    ``channel``); it is recorded as the filer and named in the audit log.
    """
    service = check_catalogue(session, data)
    request, access_code = prepare_request(data=data, service=service, pepper=pepper, now=now)
    request.channel = channel
    request.filed_by = staff.key_id if staff is not None else None
    session.add(request)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateRequest(DUPLICATE_DETAIL) from exc
    audit.log(
        session,
        action="request.submitted",
        subject=f"request:{request.id}",
        actor=staff.actor if staff is not None else "applicant",
        entry=request.entry,
        service=service.code,
        channel=channel,
    )
    return request, access_code


def authenticate(session: Session, request_id: str, access_code: str | None) -> AppointmentRequest:
    """The request if ``access_code`` opens it; 404 otherwise (never 403: ids are not confirmed).

    ``request_id`` is the UUID or the entry reference; the code is matched in any of its typed forms.
    """
    request = by_reference(session, request_id)
    if request is None or not access_code or len(access_code) > 128:
        raise NotFound("no such request")
    matches = [
        hmac.compare_digest(request.access_code_hash, h) for h in access_codes.code_hashes(access_code)
    ]
    if not any(matches):
        raise NotFound("no such request")
    return request


def by_id(session: Session, request_id: str) -> AppointmentRequest | None:
    """The request with public id ``request_id``."""
    return session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).first()


def by_reference(session: Session, reference: str) -> AppointmentRequest | None:
    """The request a person names by its id or its entry reference (``FS-XXXXX-XXXXX``, loosely typed)."""
    reference = reference.strip()
    if _looks_like_uuid(reference):
        return by_id(session, reference)
    entry = access_codes.canonical_entry(reference)
    if entry is None:
        return None
    return session.exec(select(AppointmentRequest).where(AppointmentRequest.entry == entry)).first()


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
            col(DrawEntry.request_seq) == request.seq, col(DrawEntry.outcome) != "offered"
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
