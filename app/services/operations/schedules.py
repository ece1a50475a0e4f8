"""Opening schedules: the weekly lines of a service at an office, replaced whole by the planner or an admin.

A schedule shapes only what publishing a week (``publishing``) and recurring rules (``release_rules``) make;
``POST /releases`` still takes explicit slots as given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from app.db.models import Office, OpeningSchedule, Service
from app.domain.access import Action
from app.domain.errors import NotFound
from app.domain.planning.schedules import OpeningLine, weekly_capacity
from app.schemas.planning import OpeningLinePublic, ScheduleIn, SchedulePublic
from app.services import audit
from app.services.operations import catalog
from app.services.staff.keys import StaffPrincipal


@dataclass(frozen=True)
class Schedule:
    """A service's opening lines at an office (none: never open)."""

    office: Office
    service: Service
    lines: tuple[OpeningLine, ...]
    updated_at: datetime | None

    def public(self) -> SchedulePublic:
        """As the API shows it."""
        return SchedulePublic(
            office=self.office.code,
            service=self.service.code,
            weekly=[OpeningLinePublic.model_validate(line.as_dict()) for line in self.lines],
            slot_minutes=self.service.slot_minutes,
            slots_per_week=weekly_capacity(self.lines, self.service.slot_minutes),
            updated_at=self.updated_at,
        )


def _ordered(lines: list[OpeningLine]) -> tuple[OpeningLine, ...]:
    return tuple(sorted(lines, key=lambda line: (line.weekday, line.opens)))


def schedule_of(session: Session, office: Office, service: Service) -> Schedule:
    """The schedule of ``service`` at ``office`` (empty when none was given)."""
    row = session.exec(
        select(OpeningSchedule).where(
            OpeningSchedule.office_id == office.id, OpeningSchedule.service_id == service.id
        )
    ).first()
    if row is None:
        return Schedule(office, service, (), None)
    lines = _ordered([OpeningLine.from_dict(line) for line in row.weekly])
    return Schedule(office, service, lines, row.updated_at)


def get_schedule(*, session: Session, staff: StaffPrincipal, office: str, service: str) -> Schedule:
    """The schedule (planner, desk or auditor of the office, admin); 404 for an unknown office or service."""
    staff.require(Action.READ_CALENDAR)
    found = catalog.office_at(session, office)
    staff.require(Action.READ_CALENDAR, office=found.code)
    return schedule_of(session, found, catalog.service_at(session, service))


def put_schedule(
    *, session: Session, staff: StaffPrincipal, office: str, service: str, data: ScheduleIn, now: datetime
) -> Schedule:
    """Replace the schedule of a service at an office (its planner, an admin)."""
    staff.require(Action.PLAN_OFFICE)
    found = catalog.office_at(session, office)
    staff.require(Action.PLAN_OFFICE, office=found.code)
    kind = catalog.service_at(session, service)
    lines = _ordered([line.line() for line in data.weekly])
    row = session.exec(
        select(OpeningSchedule)
        .where(OpeningSchedule.office_id == found.id, OpeningSchedule.service_id == kind.id)
        .with_for_update()
    ).first()
    if row is None:
        assert found.id is not None and kind.id is not None
        row = OpeningSchedule(office_id=found.id, service_id=kind.id)
    row.weekly = [line.as_dict() for line in lines]
    row.updated_at = now
    row.updated_by = staff.actor
    session.add(row)
    session.flush()
    audit.log(
        session,
        action="schedule.replaced",
        subject=f"office:{found.code}",
        actor=staff.actor,
        service=kind.code,
        weekly=row.weekly,
    )
    return Schedule(found, kind, lines, now)


@dataclass(frozen=True)
class OfficePlanning:
    """Every service's schedule at an office, and the offices the key reaches (the page's choice)."""

    office: Office
    offices: list[Office]
    schedules: list[Schedule]


def office_planning(*, session: Session, staff: StaffPrincipal, office: str | None) -> OfficePlanning:
    """The schedules of every service at ``office`` (the first the key reaches by default)."""
    staff.require(Action.READ_CALENDAR)
    reachable = [o for o in catalog.list_offices(session) if staff.covers(o.code)]
    if office is None and not reachable:
        raise NotFound("no office to show")
    found = reachable[0] if office is None else catalog.office_at(session, office)
    staff.require(Action.READ_CALENDAR, office=found.code)
    return OfficePlanning(
        found, reachable, [schedule_of(session, found, service) for service in catalog.list_services(session)]
    )
