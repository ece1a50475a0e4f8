"""Applicant intake: one identity, one active request per service, bound to a keyed identity digest.

One person, one chance: intake also derives the person key (names and birth date, normalised) and a
verified active request holds it (``active_person_key``, unique per service), so the same person with a
second document answers ``409 duplicate_person``; an agent who has seen both documents files a real
homonym with ``distinct_person`` (then the new request holds no person key). An identity or person excluded
after a refuted claim answers ``409 identity_excluded`` until the exclusion ends.

The document number is normalised and turned into ``HMAC-SHA256(pepper, number | birth_date)`` before
anything is stored or logged; the clear number never leaves this function. The unique constraint on
``(service_id, active_identity_key)`` is what stops concurrent duplicates: the check is the database's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, text
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, DrawEntry, NoShow, Service
from app.domain.errors import DuplicatePerson, DuplicateRequest, InvalidInput, NotFound
from app.domain.identity import identity_key, person_key
from app.domain.weights import Weight, compute_weight
from app.schemas.requests import RequestCreate
from app.services import audit, catalog, claims

ACTIVE_STATUSES = ("pending", "offered", "booked")
ACCESS_CODE_BYTES = 24  # 192 random bits
_ENTRY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk


def new_entry() -> str:
    """A public, opaque reference for draw records (no personal data), e.g. ``FS-7KQ3M-2XDPA``."""
    # 32 symbols: each random byte's low five bits pick one without bias (256 is a multiple of 32).
    chars = "".join(_ENTRY_ALPHABET[b & 31] for b in secrets.token_bytes(10))
    return f"FS-{chars[:5]}-{chars[5:]}"


def hash_access_code(code: str) -> str:
    """The stored form of an access code (SHA-256: codes carry 192 random bits)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def prepare_request(
    *, data: RequestCreate, service: Service, pepper: bytes, now: datetime, distinct_person: bool = False
) -> tuple[AppointmentRequest, str]:
    """A new pending request (not yet stored) and its access code; the document number goes no further."""
    values, access_code = prepare_values(
        data=data, service=service, pepper=pepper, now=now, distinct_person=distinct_person
    )
    return AppointmentRequest(**values), access_code


def prepare_values(
    *, data: RequestCreate, service: Service, pepper: bytes, now: datetime, distinct_person: bool = False
) -> tuple[dict[str, Any], str]:
    """The column values of a new pending request and its access code (no ORM object: intake's hot path).

    ``distinct_person`` (an agent's override, already authorised by the caller): the request holds no
    person key, so it neither blocks nor is blocked by a homonym.
    """
    identity = data.identity
    key = identity_key(pepper, identity.document_number, identity.birth_date)
    person = person_key(pepper, identity.family_name, identity.given_names, identity.birth_date)
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
        "person_key": person,
        "active_person_key": None,
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
    }
    if not distinct_person and claims.is_verified(values):
        values["active_person_key"] = person
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
DUPLICATE_PERSON_DETAIL = (
    "a person with the same names and birth date already has an active request for this service under "
    "another document: one person, one chance. If you are a different person who shares these names and "
    "this birth date, go to an office counter with your document: an agent can file your request."
)


def submit_request(
    *,
    session: Session,
    data: RequestCreate,
    pepper: bytes,
    now: datetime,
    actor: str = "applicant",
    distinct_person: bool = False,
) -> tuple[AppointmentRequest, str]:
    """Store a new pending request; returns it and its access code (shown once, stored hashed).

    ``distinct_person`` must already be authorised (an agent's override); ``actor`` is who files it.
    """
    service = check_catalogue(session, data)
    assert service.id is not None
    request, access_code = prepare_request(
        data=data, service=service, pepper=pepper, now=now, distinct_person=distinct_person
    )
    claims.refuse_if_excluded(session, service.id, now.date(), request.identity_key, request.person_key)
    if request.active_person_key is not None:
        holder = session.exec(
            select(AppointmentRequest.identity_key).where(
                AppointmentRequest.service_id == service.id,
                AppointmentRequest.active_person_key == request.active_person_key,
            )
        ).first()
        if holder is not None and holder != request.identity_key:
            raise DuplicatePerson(DUPLICATE_PERSON_DETAIL)
    session.add(request)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateRequest(DUPLICATE_DETAIL) from exc
    claims.add_for_request(session, request)
    audit.log(
        session,
        action="request.submitted",
        subject=f"request:{request.id}",
        actor=actor,
        entry=request.entry,
        service=service.code,
        **({"distinct_person": True} if distinct_person else {}),
    )
    return request, access_code


def authenticate(session: Session, request_id: str, access_code: str | None) -> AppointmentRequest:
    """The request if ``access_code`` opens it; 404 otherwise (never 403: ids are not confirmed)."""
    request = by_id(session, request_id) if looks_like_uuid(request_id) else None
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
    session: Session,
    request: AppointmentRequest,
    service: Service,
    on: date,
    *,
    lost: int | None = None,
    statuses: dict[str, str] | None = None,
) -> Weight:
    """A request's weight as of ``on``, with its factors (``lost``: draws lost, when already known).

    The same rules as the draw's: claims count as their status and the service's policy allow.
    """
    assert service.id is not None
    if statuses is None:
        statuses = claims.statuses(claims.of_request(session, request.seq))
    strict = claims.standing(session, service.id, on, request.identity_key, request.person_key)
    return compute_weight(
        policy=catalog.policy_of(service),
        on=on,
        permit_expires_on=request.permit_expires_on,
        vulnerabilities=request.vulnerabilities,
        draws_lost=draws_lost(session, request) if lost is None else lost,
        last_no_show_on=last_no_show(session, request.identity_key, service.id),
        claims=statuses,
        strict_vulnerability=strict.vulnerability_strict,
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
    request.active_person_key = None
    request.closed_at = now
    request.updated_at = now


def lists_office(session: Session, code: str, *, name: str = "office_code") -> Any:
    """SQL: the request's ``offices`` JSON list contains ``code`` (bound as ``name``)."""
    if session.get_bind().dialect.name == "postgresql":
        sql = f"CAST(appointment_request.offices AS jsonb) ? :{name}"
    else:
        sql = f"EXISTS (SELECT 1 FROM json_each(appointment_request.offices) WHERE json_each.value = :{name})"  # noqa: S608 - the name is ours
    return text(sql).bindparams(**{name: code})  # only the parameter's name is formatted in


def looks_like_uuid(value: str) -> bool:
    """Whether ``value`` has the form of a request id (cheap refusal before any query)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
