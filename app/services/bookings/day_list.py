"""The desk's day: an office's appointments of one office-local day, in start order.

Each row names the holder, the entry reference, the service, the status as the desk reads it (``confirmed``
for a booked booking its holder confirmed), the check-in time, and the claims still to judge before the
person is admitted (the rule of the check-in: claims the winning weight counted unconfirmed and still not
confirmed). Desk agents, planners and auditors of the office and admins read it (``Action.READ_BOOKINGS``).

A search matches the family name with accents, case and spacing ignored, against the folded name stored
at intake, in plain SQL (``LIKE`` with its wildcards escaped), so SQLite and PostgreSQL answer alike; or
the entry reference as a person reads it out (case, spaces and dashes forgiven). Filters narrow the day's
rows and never reach another office or another day. One query reads the rows, a second their claims.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, false, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Booking, Claim, DrawEntry, Offer, Office, Service, Slot
from app.domain.access import Action
from app.domain.access_codes import canonical_entry
from app.domain.claims import still_to_check
from app.domain.errors import NotFound
from app.domain.identity import folded_name
from app.domain.statuses import BookingStatus, DeskStatus
from app.services.staff.keys import StaffPrincipal

#: The longest search the desk may type (a family name, or an entry reference).
MAX_QUERY_LENGTH = 100


@dataclass(frozen=True)
class DayRow:
    """One appointment of the day; times are in the office's zone."""

    booking_id: str
    entry: str
    service: str
    starts_at: datetime
    ends_at: datetime
    family_name: str
    given_names: str
    status: DeskStatus
    #: ``{claim, declared}`` of each claim to judge at the desk (empty unless the booking is still booked).
    claims_to_check: list[dict[str, Any]]
    checked_in_at: datetime | None
    #: Whether the slot had started when the list was read: only then may the desk mark the person absent.
    started: bool


@dataclass(frozen=True)
class DayList:
    """An office's appointments of one local day."""

    office: str
    office_name: str
    timezone: str
    date: date
    items: list[DayRow] = field(default_factory=list)


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The first instant of ``day`` in ``zone`` and the first of the next (DST days are 23 or 25 hours)."""
    return datetime.combine(day, time(0), tzinfo=zone), datetime.combine(
        day + timedelta(days=1), time(0), zone
    )


def office_for(session: Session, staff: StaffPrincipal, code: str) -> Office:
    """The office whose day ``staff`` reads: 403 for a role that reads no office's day, 404 for an unknown
    office, 403 for an office outside the staff member's."""
    staff.require(Action.READ_BOOKINGS)
    office = session.exec(select(Office).where(Office.code == code.strip().lower())).first()
    if office is None:
        raise NotFound(f"no office {code!r}")
    staff.require(Action.READ_BOOKINGS, office=office.code)
    return office


def offices_readable(session: Session, staff: StaffPrincipal) -> list[Office]:
    """The offices whose day ``staff`` may read, by code."""
    offices = session.exec(select(Office).order_by(col(Office.code))).all()
    return [office for office in offices if staff.can(Action.READ_BOOKINGS, office=office.code)]


def day_list(
    *,
    session: Session,
    staff: StaffPrincipal,
    office: str,
    day: date | None,
    now: datetime,
    q: str = "",
    statuses: Collection[DeskStatus] | None = None,
) -> DayList:
    """The office's appointments of ``day`` (today, office-local, when None), in start order, narrowed by a
    search ``q`` and to ``statuses`` (every status when None)."""
    found = office_for(session, staff, office)
    zone = ZoneInfo(found.timezone)
    day = day or now.astimezone(zone).date()
    start, end = local_day_bounds(day, zone)
    query = _rows().where(
        col(Slot.office_id) == found.id, col(Slot.starts_at) >= start, col(Slot.starts_at) < end
    )
    if statuses is not None:
        query = query.where(or_(false(), *(_status_is(status) for status in statuses)))
    searched = q.strip()[:MAX_QUERY_LENGTH]
    if searched:
        matches = [
            col(AppointmentRequest.family_name_folded).contains(folded_name(searched), autoescape=True)
        ]
        entry = canonical_entry(searched)
        if entry is not None:
            matches.append(col(AppointmentRequest.entry) == entry)
        query = query.where(or_(*matches))
    items = _day_rows(session, query, zone, now)
    return DayList(office=found.code, office_name=found.name, timezone=found.timezone, date=day, items=items)


def row_of(session: Session, booking_id: str, now: datetime) -> DayRow:
    """One booking as its office's day list shows it (the caller has checked who may read it)."""
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise NotFound(f"no booking {booking_id}")
    office = session.get(Office, booking.office_id)
    assert office is not None
    (row,) = _day_rows(session, _rows().where(col(Booking.id) == booking_id), ZoneInfo(office.timezone), now)
    return row


def _rows() -> Any:
    """The day list's columns: each booking with its slot, holder, service and winning draw entry."""
    return (
        sa_select(
            col(Booking.id),
            col(Booking.status),
            col(Booking.confirmed_at),
            col(Booking.checked_in_at),
            col(Slot.starts_at),
            col(Slot.ends_at),
            col(AppointmentRequest.seq),
            col(AppointmentRequest.entry),
            col(AppointmentRequest.family_name),
            col(AppointmentRequest.given_names),
            col(Service.code),
            col(DrawEntry.unconfirmed_claims),
        )
        .select_from(Slot)
        .join(Booking, col(Booking.slot_id) == col(Slot.id))
        .join(AppointmentRequest, col(AppointmentRequest.id) == col(Booking.request_id))
        .join(Service, col(Service.id) == col(Slot.service_id))
        .outerjoin(Offer, col(Offer.id) == col(Booking.offer_id))
        .outerjoin(
            DrawEntry,
            and_(
                col(DrawEntry.draw_id) == col(Offer.draw_id),
                col(DrawEntry.request_seq) == col(AppointmentRequest.seq),
            ),
        )
        .order_by(col(Slot.starts_at), col(Slot.desk), col(Booking.created_at), col(Booking.id))
    )


def _day_rows(session: Session, query: Any, zone: ZoneInfo, now: datetime) -> list[DayRow]:
    rows = session.execute(query).all()
    judged = [r.seq for r in rows if r.status == BookingStatus.BOOKED and r.unconfirmed_claims]
    claims = _claims_of(session, judged)
    return [
        DayRow(
            booking_id=r.id,
            entry=r.entry,
            service=r.code,
            starts_at=r.starts_at.astimezone(zone),
            ends_at=r.ends_at.astimezone(zone),
            family_name=r.family_name or "",
            given_names=r.given_names or "",
            status=DeskStatus.of(r.status, r.confirmed_at),
            claims_to_check=_to_check(r.status, r.unconfirmed_claims, claims.get(r.seq, {})),
            checked_in_at=r.checked_in_at.astimezone(zone) if r.checked_in_at else None,
            started=r.starts_at <= now,
        )
        for r in rows
    ]


def _status_is(status: DeskStatus) -> Any:
    """The SQL condition of a booking shown in ``status``."""
    stored = col(Booking.status) == status.stored.value
    if status is DeskStatus.CONFIRMED:
        return and_(stored, col(Booking.confirmed_at).is_not(None))
    if status is DeskStatus.BOOKED:
        return and_(stored, col(Booking.confirmed_at).is_(None))
    return stored


def _claims_of(session: Session, seqs: list[int]) -> dict[int, dict[str, tuple[str, Any]]]:
    """The claims of these requests: ``{seq: {kind: (status, declared)}}``."""
    found: dict[int, dict[str, tuple[str, Any]]] = {}
    for start in range(0, len(seqs), 500):
        rows = session.execute(
            sa_select(col(Claim.request_seq), col(Claim.kind), col(Claim.status), col(Claim.declared)).where(
                col(Claim.request_seq).in_(seqs[start : start + 500])
            )
        ).all()
        for seq, kind, status, declared in rows:
            found.setdefault(seq, {})[kind] = (status, declared)
    return found


def _to_check(
    status: str, unconfirmed: str | None, claims: dict[str, tuple[str, Any]]
) -> list[dict[str, Any]]:
    if status != BookingStatus.BOOKED or not unconfirmed:
        return []
    kinds = still_to_check(unconfirmed.split(), {kind: claim[0] for kind, claim in claims.items()})
    return [{"claim": kind, "declared": claims[kind][1]} for kind in kinds]
