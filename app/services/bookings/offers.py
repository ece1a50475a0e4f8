"""An applicant's answers to an offer (accept, decline); the scheduler's offer expiries and reminders; what
holds a slot and lets it go (an open offer, a live booking).

Every change locks the request row first, then the offer, so concurrent answers, expiries and cancels of
one request are serial; ``offer.active_slot_id`` (unique) is the database's guarantee that a slot never
has two holders, whatever interleaving happens.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, Offer, Office, Service, Slot
from app.domain import confirmation
from app.domain.errors import NoOffer, OfferExpired
from app.domain.proofs.tokens import BookingClaims, holder_digest, token_expiry
from app.domain.statuses import BookingStatus, OfferStatus, RequestStatus
from app.services import audit, jobs
from app.services.bookings import calendar_files, token_keys
from app.services.draws import freeze, returns
from app.services.messages import outbox
from app.services.operations import catalog, practical
from app.services.requests import repository

#: Open offers get a reminder when this share of their time to answer is left.
REMIND_WHEN_LEFT = 0.25


def offer_for_update(session: Session, request_id: str) -> Offer | None:
    return session.exec(
        select(Offer)
        .where(Offer.request_id == request_id, Offer.status == OfferStatus.OPEN)
        .with_for_update(key_share=True)
    ).first()


def slot_context(session: Session, slot: Slot) -> dict[str, Any]:
    """A message's context for an appointment: the office, its time, where to go and what to bring."""
    office = session.get(Office, slot.office_id)
    assert office is not None
    return {
        "office": office.name,
        "timezone": office.timezone,
        "starts_at": slot.starts_at.astimezone(ZoneInfo(office.timezone)).isoformat(),
        **practical.practical_context(office, session.get(Service, slot.service_id)),
    }


def accept(
    *,
    session: Session,
    request_id: str,
    now: datetime,
    secret: bytes,
    token_grace: timedelta,
    actor: str = "applicant",
) -> AppointmentRequest:
    """Accept the open offer: the request is booked and its booking carries an identity-bound token.

    ``actor`` is who the audit log names: the applicant, or the partner acting for them.
    """
    request = repository.lock_request(session, request_id)
    offer = offer_for_update(session, request_id)
    if offer is None:
        if _last_offer_expired(session, request):
            raise OfferExpired("the offer expired; the slot went back to the draw")
        raise NoOffer("this request has no open offer")
    if offer.expires_at <= now:
        raise OfferExpired(f"the offer expired at {offer.expires_at.isoformat()}")
    slot = session.get(Slot, offer.slot_id)
    office = session.get(Office, slot.office_id) if slot else None
    service = session.get(Service, request.service_id)
    assert slot is not None
    assert office is not None
    assert service is not None
    booking_id = str(uuid.uuid4())
    window = confirmation.for_booking(
        catalog.confirm_window_of(service), starts_at=slot.starts_at, booked_at=now
    )
    ring = token_keys.keyring(session, secret, now)
    claims = BookingClaims(
        booking_id=booking_id,
        office=office.code,
        service=service.code,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        holder=holder_digest(request.identity_key, booking_id, secret),
        issued_at=now,
        expires_at=token_expiry(slot.ends_at, token_grace),
    )
    offer.status = OfferStatus.ACCEPTED
    offer.decided_at = now
    request.status = RequestStatus.BOOKED
    request.updated_at = now
    session.add_all([offer, request])
    booking = Booking(
        id=booking_id,
        offer_id=offer.id,  # type: ignore[arg-type]
        request_id=request.id,
        slot_id=slot.id,  # type: ignore[arg-type]
        office_id=office.id,  # type: ignore[arg-type]
        identity_key=request.identity_key,
        token=ring.sign(claims),
        created_at=now,
        confirm_from=window.confirm_from,
        confirm_by=window.confirm_by,
        confirmed_at=window.confirmed_at,
    )
    session.add(booking)
    session.flush()
    audit.log(
        session,
        action="offer.accepted",
        subject=f"request:{request.id}",
        actor=actor,
        booking=booking_id,
    )
    ics = calendar_files.calendar_file(session, booking, request.language)
    outbox.enqueue(session, request, "booking_confirmed", now, ics=ics, **slot_context(session, slot))
    return request


def _last_offer_expired(session: Session, request: AppointmentRequest) -> bool:
    last = session.exec(
        select(Offer.status).where(Offer.request_id == request.id).order_by(col(Offer.id).desc()).limit(1)
    ).first()
    return last == OfferStatus.EXPIRED and request.status == RequestStatus.PENDING


def decline(
    *, session: Session, request_id: str, now: datetime, redraw_within: timedelta, actor: str = "applicant"
) -> AppointmentRequest:
    """Decline the open offer: the slot returns to the draws; the request stays pending, without bonus."""
    request = repository.lock_request(session, request_id)
    offer = offer_for_update(session, request_id)
    if offer is None:
        raise NoOffer("this request has no open offer")
    # Declining makes the request pending again: it would join a v2 draw whose entries are frozen.
    freeze.require_not_frozen(session, request, now, joining=True)
    release_offer(session, offer, OfferStatus.DECLINED, now=now, redraw_within=redraw_within, actor=actor)
    request.status = RequestStatus.PENDING
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.log(session, action="offer.declined", subject=f"request:{request.id}", actor=actor)
    return request


def release_offer(
    session: Session, offer: Offer, status: str, *, now: datetime, redraw_within: timedelta, actor: str
) -> None:
    """End an offer's hold on its slot and put the slot back into the draws."""
    offer.status = status
    offer.active_slot_id = None
    offer.decided_at = offer.decided_at or now
    session.add(offer)
    session.flush()
    slot = session.exec(select(Slot).where(Slot.id == offer.slot_id).with_for_update(key_share=True)).one()
    returns.return_slot(session, slot, now=now, redraw_within=redraw_within, actor=actor)


def booking_for_update(session: Session, request_id: str) -> Booking | None:
    """The request's live booking, locked (the caller holds the request's row: the lock order)."""
    return session.exec(
        select(Booking)
        .where(Booking.request_id == request_id, Booking.status == BookingStatus.BOOKED)
        .with_for_update(key_share=True)
    ).first()


def end_booking(
    session: Session, booking: Booking, status: str, *, now: datetime, redraw_within: timedelta, actor: str
) -> None:
    """End a live booking the applicant gives up (``status``: cancelled, given back): its offer stops
    holding the slot, which goes back to the draws."""
    offer = session.exec(
        select(Offer).where(Offer.id == booking.offer_id).with_for_update(key_share=True)
    ).one()
    booking.status = status
    booking.cancelled_at = now
    session.add(booking)
    release_offer(session, offer, OfferStatus.CANCELLED, now=now, redraw_within=redraw_within, actor=actor)


def expire_next(session: Session, *, now: datetime, redraw_within: timedelta) -> str | None:
    """Expire one overdue open offer no other worker holds; returns its request id."""
    # Lock order everywhere: request, then its offer or booking, then the slot, then a release. The job
    # takes the request row first (skipping requests another worker or the applicant holds).
    claimed = jobs.claim_for_request(
        session,
        Offer,
        select(Offer.id, AppointmentRequest.id)
        .join(AppointmentRequest, col(AppointmentRequest.id) == Offer.request_id)
        .where(Offer.status == OfferStatus.OPEN, Offer.expires_at <= now)
        .order_by(col(Offer.expires_at)),
    )
    if claimed is None:
        return None
    offer, request = claimed
    if offer.status != OfferStatus.OPEN:
        return offer.request_id
    release_offer(
        session, offer, OfferStatus.EXPIRED, now=now, redraw_within=redraw_within, actor="scheduler"
    )
    request.status = RequestStatus.PENDING
    request.updated_at = now
    session.add(request)
    slot = session.get(Slot, offer.slot_id)
    assert slot is not None
    outbox.enqueue(session, request, "slot_freed", now, **slot_context(session, slot))
    session.flush()
    audit.log(session, action="offer.expired", subject=f"request:{request.id}", actor="scheduler")
    return request.id


def remind_next(session: Session, *, now: datetime) -> str | None:
    """Queue one 'offer about to expire' reminder that is due; returns the request id."""
    # Request first, as everywhere: the reminder's message references the request.
    claimed = jobs.claim_for_request(
        session,
        Offer,
        select(Offer.id, AppointmentRequest.id)
        .join(AppointmentRequest, col(AppointmentRequest.id) == Offer.request_id)
        .where(
            Offer.status == OfferStatus.OPEN,
            col(Offer.reminded_at).is_(None),
            col(Offer.remind_at) <= now,
            col(Offer.expires_at) > now,
        )
        .order_by(col(Offer.remind_at)),
    )
    if claimed is None:
        return None
    offer, request = claimed
    if offer.status != OfferStatus.OPEN or offer.reminded_at is not None:
        return request.id
    offer.reminded_at = now
    session.add(offer)
    slot = session.get(Slot, offer.slot_id)
    assert slot is not None
    outbox.enqueue(
        session, request, "offer_expiring", now, expires_at=offer.expires_at, **slot_context(session, slot)
    )
    session.flush()
    return request.id
