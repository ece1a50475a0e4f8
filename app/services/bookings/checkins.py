"""Desk check-in: a booking token counts only with its holder's document.

Order of checks: the signature and expiry (401 ``token_invalid``), the desk's office scope
(409 ``wrong_office``), the presented document against the booking's identity digest, compared in constant
time (403 ``identity_mismatch``), then the booking's state (409 ``already_checked_in`` or
``booking_cancelled``), then the time: a booking checks in from ``opens_before`` its start (two hours by
default, ``FAIRSLOT_CHECK_IN_OPENS_MINUTES_BEFORE``) until the no-show grace after its end, when its
token expires and the no-show job takes it (409 ``outside_check_in_window``), so a booking cannot be used
days early nor after it was forfeited; then the claims: each claim that raised the booking's winning weight
and is not confirmed needs the desk's verdict (422 ``claims_unverified`` listing them, nothing changed);
any verdict ``refuted`` forfeits the booking and excludes the identity and the person from the service
(409 ``claim_refuted``, kept with its audit row); ``not_evidenced`` (a vulnerability the desk cannot
judge) lets the booking stand and makes that person's vulnerability count only once confirmed before later
draws. The request row is locked first, so ten desks scanning one token decide it once, and a cancel
racing a refusal finds the request already closed (or the other way round).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NoReturn
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app import metrics
from app.db.models import AppointmentRequest, Booking, Claim, DrawEntry, Offer, Office, Service, Slot
from app.domain.access import Action
from app.domain.claims import ClaimStatus, check_verdict
from app.domain.errors import (
    AlreadyCheckedIn,
    BookingCancelled,
    ClaimDecided,
    ClaimNotDeclared,
    ClaimRefuted,
    ClaimsUnverified,
    IdentityMismatch,
    OutsideCheckInWindow,
    TokenRefused,
    WrongOffice,
)
from app.domain.identity import same_document
from app.domain.proofs.tokens import TokenInvalid, holder_matches
from app.domain.statuses import BookingStatus, RequestStatus
from app.schemas.claims import ClaimPublic
from app.services import audit
from app.services.bookings import offers, token_keys
from app.services.claims import records
from app.services.messages import outbox
from app.services.operations import catalog
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal


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
    claims: list[ClaimPublic] = field(default_factory=list)


def window_of(opens_minutes_before: int, grace_minutes: int) -> CheckInWindow:
    """The check-in window of the settings."""
    return CheckInWindow(timedelta(minutes=opens_minutes_before), timedelta(minutes=grace_minutes))


@metrics.count_verdicts(metrics.CHECKINS, lambda result: result.status)
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
    verdicts: Mapping[str, str | None] | None = None,
    window: CheckInWindow | None = None,
) -> CheckInResult:
    """Check a booking in, or say precisely why not (``verdicts``: the desk's, per claim kind)."""
    staff.require(Action.CHECK_IN)
    window = window or CheckInWindow()
    ring = token_keys.keyring(session, secret, now)
    try:
        token_claims = ring.verify(token, now=now)
    except TokenInvalid as exc:
        raise TokenRefused(f"the token is not valid ({exc.reason})") from exc
    found = session.exec(select(Booking).where(Booking.id == token_claims.booking_id)).first()
    if found is None:
        raise TokenRefused("the token names no booking")
    # Request first, then booking (the order of cancel and of the no-show job): ten desks scanning one
    # token queue on the request row, and the first one wins.
    request = repository.lock_request(session, found.request_id)
    booking = session.exec(
        select(Booking).where(Booking.id == found.id).with_for_update(key_share=True)
    ).one()
    session.refresh(booking)
    office = session.get(Office, booking.office_id)
    assert office is not None
    if not staff.can(Action.CHECK_IN, office=office.code) or token_claims.office != office.code:
        raise WrongOffice(f"this booking is for office {office.code}", office=office.code)
    document_ok = same_document(pepper, booking.identity_key, document_number, birth_date)
    holder_ok = holder_matches(token_claims, booking.identity_key, secret)
    if not (document_ok and holder_ok):
        # The attempt (a token presented with another person's document: a resale) is kept in the audit
        # log: this refusal commits what it wrote instead of rolling back.
        audit.log(
            session,
            action="checkin.refused",
            subject=f"booking:{booking.id}",
            actor=staff.actor,
            office=office.code,
        )
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
    staff.require(Action.CHECK_IN, office=office.code)
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    opens, closes = slot.starts_at - window.opens_before, slot.ends_at + window.closes_after
    if not opens <= now <= closes:
        zone = ZoneInfo(office.timezone)
        raise OutsideCheckInWindow(
            f"this booking checks in between {opens.astimezone(zone).isoformat()} and "
            f"{closes.astimezone(zone).isoformat()}"
        )
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    judged = _judge_claims(session, staff, request, booking, verdicts or {}, today, now)
    booking.status = BookingStatus.ATTENDED
    booking.checked_in_at = now
    repository.close(request, RequestStatus.ATTENDED, now)
    session.add_all([booking, request])
    session.flush()
    audit.log(
        session,
        action="booking.checked_in",
        subject=f"booking:{booking.id}",
        actor=staff.actor,
        office=office.code,
    )
    return CheckInResult(
        booking_id=booking.id,
        status=booking.status,
        family_name=request.family_name or "",
        given_names=request.given_names or "",
        office=office.code,
        starts_at=slot.starts_at.astimezone(ZoneInfo(office.timezone)),
        claims=records.public(judged),
    )


def _judge_claims(
    session: Session,
    staff: StaffPrincipal,
    request: AppointmentRequest,
    booking: Booking,
    given: Mapping[str, str | None],
    today: date,
    now: datetime,
) -> list[Claim]:
    """Apply the desk's verdicts; raises unless the booking may be checked in. Returns the claims."""
    verdicts = {kind: verdict for kind, verdict in given.items() if verdict is not None}
    found = records.of_request(session, request.seq)
    by_kind = {c.kind: c for c in found}
    absent = [kind for kind in verdicts if kind not in by_kind]
    if absent:
        raise ClaimNotDeclared(
            f"this request declared no {' or '.join(absent)}",
            errors=[
                {"path": f"claims.{kind}", "message": "no such claim on this booking"} for kind in absent
            ],
        )
    for kind, verdict in verdicts.items():
        try:
            check_verdict(by_kind[kind].status, verdict)
        except ValueError as exc:
            raise ClaimDecided(
                f"the {kind} claim is already {by_kind[kind].status}; a verdict stands",
                errors=[{"path": f"claims.{kind}", "message": f"already {by_kind[kind].status}"}],
            ) from exc
    needed = [
        kind
        for kind in _counted_unconfirmed(session, request, booking)
        if kind in by_kind and by_kind[kind].status != ClaimStatus.CONFIRMED
    ]
    # A claim refuted before the draw won nothing and carries no penalty: only a new refusal forfeits.
    refuted = [
        kind
        for kind, verdict in verdicts.items()
        if verdict == ClaimStatus.REFUTED and by_kind[kind].status == ClaimStatus.DECLARED
    ]
    if not refuted:
        lacking = [kind for kind in needed if kind not in verdicts]
        if lacking:
            raise ClaimsUnverified(
                "the booking's weight rests on claims the desk has not judged: give a verdict on each",
                claims=[{"claim": kind, "declared": by_kind[kind].declared} for kind in lacking],
            )
    for kind, verdict in verdicts.items():
        if records.apply_verdict(by_kind[kind], verdict, actor=staff.actor, now=now):
            session.add(by_kind[kind])
    service = session.get(Service, request.service_id)
    assert service is not None and service.id is not None
    if refuted:
        _forfeit(session, staff, request, booking, service, found, refuted, today, now)
    if any(v == ClaimStatus.NOT_EVIDENCED for v in verdicts.values()):
        records.sanction(
            session,
            service_id=service.id,
            digests=(request.identity_key, request.person_key),
            effect=records.VULNERABILITY_STRICT,
            until=None,
            booking_id=booking.id,
        )
    if verdicts:
        audit.log(
            session,
            action="checkin.claims_judged",
            subject=f"booking:{booking.id}",
            actor=staff.actor,
            verdicts=dict(sorted(verdicts.items())),
        )
    return found


def _forfeit(
    session: Session,
    staff: StaffPrincipal,
    request: AppointmentRequest,
    booking: Booking,
    service: Service,
    found: list[Claim],
    refuted: list[str],
    today: date,
    now: datetime,
) -> NoReturn:
    """A refuted claim: the booking is forfeited, the identity and the person excluded (kept on error)."""
    assert service.id is not None
    until = records.exclusion_end(today, catalog.policy_of(service).false_claim_exclusion_days)
    booking.status = BookingStatus.FORFEITED
    booking.cancelled_at = now
    repository.close(request, RequestStatus.FORFEITED, now)
    session.add_all([booking, request])
    records.sanction(
        session,
        service_id=service.id,
        digests=(request.identity_key, request.person_key),
        effect=records.EXCLUDED,
        until=until,
        booking_id=booking.id,
    )
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    outbox.enqueue(session, request, "forfeited", now, **offers.slot_context(session, slot))
    session.flush()
    audit.log(
        session,
        action="checkin.claim_refuted",
        subject=f"booking:{booking.id}",
        actor=staff.actor,
        refuted=sorted(refuted),
        excluded_until=until.isoformat(),
    )
    raise ClaimRefuted(
        f"a claim was refuted ({', '.join(sorted(refuted))}): the booking is forfeited and this person "
        f"is excluded from the service until {until.isoformat()}",
        keep_changes=True,
        excluded_until=until.isoformat(),
        claims=[c.model_dump(mode="json") for c in records.public(found)],
    )


def _counted_unconfirmed(session: Session, request: AppointmentRequest, booking: Booking) -> list[str]:
    """The claims the winning weight counted while they were not confirmed (from the draw entry)."""
    offer = session.get(Offer, booking.offer_id)
    if offer is None:
        return []
    stored = session.exec(
        select(DrawEntry.unconfirmed_claims).where(
            DrawEntry.draw_id == offer.draw_id, DrawEntry.request_seq == request.seq
        )
    ).first()
    return stored.split() if stored else []
