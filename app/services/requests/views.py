"""What an applicant sees of their request: status, weight, draws, offer and booking."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.models import (
    AppointmentRequest,
    Booking,
    Draw,
    DrawEntry,
    Offer,
    Office,
    OutboxMessage,
    Release,
    Service,
    Slot,
)
from app.domain.draws import lottery
from app.domain.statuses import CLOSED_REQUEST_STATUSES, OfferStatus, RequestStatus
from app.domain.weights import Weight, compute_weight, draw_days_lost, plain
from app.schemas.claims import ClaimPublic
from app.schemas.requests import (
    BookingPublic,
    DrawTakenPart,
    FactorPublic,
    MessagePublic,
    NextDrawPublic,
    OfferPublic,
    RequestPublic,
    WeightPublic,
)
from app.services.claims import records
from app.services.evidence import chances
from app.services.intake import verification
from app.services.operations import catalog
from app.services.requests.repository import current_weight


def request_view(session: Session, request: AppointmentRequest, now: datetime) -> RequestPublic:
    """The applicant's view of ``request`` as of ``now``."""
    service = session.get(Service, request.service_id)
    assert service is not None
    first_office = catalog.office_by_code(session, request.offices[0])
    today = now.astimezone(ZoneInfo(first_office.timezone)).date()
    taken = _draws_taken(session, request)
    draws = [part for part, _day in taken]
    lost = draw_days_lost((day, part.outcome == lottery.OFFERED) for part, day in taken)
    found = records.of_request(session, request.seq)
    weight = (
        None  # a closed request enters no draw: it has no weight
        if request.status in CLOSED_REQUEST_STATUSES
        else current_weight(session, request, service, today, lost=lost, statuses=records.statuses(found))
    )
    view = _view(
        request,
        service,
        weight,
        today,
        draws,
        _open_offer(session, request),
        _booking(session, request),
        records.public(found),
    )
    view.messages = messages(session, request)
    view.verification = verification.view(request)
    view.next_draws = [NextDrawPublic(**vars(d)) for d in chances.next_draws(session, request, now)]
    return view


def new_request_view(
    request: dict[str, Any],
    service: Service,
    first_office: Office,
    last_no_show: date | None,
    now: datetime,
    *,
    strict_vulnerability: bool = False,
) -> RequestPublic:
    """The view of a request just submitted (its column values): no draw, offer or booking yet."""
    today = now.astimezone(ZoneInfo(first_office.timezone)).date()
    weight = compute_weight(
        policy=catalog.policy_of(service),
        on=today,
        permit_expires_on=request["permit_expires_on"],
        vulnerabilities=request["vulnerabilities"],
        draws_lost=0,
        last_no_show_on=last_no_show,
        strict_vulnerability=strict_vulnerability,
    )
    return RequestPublic(
        id=request["id"],
        entry=request["entry"],
        service=service.code,
        offices=request["offices"],
        status=request["status"],
        channel=request.get("channel", "online"),
        submitted_at=request["submitted_at"],
        weight=_weight_public(weight, today),
        claims=records.public_declared(request["permit_expires_on"], request["vulnerabilities"]),
        draws_entered=0,
        draws=[],
        offer=None,
        booking=None,
        verification=verification.view(request),
        # Queued with the request, in the same transaction (see ``notifications.received_rows``).
        messages=[
            MessagePublic(
                channel=channel, kind="request_received", status="queued", at=request["submitted_at"]
            )
            for channel, address in (("email", request["email"]), ("sms", request["phone"]))
            if address
        ],
    )


def _view(
    request: AppointmentRequest,
    service: Service,
    weight: Weight | None,
    today: date,
    draws: list[DrawTakenPart],
    offer: OfferPublic | None,
    booking: BookingPublic | None,
    claims_public: list[ClaimPublic],
) -> RequestPublic:
    return RequestPublic(
        id=request.id,
        entry=request.entry,
        service=service.code,
        offices=request.offices,
        status=request.status,
        channel=request.channel,
        submitted_at=request.submitted_at,
        weight=_weight_public(weight, today) if weight is not None else None,
        claims=claims_public,
        draws_entered=len(draws),
        draws=draws,
        offer=offer,
        booking=booking,
    )


def _weight_public(weight: Weight, today: date) -> WeightPublic:
    return WeightPublic(
        total=format(weight.total, "f"),
        factors=[
            FactorPublic(
                name=f.name,
                value=plain(f.value),
                reason=f.reason,
                code=f.code,
                params=dict(f.params),
                claim=f.claim,
            )
            for f in weight.factors
        ],
        as_of=today,
    )


def _draws_taken(session: Session, request: AppointmentRequest) -> list[tuple[DrawTakenPart, date]]:
    """The draws the request entered, each with its office-local date (the unit of waiting)."""
    return [
        (
            DrawTakenPart(
                draw_id=entry.draw_id,
                release_id=release.id,
                office=office.code,
                drawn_at=draw.drawn_at,
                weight=entry.weight,
                rank=entry.rank,
                outcome=entry.outcome,
            ),
            draw.day,
        )
        for entry, draw, release, office in session.exec(
            select(DrawEntry, Draw, Release, Office)
            .join(Draw, col(Draw.id) == DrawEntry.draw_id)
            .join(Release, col(Release.id) == Draw.release_id)
            .join(Office, col(Office.id) == Release.office_id)
            .where(DrawEntry.request_seq == request.seq)
            .order_by(col(Draw.drawn_at))
        ).all()
    ]


def _open_offer(session: Session, request: AppointmentRequest) -> OfferPublic | None:
    if request.status != RequestStatus.OFFERED:
        return None
    row = session.exec(
        select(Offer, Slot, Office)
        .join(Slot, col(Slot.id) == Offer.slot_id)
        .join(Office, col(Office.id) == Slot.office_id)
        .where(Offer.request_id == request.id, Offer.status == OfferStatus.OPEN)
    ).first()
    if row is None:
        return None
    offer, slot, office = row
    zone = ZoneInfo(office.timezone)
    return OfferPublic(
        office=office.code,
        starts_at=slot.starts_at.astimezone(zone),
        ends_at=slot.ends_at.astimezone(zone),
        expires_at=offer.expires_at,
    )


def _booking(session: Session, request: AppointmentRequest) -> BookingPublic | None:
    row = session.exec(
        select(Booking, Slot, Office)
        .join(Slot, col(Slot.id) == Booking.slot_id)
        .join(Office, col(Office.id) == Booking.office_id)
        .where(Booking.request_id == request.id)
        .order_by(col(Booking.created_at).desc())
    ).first()
    if row is None:
        return None
    booking, slot, office = row
    zone = ZoneInfo(office.timezone)
    return BookingPublic(
        id=booking.id,
        office=office.code,
        starts_at=slot.starts_at.astimezone(zone),
        ends_at=slot.ends_at.astimezone(zone),
        status=booking.status,
        token=booking.token,
        confirm_from=booking.confirm_from,
        confirm_by=booking.confirm_by,
        confirmed_at=booking.confirmed_at,
    )


#: Outbox statuses as the applicant sees them (rows with no recipient are not messages).
_SHOWN = {"pending": "queued", "sent": "sent", "delivered": "delivered", "failed": "failed"}


def messages(session: Session, request: AppointmentRequest) -> list[MessagePublic]:
    """The messages about a request, oldest first, each with its delivery status and when it got there."""
    rows = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.request_id == request.id, col(OutboxMessage.status).in_(list(_SHOWN)))
        .order_by(col(OutboxMessage.id))
    ).all()
    return [
        MessagePublic(
            channel=row.channel,
            kind=row.kind,
            status=_SHOWN[row.status],
            at=row.settled_at or row.sent_at or row.created_at,
        )
        for row in rows
    ]
