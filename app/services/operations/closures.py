"""Closures: days an office closes (a strike, works, training) or runs with fewer desks.

A closure shapes what publishing a week and the recurring rules make from then on, and takes back what is
already published on its days (from now on): the free slots of releases not withdrawn (on a reduced day,
the slots beyond its desks at each start, keeping booked ones first, then offered ones), the open offers of
those slots (their requests go back to the queue with the ``office_cancelled`` factor) and, only when the
body says ``cancel_bookings: true``, their bookings (``cancelled_by_office``, holders told at once, back to
the queue likewise); without it, days that hold bookings answer ``409 bookings_in_closure`` with their count
and nothing changes. A release whose ``draw_at`` has come and whose draw is not done is frozen: a closure
that would change its slots, or its entries (a request made pending again that it would draw), answers
``409 draw_pending``.

Deleting a closure opens its days to later publications; what it took back stays taken back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, Offer, Office, OfficeClosure, Release, Slot
from app.domain.access import Action
from app.domain.errors import BookingsInClosure, DrawPending, InvalidInput, NotFound
from app.domain.statuses import BookingStatus, OfferStatus, ReleaseStatus
from app.schemas.planning import ClosureCreate, ClosurePublic
from app.services import audit
from app.services.bookings import office_cancellations
from app.services.draws import freeze, releases
from app.services.operations import catalog
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal

#: The order in which a reduced day keeps the slots of one start time (the others are removed).
_KEEP_FIRST = {"booked": 0, "offered": 1, "free": 2}


@dataclass(frozen=True)
class ClosureView:
    """A closure, its office, and how many free slots it removed (when just created)."""

    closure: OfficeClosure
    office: Office
    removed_slots: int = 0

    def public(self) -> ClosurePublic:
        """As the API shows it."""
        c = self.closure
        return ClosurePublic(
            id=c.id,
            office=self.office.code,
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            reason=c.reason,
            desks=c.desks,
            cancelled_bookings=c.cancelled_bookings,
            withdrawn_offers=c.withdrawn_offers,
            removed_slots=self.removed_slots,
            created_at=c.created_at,
        )


@dataclass(frozen=True)
class _Held:
    """A published slot on the closed days and what holds it."""

    slot: Slot
    release: Release
    state: str  # booked | offered | free
    request_id: str | None = None
    booking_id: str | None = None
    offer_id: int | None = None


def _bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
    return start, end


def _published(session: Session, office: Office, first: date, last: date, now: datetime) -> list[_Held]:
    """The office's published slots still to come on ``first``..``last``, each with what holds it."""
    start, end = _bounds(first, last, ZoneInfo(office.timezone))
    rows = session.exec(
        select(Slot, Release)
        .join(Release, col(Release.id) == Slot.release_id)
        .where(
            Slot.office_id == office.id,
            col(Slot.closed_at).is_(None),
            col(Slot.starts_at) >= max(start, now),
            col(Slot.starts_at) < end,
            col(Release.status) != ReleaseStatus.WITHDRAWN,
        )
        .order_by(col(Slot.starts_at), col(Slot.desk), col(Slot.id))
    ).all()
    ids = [slot.id for slot, _release in rows]
    bookings = {
        b.slot_id: b
        for b in session.exec(
            select(Booking).where(
                col(Booking.slot_id).in_(ids),
                col(Booking.status).in_([BookingStatus.BOOKED, BookingStatus.ATTENDED]),
            )
        ).all()
    }
    offers = {
        o.slot_id: o
        for o in session.exec(
            select(Offer).where(col(Offer.slot_id).in_(ids), Offer.status == OfferStatus.OPEN)
        ).all()
    }
    held: list[_Held] = []
    for slot, release in rows:
        booking = bookings.get(slot.id)  # type: ignore[arg-type]
        offer = offers.get(slot.id)  # type: ignore[arg-type]
        if booking is not None and booking.status == BookingStatus.ATTENDED:
            continue  # already seen at the desk: nothing to take back
        if booking is not None:
            held.append(_Held(slot, release, "booked", booking.request_id, booking_id=booking.id))
        elif offer is not None:
            held.append(_Held(slot, release, "offered", offer.request_id, offer_id=offer.id))
        else:
            held.append(_Held(slot, release, "free"))
    return held


def _taken_back(held: list[_Held], desks: int | None) -> list[_Held]:
    """What the closure removes: everything (closed), or at each start time of a service the slots beyond
    ``desks``, booked ones kept first."""
    if desks is None:
        return held
    groups: dict[tuple[int, datetime], list[_Held]] = defaultdict(list)
    for h in held:
        groups[(h.slot.service_id, h.slot.starts_at)].append(h)
    removed: list[_Held] = []
    for group in groups.values():
        ranked = sorted(group, key=lambda h: (_KEEP_FIRST[h.state], h.slot.desk, h.slot.id or 0))
        removed.extend(ranked[desks:])
    return removed


def _refuse_if_frozen(session: Session, removed: list[_Held], now: datetime) -> None:
    for h in removed:
        if h.release.status == ReleaseStatus.SCHEDULED and h.release.draw_at <= now:
            raise DrawPending(
                f"release {h.release.id} is being drawn with slots on these days; retry shortly",
                release_id=h.release.id,
            )
    held = sorted({h.request_id for h in removed if h.request_id is not None})
    if held:
        for request in session.exec(
            select(AppointmentRequest).where(col(AppointmentRequest.id).in_(held))
        ).all():
            freeze.require_not_frozen(session, request, now, rejoining=True)


def _take_back(
    session: Session, held: _Held, *, now: datetime, reason: str, actor: str, cancel_bookings: bool
) -> tuple[int, int]:
    """Cancel the booking or withdraw the offer that holds a removed slot now (the request is locked first:
    the holder may have answered since the slot was counted); ``(cancelled, withdrawn)``."""
    assert held.request_id is not None
    request = repository.lock_request(session, held.request_id)
    booking = session.exec(
        select(Booking.id).where(Booking.slot_id == held.slot.id, Booking.status == BookingStatus.BOOKED)
    ).first()
    if booking is not None:
        if not cancel_bookings:
            raise BookingsInClosure(
                "a booking was made on these days meanwhile; send cancel_bookings", bookings=1
            )
        done = office_cancellations.cancel_booking(
            session, request, booking, now=now, reason=reason, actor=actor
        )
        return int(done), 0
    offer = session.exec(
        select(Offer.id).where(Offer.slot_id == held.slot.id, Offer.status == OfferStatus.OPEN)
    ).first()
    if offer is not None:
        done = office_cancellations.withdraw_offer(
            session, request, offer, now=now, reason=reason, actor=actor
        )
        return 0, int(done)
    return 0, 0


def create_closure(
    *, session: Session, staff: StaffPrincipal, office: str, data: ClosureCreate, now: datetime
) -> ClosureView:
    """Close days of an office, or reduce its desks (a planner of the office, an admin)."""
    staff.require(Action.PLAN_OFFICE)
    found = catalog.office_at(session, office)
    staff.require(Action.PLAN_OFFICE, office=found.code)
    today = now.astimezone(ZoneInfo(found.timezone)).date()
    errors = []
    if data.starts_on < today:
        errors.append({"path": "starts_on", "message": "a closure starts today or later"})
    if data.starts_on > today + releases.RELEASE_HORIZON:
        errors.append({"path": "starts_on", "message": "a closure starts within two years"})
    if errors:
        raise InvalidInput("the closure is not valid", errors=errors)
    removed = _taken_back(_published(session, found, data.starts_on, data.ends_on, now), data.desks)
    booked = [h for h in removed if h.state == "booked"]
    if booked and not data.cancel_bookings:
        raise BookingsInClosure(
            f"{len(booked)} bookings fall on these days; send cancel_bookings: true to cancel them",
            bookings=len(booked),
        )
    _refuse_if_frozen(session, removed, now)
    actor = staff.actor
    cancelled = withdrawn = 0
    # The lock order of every change: each request, then its booking or offer, then the slots, then releases.
    for held in sorted((h for h in removed if h.request_id is not None), key=lambda h: h.request_id or ""):
        took = _take_back(
            session, held, now=now, reason=data.reason, actor=actor, cancel_bookings=data.cancel_bookings
        )
        cancelled += took[0]
        withdrawn += took[1]
    _close_slots(session, removed, now)
    assert found.id is not None
    closure = OfficeClosure(
        office_id=found.id,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        reason=data.reason,
        desks=data.desks,
        cancelled_bookings=cancelled,
        withdrawn_offers=withdrawn,
        created_at=now,
        created_by=actor,
    )
    session.add(closure)
    session.flush()
    audit.log(
        session,
        action="closure.created",
        subject=f"office:{found.code}",
        actor=actor,
        closure_id=closure.id,
        starts_on=data.starts_on.isoformat(),
        ends_on=data.ends_on.isoformat(),
        desks=data.desks,
        reason=data.reason,
        removed_slots=len(removed),
        cancelled_bookings=cancelled,
        withdrawn_offers=withdrawn,
    )
    return ClosureView(closure, found, removed_slots=len(removed))


def _close_slots(session: Session, removed: list[_Held], now: datetime) -> None:
    ids = sorted(h.slot.id for h in removed if h.slot.id is not None)
    if not ids:
        return
    # Locked in id order; a slot a re-draw is gathering meanwhile (SKIP LOCKED there) waits for us.
    session.exec(
        select(Slot).where(col(Slot.id).in_(ids)).order_by(col(Slot.id)).with_for_update(key_share=True)
    ).all()
    session.execute(update(Slot).where(col(Slot.id).in_(ids)).values(closed_at=now, returned_at=None))
    per_release: dict[int, int] = defaultdict(int)
    for h in removed:
        if h.release.status == ReleaseStatus.SCHEDULED and h.release.id is not None:
            per_release[h.release.id] += 1
    for release_id, count in sorted(per_release.items()):
        session.execute(
            update(Release).where(col(Release.id) == release_id).values(slot_count=Release.slot_count - count)
        )
    session.expire_all()


def list_closures(*, session: Session, staff: StaffPrincipal, office: str) -> list[ClosureView]:
    """The office's closures, by start (planner, desk or auditor of the office, admin)."""
    staff.require(Action.READ_CALENDAR)
    found = catalog.office_at(session, office)
    staff.require(Action.READ_CALENDAR, office=found.code)
    rows: Sequence[OfficeClosure] = session.exec(
        select(OfficeClosure)
        .where(OfficeClosure.office_id == found.id)
        .order_by(col(OfficeClosure.starts_on), col(OfficeClosure.id))
    ).all()
    return [ClosureView(row, found) for row in rows]


def delete_closure(*, session: Session, staff: StaffPrincipal, office: str, closure_id: int) -> None:
    """Remove a closure: its days may be published again (what it took back stays taken back)."""
    staff.require(Action.PLAN_OFFICE)
    found = catalog.office_at(session, office)
    staff.require(Action.PLAN_OFFICE, office=found.code)
    closure = session.get(OfficeClosure, closure_id)
    if closure is None or closure.office_id != found.id:
        raise NotFound(f"no closure {closure_id} at office {found.code!r}")
    session.delete(closure)
    session.flush()
    audit.log(
        session,
        action="closure.deleted",
        subject=f"office:{found.code}",
        actor=staff.actor,
        closure_id=closure_id,
        starts_on=closure.starts_on.isoformat(),
        ends_on=closure.ends_on.isoformat(),
    )
