"""Desk check-in: a booking token counts only with its holder's document.

Order of checks: the signature and expiry (401 ``token_invalid``), the desk's office scope
(409 ``wrong_office``), the presented document against the booking's identity digest, compared in constant
time (403 ``identity_mismatch``), then the booking's state (409 ``already_checked_in`` or
``booking_cancelled``). The booking row is locked, so ten desks scanning one token check it in once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.db.models import Booking, Office, Slot
from app.domain.access import Action
from app.domain.errors import AlreadyCheckedIn, BookingCancelled, IdentityMismatch, TokenRefused, WrongOffice
from app.domain.identity import same_document
from app.domain.statuses import BookingStatus, RequestStatus
from app.domain.tokens import TokenInvalid, holder_matches
from app.services import audit, requests, token_keys
from app.services.staff_keys import StaffPrincipal


@dataclass(frozen=True)
class CheckInResult:
    """The verdict shown at the desk."""

    booking_id: str
    status: str
    family_name: str
    given_names: str
    office: str
    starts_at: datetime


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
) -> CheckInResult:
    """Check a booking in, or say precisely why not."""
    staff.require(Action.CHECK_IN)
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
    request = requests.lock_request(session, found.request_id)
    booking = session.exec(
        select(Booking).where(Booking.id == found.id).with_for_update(key_share=True)
    ).one()
    session.refresh(booking)
    office = session.get(Office, booking.office_id)
    assert office is not None
    if not staff.can(Action.CHECK_IN, office=office.code) or claims.office != office.code:
        raise WrongOffice(f"this booking is for office {office.code}", office=office.code)
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
    if booking.status == BookingStatus.ATTENDED:
        raise AlreadyCheckedIn(
            f"checked in at {booking.checked_in_at.isoformat() if booking.checked_in_at else ''}"
        )
    if booking.status != BookingStatus.BOOKED:
        raise BookingCancelled(f"this booking is {booking.status}")
    booking.status = BookingStatus.ATTENDED
    booking.checked_in_at = now
    requests.close(request, RequestStatus.ATTENDED, now)
    session.add_all([booking, request])
    session.flush()
    audit.log(session, action="booking.checked_in", subject=f"booking:{booking.id}", actor=staff.actor)
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    return CheckInResult(
        booking_id=booking.id,
        status=booking.status,
        family_name=request.family_name or "",
        given_names=request.given_names or "",
        office=office.code,
        starts_at=slot.starts_at.astimezone(ZoneInfo(office.timezone)),
    )
