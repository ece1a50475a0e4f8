"""The calendar of an office: per day its public holiday, its closure and, per service, its slots by state.

``slots`` counts the slots of releases not withdrawn on that day (a closure's removed slots left out); each
of them is ``offered`` (an open offer), ``booked`` (not yet confirmed), ``confirmed``, ``attended``,
``no_show``, or else ``free`` (never offered, or back in the draws; a forfeited booking's slot is none of
these). ``cancelled`` counts the bookings of that day cancelled by their holder or by the office, or given
back. The planner's week page (``/staff/calendar``) reads the same figures, with the releases that hold the
week's slots.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import Booking, Offer, Office, OfficeClosure, OpeningSchedule, Release, Service, Slot
from app.domain.access import Action
from app.domain.errors import InvalidInput, NotFound
from app.domain.planning import weeks
from app.domain.statuses import BookingStatus, OfferStatus, ReleaseStatus
from app.schemas.planning import (
    MAX_CALENDAR_DAYS,
    CalendarClosure,
    CalendarCounts,
    CalendarDay,
    CalendarPublic,
    CapacityAdvicePublic,
)
from app.services.draws import releases
from app.services.operations import capacity, catalog, office_days
from app.services.staff.keys import StaffPrincipal

#: Booking statuses counted as ``cancelled`` (``given_back``: the holder kept their place in the queue).
CANCELLED = ("cancelled", BookingStatus.CANCELLED_BY_OFFICE.value, "given_back")
_OCCUPYING = {
    BookingStatus.ATTENDED.value: "attended",
    BookingStatus.NO_SHOW.value: "no_show",
    BookingStatus.FORFEITED.value: "forfeited",
}
COUNTS = ("slots", "free", "offered", "booked", "confirmed", "attended", "no_show", "cancelled")


def _bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(first, time(0), tzinfo=zone),
        datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone),
    )


def _counts(
    session: Session, office: Office, first: date, last: date
) -> dict[tuple[date, int], dict[str, int]]:
    """Per (local day, service id), the counts of ``COUNTS`` (and ``forfeited``)."""
    zone = ZoneInfo(office.timezone)
    start, end = _bounds(first, last, zone)
    in_range = (
        col(Slot.office_id) == office.id,
        col(Slot.starts_at) >= start,
        col(Slot.starts_at) < end,
    )
    counts: dict[tuple[date, int], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys((*COUNTS, "forfeited"), 0)
    )
    live: dict[int, tuple[date, int]] = {}
    for slot_id, service_id, starts_at in session.execute(
        sa_select(col(Slot.id), col(Slot.service_id), col(Slot.starts_at))
        .join(Release, col(Release.id) == Slot.release_id)
        .where(*in_range, col(Slot.closed_at).is_(None), col(Release.status) != ReleaseStatus.WITHDRAWN)
    ).all():
        key = (starts_at.astimezone(zone).date(), service_id)
        counts[key]["slots"] += 1
        live[slot_id] = key
    if live:
        for (slot_id,) in session.execute(
            sa_select(col(Offer.slot_id)).where(
                col(Offer.slot_id).in_(list(live)), col(Offer.status) == OfferStatus.OPEN
            )
        ).all():
            counts[live[slot_id]]["offered"] += 1
    for slot_id, service_id, starts_at, status, confirmed_at in session.execute(
        sa_select(
            col(Slot.id),
            col(Slot.service_id),
            col(Slot.starts_at),
            col(Booking.status),
            col(Booking.confirmed_at),
        )
        .join(Booking, col(Booking.slot_id) == Slot.id)
        .where(*in_range)
    ).all():
        key = (starts_at.astimezone(zone).date(), service_id)
        if status in CANCELLED:
            counts[key]["cancelled"] += 1
        elif slot_id not in live:
            continue  # a slot a closure removed: only its cancellation counts
        elif status == BookingStatus.BOOKED:
            counts[key]["confirmed" if confirmed_at is not None else "booked"] += 1
        elif status in _OCCUPYING:
            counts[key][_OCCUPYING[status]] += 1
    for figures in counts.values():
        used = sum(
            figures[name] for name in ("offered", "booked", "confirmed", "attended", "no_show", "forfeited")
        )
        figures["free"] = max(0, figures["slots"] - used)
    return counts


def _services(session: Session, office: Office, seen: set[int]) -> list[Service]:
    """The services the calendar lists: those with a schedule at the office or slots in the period."""
    planned = set(
        session.exec(select(OpeningSchedule.service_id).where(OpeningSchedule.office_id == office.id)).all()
    )
    wanted = planned | seen
    return [s for s in catalog.list_services(session) if s.id in wanted]


def calendar_days(
    session: Session, office: Office, first: date, days: int, language: str = "fr"
) -> CalendarPublic:
    """The office's days from ``first`` (no access check: the callers' job)."""
    last = first + timedelta(days=days - 1)
    counts = _counts(session, office, first, last)
    services = _services(session, office, {service_id for _day, service_id in counts})
    holidays = office_days.holidays_of(office, first, last, language)
    closures = office_days.closures_between(session, office, first, last)
    shown: list[CalendarDay] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        closure = office_days.closure_of(closures, day)
        shown.append(
            CalendarDay(
                date=day,
                holiday=holidays.get(day),
                closure=None
                if closure is None
                else CalendarClosure(id=closure.id, reason=closure.reason, desks=closure.desks),
                services=[
                    CalendarCounts(
                        service=service.code,
                        **{name: counts.get((day, service.id or 0), {}).get(name, 0) for name in COUNTS},
                    )
                    for service in services
                ],
            )
        )
    return CalendarPublic(office=office.code, timezone=office.timezone, days=shown)


def office_calendar(
    *, session: Session, staff: StaffPrincipal, office: str, first: date | None, days: int, now: datetime
) -> CalendarPublic:
    """``days`` days (at most 31) from ``first`` (today, office-local, by default): planner, desk or auditor
    of the office, admin."""
    staff.require(Action.READ_CALENDAR)
    found = catalog.office_at(session, office)
    staff.require(Action.READ_CALENDAR, office=found.code)
    if not 1 <= days <= MAX_CALENDAR_DAYS:
        raise InvalidInput(
            f"a calendar shows 1 to {MAX_CALENDAR_DAYS} days",
            errors=[{"path": "days", "message": f"from 1 to {MAX_CALENDAR_DAYS}"}],
        )
    start = first or now.astimezone(ZoneInfo(found.timezone)).date()
    return calendar_days(session, found, start, days)


@dataclass(frozen=True)
class PlannerWeek:
    """What the planner's week page shows: the calendar of one week and what acts on it."""

    office: Office
    offices: list[Office]
    monday: date
    week: str
    calendar: CalendarPublic
    services: list[Service]
    releases: list[releases.ReleaseView]
    closures: list[OfficeClosure]
    advice: dict[str, CapacityAdvicePublic]


def planner_week(
    *,
    session: Session,
    staff: StaffPrincipal,
    office: str | None,
    week: str | None,
    now: datetime,
    language: str,
) -> PlannerWeek:
    """The week of ``week`` (the current one by default) at ``office`` (the first the key reaches by
    default): 403 outside the key's offices, 422 for a week that is not ISO."""
    staff.require(Action.READ_CALENDAR)
    reachable = [o for o in catalog.list_offices(session) if staff.covers(o.code)]
    if office is None:
        if not reachable:
            raise NotFound("no office to show")
        found = reachable[0]
    else:
        found = catalog.office_at(session, office)
    staff.require(Action.READ_CALENDAR, office=found.code)
    zone = ZoneInfo(found.timezone)
    try:
        monday = weeks.parse_week(week) if week else weeks.monday_of(now.astimezone(zone).date())
    except weeks.NotAnIsoWeek as exc:
        raise InvalidInput(str(exc), errors=[{"path": "week", "message": str(exc)}]) from exc
    shown = calendar_days(session, found, monday, 7, language)
    services = list(catalog.list_services(session))
    closures = [
        c
        for c in office_days.closures_between(
            session, found, monday - timedelta(days=366), monday + timedelta(days=730)
        )
        if c.ends_on >= now.astimezone(zone).date()
    ]
    advice = {}
    if staff.can(Action.READ_CAPACITY_ADVICE, found.code):
        for service in services:
            cached = capacity.cached_advice(session, found, service)
            if cached is not None:
                advice[service.code] = cached
    return PlannerWeek(
        office=found,
        offices=reachable,
        monday=monday,
        week=weeks.week_of(monday),
        calendar=shown,
        services=services,
        releases=week_releases(session, found, monday),
        closures=closures,
        advice=advice,
    )


def week_releases(session: Session, office: Office, monday: date) -> list[releases.ReleaseView]:
    """The releases of the office with slots in the week of ``monday`` or published for it, by draw time."""
    zone = ZoneInfo(office.timezone)
    start, end = _bounds(monday, monday + timedelta(days=6), zone)
    with_slots = session.exec(
        select(Slot.release_id)
        .where(Slot.office_id == office.id, col(Slot.starts_at) >= start, col(Slot.starts_at) < end)
        .distinct()
    ).all()
    found: Sequence[Release] = session.exec(
        select(Release)
        .where(
            Release.office_id == office.id,
            (col(Release.id).in_(list(with_slots))) | (col(Release.week) == weeks.week_of(monday)),
        )
        .order_by(col(Release.draw_at), col(Release.id))
    ).all()
    return [releases.get_release(session, r.id) for r in found if r.id is not None]
