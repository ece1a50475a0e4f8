"""Who may open a request: its applicant (access code), the partner that filed it, an agent for its receipt.

A partner reads and acts on the requests it filed, with its key, as the applicant would with the access
code; the applicant's own code keeps working beside it. Anything else (another partner's request, an
online or counter request, a request that does not exist) answers 404, exactly as a wrong access code does,
and leaves an audit row naming the key: a partner probing for requests shows up in the log. A revoked key
is refused at once (401), since the key row is read on every call.

Partners are scoped per key: the requests a key filed are that key's. An organisation that rotates its key
keeps following older requests through their access codes (or an admin keeps the old key until they close).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Literal

from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Service
from app.domain.access import Action
from app.domain.errors import InvalidInput, NotFound
from app.schemas.partners import PartnerRequestItem, PartnerRequestPage
from app.services import audit
from app.services.requests import repository
from app.services.staff import keys as staff_keys
from app.services.staff.keys import StaffPrincipal

Purpose = Literal["read", "act", "receipt"]
PAGE_SIZE = 50


@dataclass(frozen=True)
class Opened:
    """A request and who opened it (``actor`` as the audit log names them)."""

    request: AppointmentRequest
    actor: str
    staff: StaffPrincipal | None = None


def is_staff_key(credential: str | None) -> bool:
    """Whether a bearer credential is a staff key rather than an access code."""
    return bool(credential) and credential.startswith(staff_keys.KEY_PREFIX)  # type: ignore[union-attr]


def may_open(staff: StaffPrincipal, request: AppointmentRequest, purpose: Purpose) -> bool:
    """Whether ``staff`` reaches ``request`` for ``purpose`` (the access table decides the role)."""
    if staff.can(Action.ACT_FOR_APPLICANT):
        return request.channel == "partner" and request.filed_by == staff.key_id
    if purpose == "receipt" and staff.can(Action.FILE_REQUEST):
        return staff.can(Action.FILE_REQUEST, request.offices[0])
    return False


def open_request(
    session: Session, reference: str, credential: str | None, *, purpose: Purpose = "read"
) -> Opened:
    """The request behind ``reference`` for this credential (access code or staff key), else 404."""
    if not is_staff_key(credential):
        return Opened(repository.authenticate(session, reference, credential), "applicant")
    assert credential is not None
    return open_for_staff(session, staff_keys.authenticate(session, credential), reference, purpose=purpose)


def open_for_staff(
    session: Session, staff: StaffPrincipal, reference: str, *, purpose: Purpose = "read"
) -> Opened:
    """The request behind ``reference`` if ``staff`` reaches it for ``purpose``; else 404 and an audit row."""
    request = repository.by_reference(session, reference[:64])
    if request is not None and may_open(staff, request, purpose):
        return Opened(request, staff.actor, staff)
    audit.log(
        session,
        action="request.out_of_scope",
        subject=f"request:{request.id}" if request is not None else "request:unknown",
        actor=staff.actor,
        purpose=purpose,
        role=staff.role,
    )
    raise NotFound("no such request", keep_changes=True)


def _cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"s{seq}".encode()).decode().rstrip("=")


def _seq_of(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("s"):
            raise ValueError(cursor)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "cursor is not one this listing gave", errors=[{"path": "cursor", "message": "unknown cursor"}]
        ) from exc


def list_requests(
    *, session: Session, staff: StaffPrincipal, cursor: str | None = None, limit: int = PAGE_SIZE
) -> PartnerRequestPage:
    """The requests this partner key filed, newest first, a page at a time."""
    staff.require(Action.ACT_FOR_APPLICANT)
    query = (
        select(AppointmentRequest, Service.code)
        .join(Service, col(Service.id) == AppointmentRequest.service_id)
        .where(AppointmentRequest.filed_by == staff.key_id, AppointmentRequest.channel == "partner")
    )
    if cursor:
        query = query.where(col(AppointmentRequest.seq) < _seq_of(cursor))
    rows = session.exec(query.order_by(col(AppointmentRequest.seq).desc()).limit(limit + 1)).all()
    items = [
        PartnerRequestItem(
            id=request.id,
            entry=request.entry,
            service=code,
            status=request.status,
            submitted_at=request.submitted_at,
        )
        for request, code in rows[:limit]
    ]
    last = rows[limit - 1][0].seq if len(rows) > limit else None
    return PartnerRequestPage(items=items, next_cursor=_cursor(last) if last is not None else None)
