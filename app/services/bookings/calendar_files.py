"""A booking as an RFC 5545 calendar file (``booking.ics``): downloaded from the status page and the API,
attached to the e-mails that book or end an appointment.

The event's ``UID`` is the booking's (stable whatever happens to it); its ``SEQUENCE`` counts the booking's
changes (confirmed after it was made, then ended), so a calendar that imported an earlier file replaces the
event; an ended booking (cancelled, given back, cancelled by the office, released, forfeited) is
``STATUS:CANCELLED``. Times carry the office's zone (``TZID`` with its ``VTIMEZONE``); ``LOCATION`` is the
office's name and address; the description says where to go and what to bring, in the applicant's language.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, Office, Service, Slot
from app.domain.errors import NotFound
from app.domain.statuses import BookingStatus
from app.services.messages import texts
from app.services.operations import catalog, practical

#: Booking statuses whose appointment will not take place.
ENDED = frozenset(
    {
        BookingStatus.CANCELLED,
        BookingStatus.GIVEN_BACK,
        BookingStatus.CANCELLED_BY_OFFICE,
        BookingStatus.RELEASED,
        BookingStatus.FORFEITED,
    }
)
PRODUCT = "-//Fairslot//Appointments//EN"
MEDIA_TYPE = "text/calendar"


def sequence_of(booking: Booking) -> int:
    """How many times the booking changed since it was made (its calendar event's ``SEQUENCE``)."""
    confirmed_later = booking.confirmed_at is not None and booking.confirmed_at > booking.created_at
    return int(confirmed_later) + int(booking.status != BookingStatus.BOOKED)


def _changed_at(booking: Booking) -> datetime:
    moments = [booking.created_at, booking.confirmed_at, booking.cancelled_at, booking.released_at]
    moments += [booking.checked_in_at, booking.no_show_at]
    return max(m for m in moments if m is not None)


def calendar_file(session: Session, booking: Booking, language: str) -> str:
    """The calendar file of ``booking`` (its text), in ``language``."""
    slot = session.get(Slot, booking.slot_id)
    office = session.get(Office, booking.office_id)
    assert slot is not None and office is not None
    service = session.get(Service, slot.service_id)
    zone = ZoneInfo(office.timezone)
    event = Event()
    event.add("uid", f"{booking.id}@fairslot")
    event.add("sequence", sequence_of(booking))
    event.add("dtstamp", _changed_at(booking))
    event.add("dtstart", slot.starts_at.astimezone(zone))
    event.add("dtend", slot.ends_at.astimezone(zone))
    name = catalog.service_name_in(service, language) if service is not None else ""
    event.add("summary", f"{name}, {office.name}" if name else office.name)
    event.add("location", f"{office.name}, {office.address}" if office.address else office.name)
    context = {"office": office.name, **practical.practical_context(office, service)}
    event.add("description", texts.place_text(language, context))
    event.add("status", "CANCELLED" if booking.status in ENDED else "CONFIRMED")
    calendar = Calendar()
    calendar.add("prodid", PRODUCT)
    calendar.add("version", "2.0")
    # PUBLISH either way: a cancelled event is published with STATUS:CANCELLED (an iTIP CANCEL would need an
    # organizer and attendees this file has no business naming).
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    # The zone's rules around the appointment only (the whole 1970-2038 table would weigh kilobytes).
    day = slot.starts_at.date()
    calendar.add_missing_timezones(first_date=day - timedelta(days=366), last_date=day + timedelta(days=366))
    return calendar.to_ical().decode("utf-8")


def latest_booking(session: Session, request: AppointmentRequest) -> Booking:
    """The request's latest booking, whatever its status (404 when it never had one)."""
    booking = session.exec(
        select(Booking).where(Booking.request_id == request.id).order_by(col(Booking.created_at).desc())
    ).first()
    if booking is None:
        raise NotFound("this request has no booking")
    return booking


def request_calendar(session: Session, request: AppointmentRequest) -> str:
    """The calendar file of the request's latest booking, in the request's language."""
    return calendar_file(session, latest_booking(session, request), request.language)
