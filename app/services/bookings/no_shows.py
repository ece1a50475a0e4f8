"""Bookings not checked in by the end of their slot plus a grace period become no-shows.

A no-show lowers the weight of that identity's requests for the service for the policy's window (180 days
by default): a missed appointment was a slot someone else needed.

The desk may say so earlier, by hand (``mark_absent``), once the slot has started: the same rows are
written as by the scheduler (the booking and request ``no_show``, the ``no_show`` row, the audit entry),
the desk agent named as the actor. Before the start the person may still come (409 ``slot_not_started``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, NoShow, Office, Slot
from app.domain.access import Action
from app.domain.errors import NotFound, SlotNotStarted
from app.domain.statuses import BookingStatus, RequestStatus
from app.services import audit, jobs
from app.services.bookings import checkins
from app.services.bookings.checkins import CheckInResult
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal


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
    _mark(session, booking, request, now, actor="scheduler")
    return booking.id


def mark_absent(*, session: Session, staff: StaffPrincipal, booking_id: str, now: datetime) -> CheckInResult:
    """The desk marks a booking's holder absent, once the slot has started: a no-show now."""
    staff.require(Action.CHECK_IN)
    if session.get(Booking, booking_id) is None:
        raise NotFound(f"no booking {booking_id}")
    request, booking, office = checkins.lock_for_desk(session, staff, booking_id)
    checkins.refuse_unless_booked(booking)
    slot = _mark_checked(session, booking, office, now)
    _mark(session, booking, request, now, actor=staff.actor)
    return CheckInResult(
        booking_id=booking.id,
        status=booking.status,
        family_name=request.family_name or "",
        given_names=request.given_names or "",
        office=office.code,
        starts_at=slot.starts_at.astimezone(ZoneInfo(office.timezone)),
    )


def _mark_checked(session: Session, booking: Booking, office: Office, now: datetime) -> Slot:
    """The booking's slot, once it has started (409 ``slot_not_started`` before)."""
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    if now < slot.starts_at:
        starts = slot.starts_at.astimezone(ZoneInfo(office.timezone)).isoformat()
        raise SlotNotStarted(f"this appointment starts at {starts}: the person may still come")
    return slot


def _mark(
    session: Session, booking: Booking, request: AppointmentRequest, now: datetime, *, actor: str
) -> None:
    """Write a no-show: the booking and its request closed ``no_show``, the row that lowers later weights,
    the audit entry."""
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
    audit.log(
        session, action="booking.no_show", subject=f"booking:{booking.id}", actor=actor, office=office.code
    )
