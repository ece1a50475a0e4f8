"""Confirm or release: the applicant confirms a booking in its window; the scheduler reminds and releases.

Scheduler jobs here (each takes up to ``BATCH`` bookings a transaction, request rows first with
``SKIP LOCKED`` as every job does, so any number of workers share the work and each booking is reminded
or released once): the release at ``confirm_by`` of a booking still unconfirmed (status ``released``,
slot back to a draw like any returned slot, identity free at once, no no-show penalty), and the
reminders of ``REMINDERS``, one table: "confirmation window open" at ``confirm_from``, "confirmation due
tomorrow" 24 hours before ``confirm_by``, and "appointment tomorrow" from 24 hours before the slot while
it is the eve of the slot's date in the office's time zone, with the office's address and what to bring (a
booking made on the day of its appointment has no eve: it is marked as handled and gets none). See
``app/domain/confirmation.py`` for the window and the eve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, Offer, Office, Service, Slot
from app.domain import confirmation
from app.domain.errors import NotConfirmable
from app.domain.statuses import BookingStatus, OfferStatus, RequestStatus
from app.services import audit
from app.services.bookings import calendar_files, offers
from app.services.draws import returns
from app.services.messages import outbox
from app.services.operations import practical
from app.services.requests import repository

BATCH = 200
DAY = timedelta(days=1)


def confirm(
    *, session: Session, request_id: str, now: datetime, actor: str = "applicant"
) -> AppointmentRequest:
    """Confirm the booking inside its window (again: nothing changes); ``409 not_confirmable`` otherwise.

    ``actor`` is who the audit log names: the applicant, or the partner acting for them."""
    request = repository.lock_request(session, request_id)
    booking = offers.booking_for_update(session, request.id)
    if booking is None:
        raise NotConfirmable("this request has no booking to confirm")
    if booking.confirmed_at is not None:
        return request
    if not confirmation.is_open(booking.confirm_from, booking.confirm_by, now):
        if booking.confirm_from is None or booking.confirm_by is None:
            raise NotConfirmable("this booking needs no confirmation")
        raise NotConfirmable(
            f"confirm between {booking.confirm_from.isoformat()} and {booking.confirm_by.isoformat()}",
            confirm_from=booking.confirm_from.isoformat(),
            confirm_by=booking.confirm_by.isoformat(),
        )
    booking.confirmed_at = now
    session.add(booking)
    session.flush()
    audit.log(session, action="booking.confirmed", subject=f"booking:{booking.id}", actor=actor)
    return request


def _context(session: Session, booking: Booking, slot: Slot) -> dict[str, Any]:
    office = session.get(Office, booking.office_id)
    assert office is not None
    zone = ZoneInfo(office.timezone)
    return {
        "office": office.name,
        "timezone": office.timezone,
        "starts_at": slot.starts_at.astimezone(zone),
        "confirm_by": booking.confirm_by.astimezone(zone) if booking.confirm_by else None,
        **practical.practical_context(office, session.get(Service, slot.service_id)),
    }


def _due(
    session: Session, *conditions: ColumnElement[bool], with_slot: bool = False
) -> list[tuple[str, str]]:
    query = (
        select(Booking.id, AppointmentRequest.id)
        .join(AppointmentRequest, col(AppointmentRequest.id) == Booking.request_id)
        .where(Booking.status == BookingStatus.BOOKED, *conditions)
    )
    if with_slot:
        query = query.join(Slot, col(Slot.id) == Booking.slot_id)
    found = session.exec(query.limit(BATCH).with_for_update(skip_locked=True, of=AppointmentRequest)).all()
    return [(str(b), str(r)) for b, r in found]


def _locked(session: Session, booking_id: str, request_id: str) -> tuple[AppointmentRequest, Booking, Slot]:
    request = repository.lock_request(session, request_id)
    booking = session.exec(
        select(Booking).where(Booking.id == booking_id).with_for_update(key_share=True)
    ).one()
    session.refresh(booking)
    slot = session.get(Slot, booking.slot_id)
    assert slot is not None
    return request, booking, slot


def release_unconfirmed(session: Session, *, now: datetime, redraw_within: timedelta) -> list[str] | None:
    """Release the bookings not confirmed by ``confirm_by``: their slots go back to a draw; their ids."""
    overdue = (col(Booking.confirmed_at).is_(None), col(Booking.confirm_by) <= now)
    pairs = _due(session, *overdue)
    if not pairs:
        return None
    # The request rows are locked (the first lock of every change to a booking); the batch's bookings,
    # offers and slots are then read in one statement each, in the lock order of the other jobs.
    locked = {
        r.id: r
        for r in session.exec(
            select(AppointmentRequest).where(col(AppointmentRequest.id).in_([r for _b, r in pairs]))
        ).all()
    }
    bookings = session.exec(
        select(Booking)
        .where(col(Booking.id).in_([b for b, _r in pairs]))
        .order_by(col(Booking.id))
        .with_for_update(key_share=True)
    ).all()
    offers_by_id = {
        o.id: o
        for o in session.exec(
            select(Offer)
            .where(col(Offer.id).in_([b.offer_id for b in bookings]))
            .with_for_update(key_share=True)
        ).all()
    }
    slots = {
        s.id: s
        for s in session.exec(
            select(Slot)
            .where(col(Slot.id).in_([b.slot_id for b in bookings]))
            .with_for_update(key_share=True)
        ).all()
    }
    done = []
    # Office by office, service by service: each return may lock the next release of its office and
    # service, and every job that returns several slots takes those releases in this one order.
    in_order = sorted(bookings, key=lambda b: (slots[b.slot_id].office_id, slots[b.slot_id].service_id, b.id))
    for booking in in_order:
        if (
            booking.status != BookingStatus.BOOKED
            or booking.confirmed_at is not None
            or booking.confirm_by is None
        ):
            continue
        if booking.confirm_by > now:
            continue
        request, offer, slot = (
            locked[booking.request_id],
            offers_by_id[booking.offer_id],
            slots[booking.slot_id],
        )
        booking.status = BookingStatus.RELEASED
        booking.released_at = now
        offer.status = OfferStatus.RELEASED
        offer.active_slot_id = None
        session.add_all([booking, offer])
        session.flush()
        returns.return_slot(session, slot, now=now, redraw_within=redraw_within, actor="scheduler")
        ics = calendar_files.calendar_file(session, booking, request.language)
        outbox.enqueue(session, request, "released", now, ics=ics, **_context(session, booking, slot))
        repository.close(request, RequestStatus.RELEASED, now)
        session.add(request)
        audit.log(session, action="booking.released", subject=f"booking:{booking.id}", actor="scheduler")
        done.append(booking.id)
    session.flush()
    return done or None


@dataclass(frozen=True)
class Reminder:
    """One reminder of a booking: the message ``kind`` it queues once, the booking column that records
    it was queued (``marker``), and when it is due (``due(now)``, conditions on ``Booking`` and, with
    ``with_slot``, on its ``Slot``). ``unconfirmed_only``: only while the booking awaits confirmation;
    ``evidence``: the message says whether to bring proof of the declared urgency; ``eve_only``: only on
    the day before the slot's date (office time), else the booking is marked handled without a message."""

    kind: str
    marker: str
    due: Callable[[datetime], tuple[ColumnElement[bool], ...]]
    unconfirmed_only: bool = True
    with_slot: bool = False
    evidence: bool = False
    eve_only: bool = False


#: The reminders of a booking, in the order the scheduler sends them.
REMINDERS = (
    # "Confirm your appointment": the window opened.
    Reminder(
        kind="confirm_window_open",
        marker="window_reminded_at",
        due=lambda now: (col(Booking.confirm_from) <= now, col(Booking.confirm_by) > now),
    ),
    # "Last day to confirm": 24 hours before confirm_by.
    Reminder(
        kind="confirm_due_tomorrow",
        marker="due_reminded_at",
        due=lambda now: (col(Booking.confirm_by) <= now + DAY, col(Booking.confirm_by) > now),
    ),
    # "Appointment tomorrow", with the address and what to bring: 24 hours before the slot, for
    # confirmed bookings and those that need no confirmation.
    Reminder(
        kind="appointment_tomorrow",
        marker="eve_reminded_at",
        due=lambda now: (
            col(Slot.starts_at) <= now + DAY,
            col(Slot.starts_at) > now,
            col(Booking.confirm_by).is_(None) | col(Booking.confirmed_at).is_not(None),
        ),
        unconfirmed_only=False,
        with_slot=True,
        evidence=True,
        eve_only=True,
    ),
)


def send_reminder(session: Session, reminder: Reminder, *, now: datetime) -> list[str] | None:
    """Queue ``reminder``'s message for up to ``BATCH`` bookings due for it; the ids of those reminded
    (None when none was due)."""
    conditions = [col(getattr(Booking, reminder.marker)).is_(None), *reminder.due(now)]
    if reminder.unconfirmed_only:
        conditions.append(col(Booking.confirmed_at).is_(None))
    done: list[str] = []
    handled = False
    for booking_id, request_id in _due(session, *conditions, with_slot=reminder.with_slot):
        request, booking, slot = _locked(session, booking_id, request_id)
        if booking.status != BookingStatus.BOOKED or getattr(booking, reminder.marker) is not None:
            continue  # changed since it was found
        if reminder.unconfirmed_only and booking.confirmed_at is not None:
            continue
        setattr(booking, reminder.marker, now)  # queued, or found to have no eve: handled once either way
        session.add(booking)
        handled = True
        context = _context(session, booking, slot)
        if reminder.eve_only and not confirmation.is_eve(
            now=now, starts_at=slot.starts_at, zone=context["starts_at"].tzinfo
        ):
            continue
        if reminder.evidence:
            context["evidence"] = bool(request.permit_expires_on or request.vulnerabilities)
        outbox.enqueue(session, request, reminder.kind, now, **context)
        done.append(booking.id)
    session.flush()
    return done if handled else None  # an empty list: handled without a message, look for more
