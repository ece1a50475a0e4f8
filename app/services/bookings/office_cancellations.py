"""The office takes back an appointment or an offer (a closure of its day): the holder is told at once and
goes back to the queue ahead of the others.

The request goes back to ``pending``: it keeps its identity's place and its waiting credit (the draws it
lost still count; the draw it won never did), and carries the ``office_cancelled`` factor (ten times by
default, ``weight_policy.office_cancelled_factor``) until its next offer. Its booking becomes
``cancelled_by_office`` (or its offer ``withdrawn``); the slot is not drawn again (its day is closed). The
caller holds the request's row lock (the lock order of ``app.services.bookings.offers``: the request, then
its offer or booking, then the slot).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from app.db.models import AppointmentRequest, Booking, Offer, Slot
from app.domain.statuses import BookingStatus, OfferStatus, RequestStatus
from app.services import audit
from app.services.bookings import calendar_files, offers
from app.services.messages import outbox


def _back_to_queue(request: AppointmentRequest, now: datetime) -> None:
    request.status = RequestStatus.PENDING
    request.office_cancelled_at = now
    request.updated_at = now


def cancel_booking(
    session: Session, request: AppointmentRequest, booking_id: str, *, now: datetime, reason: str, actor: str
) -> bool:
    """Cancel a live booking for the office; False when it is no longer live (nothing done)."""
    booking = session.exec(
        select(Booking).where(Booking.id == booking_id).with_for_update(key_share=True)
    ).one()
    session.refresh(booking)
    if booking.status != BookingStatus.BOOKED or request.status != RequestStatus.BOOKED:
        return False
    offer = session.exec(
        select(Offer).where(Offer.id == booking.offer_id).with_for_update(key_share=True)
    ).one()
    booking.status = BookingStatus.CANCELLED_BY_OFFICE
    booking.cancelled_at = now
    offer.status = OfferStatus.CANCELLED
    offer.active_slot_id = None
    _back_to_queue(request, now)
    session.add_all([booking, offer, request])
    session.flush()
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    outbox.enqueue(
        session,
        request,
        "booking_cancelled_by_office",
        now,
        reason=reason,
        ics=calendar_files.calendar_file(session, booking, request.language),
        **offers.slot_context(session, slot),
    )
    audit.log(
        session,
        action="booking.cancelled_by_office",
        subject=f"request:{request.id}",
        actor=actor,
        booking=booking.id,
        slot_id=slot.id,
        reason=reason,
    )
    return True


def withdraw_offer(
    session: Session, request: AppointmentRequest, offer_id: int, *, now: datetime, reason: str, actor: str
) -> bool:
    """Withdraw an open offer for the office; False when it is no longer open (nothing done)."""
    offer = session.exec(select(Offer).where(Offer.id == offer_id).with_for_update(key_share=True)).one()
    session.refresh(offer)
    if offer.status != OfferStatus.OPEN or request.status != RequestStatus.OFFERED:
        return False
    offer.status = OfferStatus.WITHDRAWN
    offer.active_slot_id = None
    offer.decided_at = now
    _back_to_queue(request, now)
    session.add_all([offer, request])
    session.flush()
    slot = session.get(Slot, offer.slot_id)
    assert slot is not None
    outbox.enqueue(
        session,
        request,
        "offer_withdrawn_by_office",
        now,
        reason=reason,
        **offers.slot_context(session, slot),
    )
    audit.log(
        session,
        action="offer.withdrawn_by_office",
        subject=f"request:{request.id}",
        actor=actor,
        slot_id=slot.id,
        reason=reason,
    )
    return True
