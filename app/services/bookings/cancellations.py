"""Cancelling: an applicant withdraws a pending or offered request, or cancels a booking before it starts.

The request row is locked first, then its offer or booking, then the slot (the lock order of
``app.services.bookings.offers``); the freed slot goes back to the draws and the identity may request again. A
booking whose appointment has started can no longer be cancelled: that would erase its no-show.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from app.db.models import AppointmentRequest, Slot
from app.domain.errors import NotCancellable
from app.domain.statuses import BookingStatus, OfferStatus, RequestStatus
from app.services import audit
from app.services.bookings import calendar_files, offers
from app.services.draws import freeze
from app.services.messages import outbox
from app.services.requests import repository


def cancel(
    *, session: Session, request_id: str, now: datetime, redraw_within: timedelta, actor: str = "applicant"
) -> AppointmentRequest:
    """Withdraw a pending or offered request, or cancel a booking; the identity may then request again.

    ``actor`` is who the audit log names: the applicant, or the partner acting for them.
    """
    request = repository.lock_request(session, request_id)
    freeze.require_not_frozen(session, request, now)
    if request.status == RequestStatus.PENDING:
        repository.close(request, RequestStatus.WITHDRAWN, now)
        action = "request.withdrawn"
    elif request.status == RequestStatus.OFFERED:
        offer = offers.offer_for_update(session, request_id)
        if offer is not None:
            offers.release_offer(
                session, offer, OfferStatus.DECLINED, now=now, redraw_within=redraw_within, actor=actor
            )
        repository.close(request, RequestStatus.WITHDRAWN, now)
        action = "request.withdrawn"
    elif request.status == RequestStatus.BOOKED:
        booking = offers.booking_for_update(session, request.id)
        assert booking is not None
        slot = session.get(Slot, booking.slot_id)
        assert slot is not None
        if now >= slot.starts_at:
            # Cancelling a missed appointment afterwards must not erase the no-show.
            raise NotCancellable("the appointment has started; it can no longer be cancelled")
        offers.end_booking(
            session, booking, BookingStatus.CANCELLED, now=now, redraw_within=redraw_within, actor=actor
        )
        ics = calendar_files.calendar_file(session, booking, request.language)
        outbox.enqueue(
            session, request, "booking_cancelled", now, ics=ics, **offers.slot_context(session, slot)
        )
        repository.close(request, RequestStatus.CANCELLED, now)
        action = "booking.cancelled"
    else:
        raise NotCancellable(f"this request is {request.status}")
    session.add(request)
    session.flush()
    audit.log(session, action=action, subject=f"request:{request.id}", actor=actor)
    return request
