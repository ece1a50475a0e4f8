"""Keeping one's place: an applicant gives back a booking whose date does not suit and goes back to the queue.

The booking becomes ``given_back`` and its slot returns to a draw like any returned slot; the request is
``pending`` again with its waiting credit (the draws it lost still count; the draw it won never counted as
a loss). Twice per request at most (``409 give_back_limit``), so that giving back cannot become a way to
fish for a preferred date; not within 24 hours of ``confirm_by``, or of the slot's start where there is no
confirmation window (``409 too_late_to_give_back``: cancel instead), so that a slot comes back while a draw
can still offer it; and never while a due draw's entries are frozen (``409 draw_pending``: the request would
join them). Lock order as everywhere: the request, then its booking and offer, then the slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, func, select

from app.db.models import AppointmentRequest, Booking, Slot
from app.domain.errors import GiveBackLimit, NoBooking, TooLateToGiveBack
from app.domain.statuses import BookingStatus, RequestStatus
from app.services import audit
from app.services.bookings import calendar_files, offers
from app.services.draws import freeze
from app.services.messages import outbox
from app.services.requests import repository

#: How many bookings one request may give back.
MAX_GIVE_BACKS = 2
#: A booking can be given back until this long before ``confirm_by`` (or the slot's start without one).
LAST_DAY = timedelta(hours=24)


def given_back_count(session: Session, request_id: str) -> int:
    """How many bookings the request gave back."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Booking)
            .where(Booking.request_id == request_id, Booking.status == BookingStatus.GIVEN_BACK)
        ).one()
    )


def give_back(
    *, session: Session, request_id: str, now: datetime, redraw_within: timedelta, actor: str = "applicant"
) -> AppointmentRequest:
    """Give the live booking back: the request is pending again, the slot goes back to a draw."""
    request = repository.lock_request(session, request_id)
    if request.status != RequestStatus.BOOKED:
        raise NoBooking(f"this request is {request.status}: there is no booking to give back")
    booking = offers.booking_for_update(session, request.id)
    assert booking is not None
    # The request becomes pending again: it would join a draw whose entries are frozen.
    freeze.require_not_frozen(session, request, now, joining=True)
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    deadline = (booking.confirm_by or slot.starts_at) - LAST_DAY
    if now >= deadline:
        raise TooLateToGiveBack(
            f"a booking can be given back until {deadline.isoformat()}; cancel it instead",
            last_give_back_at=deadline.isoformat(),
        )
    if given_back_count(session, request.id) >= MAX_GIVE_BACKS:
        raise GiveBackLimit(
            f"a request may give back {MAX_GIVE_BACKS} bookings at most", limit=MAX_GIVE_BACKS
        )
    offers.end_booking(
        session, booking, BookingStatus.GIVEN_BACK, now=now, redraw_within=redraw_within, actor=actor
    )
    request.status = RequestStatus.PENDING
    request.updated_at = now
    session.add(request)
    session.flush()
    outbox.enqueue(
        session,
        request,
        "booking_given_back",
        now,
        ics=calendar_files.calendar_file(session, booking, request.language),
        **offers.slot_context(session, slot),
    )
    audit.log(
        session, action="booking.given_back", subject=f"request:{request.id}", actor=actor, booking=booking.id
    )
    return request
