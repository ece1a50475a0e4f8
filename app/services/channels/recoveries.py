"""Recovery after seeing the document: a new access code, or the impostor's request superseded.

An ``agent`` or ``desk`` key (``Action.RECOVER_IDENTITY``) that has seen the holder's identity document
finds the identity's active request of the service through the identity key, never a clear number, and
only among requests listing one of the key's offices (else 404, like a request that does not exist, with
an audit row):

- ``lost_code``: the request gets a new access code (the old one stops at once); its offer, booking and
  waiting credit (the draws it entered) stay as they are;
- ``squatted``: someone filed with this person's document. That request is ``superseded``: an open offer
  is declined and a booking cancelled (their slots go back to a draw), and the identity is free, so the
  holder files anew at once (the counter can do it on the same screen).

Every act is audit-logged with the staff key. A squatted request is found by the identity key only: one
filed under another document of the same person (the same person key) is not found here.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, select

from app.db.models import AppointmentRequest
from app.domain import access_codes
from app.domain.access import Action
from app.domain.errors import NotFound
from app.domain.identity import identity_key
from app.domain.statuses import RequestStatus
from app.schemas.recoveries import RecoveryCreate, RecoveryPublic
from app.services import audit
from app.services.bookings import cancellations
from app.services.operations import catalog
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal


def recover(
    *,
    session: Session,
    staff: StaffPrincipal,
    data: RecoveryCreate,
    pepper: bytes,
    now: datetime,
    redraw_within: timedelta,
) -> RecoveryPublic:
    """Give the holder a new code for their active request, or supersede a request filed in their name."""
    staff.require(Action.RECOVER_IDENTITY)
    service = catalog.service_by_code(session, data.service)
    key = identity_key(pepper, data.document_number, data.birth_date)
    found = session.exec(
        select(AppointmentRequest.id, AppointmentRequest.offices).where(
            AppointmentRequest.service_id == service.id, AppointmentRequest.active_identity_key == key
        )
    ).first()
    if found is None or not any(staff.can(Action.RECOVER_IDENTITY, code) for code in found[1]):
        audit.log(
            session,
            action="identity.recovery_refused",
            subject=f"request:{found[0]}" if found is not None else f"service:{service.code}",
            actor=staff.actor,
            reason=data.reason,
        )
        raise NotFound(
            "no active request of this identity for this service at your offices", keep_changes=True
        )
    request = repository.lock_request(session, found[0])
    if request.active_identity_key != key:
        raise NotFound("the request closed meanwhile")
    if data.reason == "lost_code":
        return _new_code(session, request, staff, now)
    return _supersede(session, request, staff, now, redraw_within)


def renew_code(session: Session, request: AppointmentRequest, now: datetime, *, actor: str) -> str:
    """A new access code for the locked request: the old one stops at once, and with it the answers kept
    for its idempotent retries (``app.services.idempotency_store.replay_refusal``); offer, booking and
    waiting credit stay as they are."""
    code = access_codes.new_access_code()
    request.access_code_hash = access_codes.stored_hash(code)
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.log(
        session,
        action="identity.code_renewed",
        subject=f"request:{request.id}",
        actor=actor,
        reason="lost_code",
    )
    return code


def _new_code(
    session: Session, request: AppointmentRequest, staff: StaffPrincipal, now: datetime
) -> RecoveryPublic:
    return RecoveryPublic(
        request_id=request.id, access_code=renew_code(session, request, now, actor=staff.actor)
    )


def _supersede(
    session: Session,
    request: AppointmentRequest,
    staff: StaffPrincipal,
    now: datetime,
    redraw_within: timedelta,
) -> RecoveryPublic:
    # Cancelling returns an open offer's or a booking's slot to the draws, exactly as the applicant's
    # cancel does; the request then reads ``superseded`` rather than withdrawn or cancelled.
    cancellations.cancel(
        session=session, request_id=request.id, now=now, redraw_within=redraw_within, actor=staff.actor
    )
    request.status = RequestStatus.SUPERSEDED
    session.add(request)
    session.flush()
    audit.log(
        session,
        action="request.superseded",
        subject=f"request:{request.id}",
        actor=staff.actor,
        reason="squatted",
    )
    return RecoveryPublic(superseded=request.id)
