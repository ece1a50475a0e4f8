"""Desk check-in: a booking token counts only with its holder's document.

Order of checks: the signature and expiry (401 ``token_invalid``), the desk's office scope
(409 ``wrong_office``), the presented document against the booking's identity digest, compared in constant
time (403 ``identity_mismatch``), then the booking's state (409 ``already_checked_in`` or
``booking_cancelled``), then the time: a booking checks in from ``opens_before`` its start (two hours by
default, ``FAIRSLOT_CHECK_IN_OPENS_MINUTES_BEFORE``) until the no-show grace after its end, when its
token expires and the no-show job takes it (409
``outside_check_in_window``), so a booking cannot be used days early nor after it was forfeited. The booking
row is locked, so ten desks scanning one token check it in once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.db.models import Booking, Office, Slot
from app.domain.errors import (
    AlreadyCheckedIn,
    BookingCancelled,
    IdentityMismatch,
    OutsideCheckInWindow,
    TokenRefused,
    WrongOffice,
)
from app.domain.identity import same_document
from app.domain.tokens import TokenInvalid, holder_matches
from app.services import audit, intake, token_keys
from app.services.staff_keys import StaffPrincipal


@dataclass(frozen=True)
class CheckInWindow:
    """When a booking may check in: from ``opens_before`` its slot's start to ``closes_after`` its end."""

    opens_before: timedelta = timedelta(hours=2)
    closes_after: timedelta = timedelta(minutes=30)


@dataclass(frozen=True)
class CheckInResult:
    """The verdict shown at the desk."""

    booking_id: str
    status: str
    family_name: str
    given_names: str
    office: str
    starts_at: datetime


def window_of(opens_minutes_before: int, grace_minutes: int) -> CheckInWindow:
    """The check-in window of the settings."""
    return CheckInWindow(timedelta(minutes=opens_minutes_before), timedelta(minutes=grace_minutes))


def check_in(
    *,
    session: Session,
    staff: StaffPrincipal,
    token: str,
    document_number: str,
    birth_date: date,
    now: datetime,
    secret: bytes,
    pepper: bytes,
    window: CheckInWindow | None = None,
) -> CheckInResult:
    """Check a booking in, or say precisely why not."""
    window = window or CheckInWindow()
    ring = token_keys.keyring(session, secret, now)
    try:
        claims = ring.verify(token, now=now)
    except TokenInvalid as exc:
        raise TokenRefused(f"the token is not valid ({exc.reason})") from exc
    found = session.exec(select(Booking).where(Booking.id == claims.booking_id)).first()
    if found is None:
        raise TokenRefused("the token names no booking")
    # Request first, then booking (the order of cancel and of the no-show job): ten desks scanning one
    # token queue on the request row, and the first one wins.
    request = intake.lock_request(session, found.request_id)
    booking = session.exec(
        select(Booking).where(Booking.id == found.id).with_for_update(key_share=True)
    ).one()
    session.refresh(booking)
    office = session.get(Office, booking.office_id)
    assert office is not None
    if not staff.covers(office.code) or claims.office != office.code:
        raise WrongOffice(f"this booking is for office {office.code}")
    document_ok = same_document(pepper, booking.identity_key, document_number, birth_date)
    holder_ok = holder_matches(claims, booking.identity_key, secret)
    if not (document_ok and holder_ok):
        # The attempt (a token presented with another person's document: a resale) is kept in the audit
        # log: this refusal commits what it wrote instead of rolling back.
        audit.log(session, action="checkin.refused", subject=f"booking:{booking.id}", actor=staff.actor)
        raise IdentityMismatch(
            "the document does not match the booking's holder; the booking is not transferable",
            keep_changes=True,
        )
    if booking.status == "attended":
        raise AlreadyCheckedIn(
            f"checked in at {booking.checked_in_at.isoformat() if booking.checked_in_at else ''}"
        )
    if booking.status != "booked":
        raise BookingCancelled(f"this booking is {booking.status}")
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    opens, closes = slot.starts_at - window.opens_before, slot.ends_at + window.closes_after
    if not opens <= now <= closes:
        zone = ZoneInfo(office.timezone)
        raise OutsideCheckInWindow(
            f"this booking checks in between {opens.astimezone(zone).isoformat()} and "
            f"{closes.astimezone(zone).isoformat()}"
        )
    booking.status = "attended"
    booking.checked_in_at = now
    intake.close(request, "attended", now)
    session.add_all([booking, request])
    session.flush()
    audit.log(session, action="booking.checked_in", subject=f"booking:{booking.id}", actor=staff.actor)
    return CheckInResult(
        booking_id=booking.id,
        status=booking.status,
        family_name=request.family_name or "",
        given_names=request.given_names or "",
        office=office.code,
        starts_at=slot.starts_at.astimezone(ZoneInfo(office.timezone)),
    )
