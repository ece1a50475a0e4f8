"""Bookings not checked in by the end of their slot plus a grace period become no-shows.

A no-show lowers the weight of that identity's requests for the service for the policy's window (180 days
by default): a missed appointment was a slot someone else needed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, NoShow, Office, Slot
from app.domain.statuses import BookingStatus, RequestStatus
from app.services import audit, jobs
from app.services.requests import repository


def mark_next(session: Session, *, now: datetime, grace: timedelta) -> str | None:
    """Mark one overdue booking as a no-show; returns its id."""
    # Request first, then booking: the order an applicant's cancel takes too.
    claimed = jobs.claim_for_request(
        session,
        Booking,
        select(Booking.id, AppointmentRequest.id)
        .join(Slot, col(Slot.id) == Booking.slot_id)
        .join(AppointmentRequest, col(AppointmentRequest.id) == Booking.request_id)
        .where(Booking.status == BookingStatus.BOOKED, Slot.ends_at <= now - grace),
    )
    if claimed is None:
        return None
    booking, request = claimed
    if booking.status != BookingStatus.BOOKED:
        return booking.id
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    office = session.get(Office, booking.office_id)
    assert office is not None
    booking.status = BookingStatus.NO_SHOW
    booking.no_show_at = now
    repository.close(request, RequestStatus.NO_SHOW, now)
    session.add_all([booking, request])
    session.add(
        NoShow(
            identity_key=booking.identity_key,
            service_id=request.service_id,
            booking_id=booking.id,
            missed_on=slot.starts_at.astimezone(ZoneInfo(office.timezone)).date(),
        )
    )
    session.flush()
    audit.log(session, action="booking.no_show", subject=f"booking:{booking.id}", actor="scheduler")
    return booking.id
