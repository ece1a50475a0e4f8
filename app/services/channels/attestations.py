"""Issuing and checking attestations (``app.domain.proofs.attestation``), and the short ``/check`` links.

Each issue signs the request's statement as of now and stores its link (a digest and the sealed JWS, see
the domain module). Checking needs nothing but the JWS and the keyring: a purged request's attestation
still verifies, and so does its link, since neither the keyring nor the link rows are purged.

A statement is true as of its date and never changes; a third party also needs to know whether it still
holds (a booking attested on Monday may be cancelled on Tuesday). A check therefore gives, beside a genuine
statement, the request's **current** state: its status now and since when (``CurrentState``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.db.models import AppointmentRequest, AttestationLink, Booking, Offer, Service
from app.domain.proofs import attestation
from app.domain.proofs.attestation import DrawOutcome, Verdict
from app.domain.statuses import CLOSED_REQUEST_STATUSES, BookingStatus, OfferStatus, RequestStatus
from app.services.bookings import token_keys
from app.services.requests.views import request_view


@dataclass(frozen=True)
class Issued:
    """A freshly signed attestation, its statement and the link its QR code carries."""

    token: str
    statement: dict[str, Any]
    check_url: str


def check_url(public_url: str, code: str) -> str:
    """The ``/check`` link of a link code."""
    return f"{public_url.rstrip('/')}/check?d={code}"


def statement_of(session: Session, request: AppointmentRequest, now: datetime, issuer: str) -> dict[str, Any]:
    """What an attestation of ``request`` states as of ``now``."""
    service = session.get(Service, request.service_id)
    assert service is not None
    view = request_view(session, request, now)
    return attestation.build_statement(
        issuer=issuer,
        issued_at=now,
        request_id=request.id,
        family_name=request.family_name or "",
        given_names=request.given_names or "",
        service=service.code,
        offices=request.offices,
        channel=request.channel,
        submitted_at=request.submitted_at,
        status=request.status,
        draws=[DrawOutcome(d.draw_id, d.office, d.drawn_at, d.outcome) for d in view.draws],
    )


def issue(
    *, session: Session, request: AppointmentRequest, now: datetime, secret: bytes, public_url: str
) -> Issued:
    """Sign the request's statement now and store its short link."""
    statement = statement_of(session, request, now, public_url.rstrip("/"))
    token = attestation.sign(token_keys.keyring(session, secret, now), statement)
    code = attestation.link_code(token)
    lookup = attestation.lookup_of(code)
    assert lookup is not None
    if session.get(AttestationLink, lookup) is None:
        try:
            with session.begin_nested():
                session.add(
                    AttestationLink(
                        lookup=lookup,
                        request_id=request.id,
                        sealed=attestation.seal(token, code),
                        issued_at=now,
                    )
                )
        except IntegrityError:
            pass  # the same attestation issued twice in one second by two calls: one link is enough
    return Issued(token=token, statement=statement, check_url=check_url(public_url, code))


@dataclass(frozen=True)
class CurrentState:
    """Where the attested request stands now: its status and when it entered it."""

    status: str
    since: datetime


@dataclass(frozen=True)
class Check:
    """A check's answer: the verdict on the attestation and, when genuine, the request's current state."""

    verdict: Verdict
    current: CurrentState | None = None


def current_state(session: Session, request_id: str) -> CurrentState | None:
    """The request's status now and since when (None when no such request is kept).

    Since: a closed request's closing; a booking's making; an offer's draw; a pending request's filing or,
    when an offer or a booking of it ended since, the last such end (it then came back to the queue).
    """
    request = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).first()
    if request is None:
        return None
    status = RequestStatus(request.status)
    if status in CLOSED_REQUEST_STATUSES and request.closed_at is not None:
        return CurrentState(status, request.closed_at)
    offers = session.exec(select(Offer).where(Offer.request_id == request.id)).all()
    bookings = session.exec(select(Booking).where(Booking.request_id == request.id)).all()
    if status == RequestStatus.BOOKED:
        live = [b.created_at for b in bookings if b.status == BookingStatus.BOOKED]
        return CurrentState(status, max(live, default=request.updated_at))
    if status == RequestStatus.OFFERED:
        open_ = [o.created_at for o in offers if o.status == OfferStatus.OPEN]
        return CurrentState(status, max(open_, default=request.updated_at))
    ends = [o.decided_at for o in offers] + [b.cancelled_at for b in bookings] + [request.submitted_at]
    return CurrentState(status, max(moment for moment in ends if moment is not None))


def check(*, session: Session, token: object, secret: bytes, now: datetime) -> Check:
    """Whether ``token`` is a genuine attestation, and if so where its request stands now."""
    verdict = verify(session=session, token=token, secret=secret, now=now)
    request_id = verdict.statement.get("request_id") if verdict.valid and verdict.statement else None
    current = current_state(session, request_id) if isinstance(request_id, str) else None
    return Check(verdict, current)


def check_link(*, session: Session, code: str, secret: bytes, now: datetime) -> tuple[str, Check] | None:
    """The attestation a ``/check`` link opens and its check, or None when the link is unknown."""
    opened = open_link(session=session, code=code, secret=secret, now=now)
    if opened is None:
        return None
    token, _verdict = opened
    return token, check(session=session, token=token, secret=secret, now=now)


def verify(*, session: Session, token: object, secret: bytes, now: datetime) -> Verdict:
    """Whether ``token`` is a genuine attestation of this service (never raises on any input)."""
    return attestation.verify(token_keys.keyring(session, secret, now), token)


def open_link(*, session: Session, code: str, secret: bytes, now: datetime) -> tuple[str, Verdict] | None:
    """The attestation a ``/check`` link opens and its verdict, or None when the link is unknown."""
    lookup = attestation.lookup_of(code[:64])
    row = session.get(AttestationLink, lookup) if lookup is not None else None
    if row is None:
        return None
    token = attestation.unseal(row.sealed, code)
    if token is None:
        return None
    return token, verify(session=session, token=token, secret=secret, now=now)
