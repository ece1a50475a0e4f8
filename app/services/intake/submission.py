"""Applicant intake: one identity, one active request per service, bound to a keyed identity digest.

One person, one chance: intake also derives the person key (names and birth date, normalised) and a
verified active request holds it (``active_person_key``, unique per service; under the phone policy an
online request is verified once its code is typed back, ``app.services.intake.verification``), so the same
person with a second document answers ``409 duplicate_person``; an agent who has seen both documents
files a real homonym with ``distinct_person`` (then the new request holds no person key). An identity or
person excluded after a refuted claim answers ``409 identity_excluded`` until the exclusion ends.

The document number is normalised and turned into ``HMAC-SHA256(pepper, number | birth_date)`` before
anything is stored or logged; the clear number never leaves this function. The unique constraint on
``(service_id, active_identity_key)`` is what stops concurrent duplicates: the check is the database's.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db.models import AppointmentRequest, Service
from app.domain import access_codes
from app.domain.errors import DuplicateRequest, InvalidInput
from app.domain.identity import folded_name, identity_key, person_key
from app.domain.statuses import RequestStatus
from app.domain.verification import EntryVerification
from app.schemas.requests import RequestCreate
from app.services import audit
from app.services.claims import records
from app.services.intake import verification
from app.services.messages import outbox
from app.services.operations import catalog
from app.services.requests.repository import hash_access_code
from app.services.staff.keys import StaffPrincipal

_ENTRY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a desk


def new_entry() -> str:
    """A public, opaque reference for draw records (no personal data), e.g. ``FS-7KQ3M-2XDPA``."""
    # 32 symbols: each random byte's low five bits pick one without bias (256 is a multiple of 32).
    chars = "".join(_ENTRY_ALPHABET[b & 31] for b in secrets.token_bytes(10))
    return f"FS-{chars[:5]}-{chars[5:]}"


def prepare_values(
    *,
    data: RequestCreate,
    service: Service,
    pepper: bytes,
    now: datetime,
    distinct_person: bool = False,
    channel: str = "online",
    registry_known: bool = False,
) -> tuple[dict[str, Any], str]:
    """The column values of a new pending request and its access code (no ORM object: intake's hot path).

    ``distinct_person`` (an agent's override, already authorised by the caller): the request holds no
    person key, so it neither blocks nor is blocked by a homonym. Under ``entry_verification: "phone"``
    an online request without a French mobile number is refused (``422`` naming ``contact.phone``); an
    online one starts ``unverified`` (``verify_by`` set), a counter or partner one is verified by its channel.
    """
    contact = data.contact
    checked = verification.intake_values(
        policy=catalog.policy_of(service),
        channel=channel,
        phone=contact.phone if contact else None,
        pepper=pepper,
        now=now,
        registry_known=registry_known,
    )
    identity = data.identity
    key = identity_key(pepper, identity.document_number, identity.birth_date)
    person = person_key(pepper, identity.family_name, identity.given_names, identity.birth_date)
    access_code = access_codes.new_access_code()
    availability = data.availability.model_dump(mode="json") if data.availability else None
    if availability and not any(v is not None for v in availability.values()):
        availability = None
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
        "family_name_folded": folded_name(data.identity.family_name),
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
        "channel": channel,
        "filed_by": None,
        **checked,
    }
    if not distinct_person and verification.is_verified(values):
        values["active_person_key"] = person
    return values, access_code


def known_to_registry(
    connection: Connection | Session, data: RequestCreate, service: Service, pepper: bytes, now: datetime
) -> bool:
    """Under ``entry_verification: "registry"``: whether a registry import of one of the request's offices
    holds its identity (verified at once). Other services never look."""
    if catalog.policy_of(service).entry_verification != EntryVerification.REGISTRY:
        return False
    key = identity_key(pepper, data.identity.document_number, data.identity.birth_date)
    return verification.registry_knows(connection, key, list(data.offices), now)


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


#: The 409's message tells the way back: a lost code, or a request someone else filed with this identity.
DUPLICATE_DETAIL = (
    "this identity already has an active request for this service; check it with its access code, or "
    "cancel it first. Lost your access code, or did someone else file in your name? An office agent can, "
    "after seeing your document, give you a new code or withdraw that request"
)
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
    staff: StaffPrincipal | None = None,
    channel: str = "online",
    distinct_person: bool = False,
) -> tuple[AppointmentRequest, str]:
    """Store a new pending request; returns it and its access code (shown once, stored hashed).

    ``staff`` is the agent or partner filing it (``app.services.channels.filing`` checks its scope and sets
    ``channel``); it is recorded as the filer and named in the audit log. ``distinct_person`` must already
    be authorised (an agent's override, ``Action.OVERRIDE_DUPLICATE_PERSON``).
    """
    service = check_catalogue(session, data)
    assert service.id is not None
    values, access_code = prepare_values(
        data=data,
        service=service,
        pepper=pepper,
        now=now,
        distinct_person=distinct_person,
        channel=channel,
        registry_known=known_to_registry(session, data, service, pepper, now),
    )
    request = AppointmentRequest(**values)
    request.filed_by = staff.key_id if staff is not None else None
    records.refuse_if_excluded(session, service.id, now.date(), request.identity_key, request.person_key)
    # Only a verified request holds its person key, and it blocks the same person's new requests under
    # another document, verified or not (an unverified one blocks nobody).
    if request.person_key is not None and not distinct_person:
        verification.refuse_if_person_held(
            session,
            service_id=service.id,
            person_key=request.person_key,
            identity_key=request.identity_key,
            detail=DUPLICATE_PERSON_DETAIL,
        )
    session.add(request)
    try:
        session.flush()
    except IntegrityError as exc:
        raise DuplicateRequest(DUPLICATE_DETAIL) from exc
    records.add_for_request(session, request)
    if request.active_person_key is not None:
        # Verified at intake (by its channel, or nothing to verify): the same person's unverified requests
        # under other documents lapse, the first verified wins.
        verification.lapse_rivals(session, request, now)
    audit.log(
        session,
        action="request.submitted",
        subject=f"request:{request.id}",
        office=request.offices[0] if request.offices else None,
        actor=staff.actor if staff is not None else "applicant",
        entry=request.entry,
        service=service.code,
        channel=channel,
        **({"distinct_person": True} if distinct_person else {}),
    )
    outbox.enqueue(session, request, "request_received", now)
    return request, access_code
