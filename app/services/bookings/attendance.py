"""Attendance by hand: what the desk records from the day's list for one booking.

``attended`` (the document was seen) is a check-in without the token, through the check-in's own code
(``checkins.check_in_by_hand``): the same identity, office, window and claims checks, the same answers, the
same audit rows. ``absent`` is a no-show the desk records once the slot has started
(``no_shows.mark_absent``), with the no-show rules.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.schemas.checkins import AbsentCreate, AttendedCreate
from app.services.bookings import checkins, no_shows
from app.services.bookings.checkins import CheckInResult, CheckInWindow
from app.services.staff.keys import StaffPrincipal


def record(
    *,
    session: Session,
    staff: StaffPrincipal,
    booking_id: str,
    data: AttendedCreate | AbsentCreate,
    now: datetime,
    pepper: bytes,
    window: CheckInWindow,
) -> CheckInResult:
    """Record that the booking's holder came (their document seen) or did not."""
    if isinstance(data, AbsentCreate):
        return no_shows.mark_absent(session=session, staff=staff, booking_id=booking_id, now=now)
    return checkins.check_in_by_hand(
        session=session,
        staff=staff,
        booking_id=booking_id,
        document_number=data.document_number,
        birth_date=data.birth_date,
        now=now,
        pepper=pepper,
        verdicts=data.claims.model_dump() if data.claims else None,
        window=window,
    )
