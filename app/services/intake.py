"""Applicant intake: one identity, one active request per service, bound to a keyed identity digest.

The document number is normalised and turned into ``HMAC-SHA256(pepper, number | birth_date)`` before
anything is stored or logged; the clear number never leaves this function. The unique constraint on
``(service_id, active_identity_key)`` is what stops concurrent duplicates: the check is the database's.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db.models import AppointmentRequest, Service
from app.domain.errors import DuplicateRequest, InvalidInput
from app.domain.identity import identity_key
from app.domain.statuses import RequestStatus
from app.schemas.requests import RequestCreate
from app.services import audit, catalog
from app.services.requests import hash_access_code

ACCESS_CODE_BYTES = 24  # 192 random bits
_ENTRY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk


def new_entry() -> str:
    """A public, opaque reference for draw records (no personal data), e.g. ``FS-7KQ3M-2XDPA``."""
    # 32 symbols: each random byte's low five bits pick one without bias (256 is a multiple of 32).
    chars = "".join(_ENTRY_ALPHABET[b & 31] for b in secrets.token_bytes(10))
    return f"FS-{chars[:5]}-{chars[5:]}"


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
    access_code = secrets.token_urlsafe(ACCESS_CODE_BYTES)
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
        "status": RequestStatus.PENDING.value,
        "closed_at": None,
        "purged_at": None,
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
    *, session: Session, data: RequestCreate, pepper: bytes, now: datetime
) -> tuple[AppointmentRequest, str]:
    """Store a new pending request; returns it and its access code (shown once, stored hashed)."""
    service = check_catalogue(session, data)
    request, access_code = prepare_request(data=data, service=service, pepper=pepper, now=now)
    session.add(request)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateRequest(DUPLICATE_DETAIL) from exc
    audit.log(
        session,
        action="request.submitted",
        subject=f"request:{request.id}",
        actor="applicant",
        entry=request.entry,
        service=service.code,
    )
    return request, access_code
