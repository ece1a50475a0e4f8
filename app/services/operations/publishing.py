"""Publishing a week: the office's schedule for one ISO week, minus public holidays and closures, becomes a
release with its seed commitment, drawn at ``draw_at`` before the week starts.

One release per office, service and week: a second answers ``409 week_published`` (a unique index on
``release (office_id, service_id, week)`` while not withdrawn is the backstop when two publish at once), and a
week the schedule leaves empty answers ``409 nothing_to_publish``. The planner's publication and the
recurring rules (``release_rules``) both go through :func:`publish`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import Office, Release, Service, Slot
from app.domain.access import Action
from app.domain.errors import InvalidInput, NothingToPublish, WeekPublished
from app.domain.planning import rules, weeks
from app.domain.planning.schedules import PlannedStart, plan_days
from app.domain.statuses import ReleaseStatus
from app.schemas.planning import WeekPublish
from app.schemas.releases import MAX_SLOTS_PER_RELEASE
from app.services import audit
from app.services.beacons import rounds
from app.services.draws import releases
from app.services.operations import catalog, office_days, schedules
from app.services.staff.keys import StaffPrincipal

_SLOT_COLUMNS = ("release_id", "office_id", "service_id", "starts_at", "ends_at", "desk")


def plan_week(
    session: Session, office: Office, service: Service, monday: date, now: datetime
) -> list[PlannedStart]:
    """The slots the schedule makes in the week of ``monday``, without holidays and closures, from now on."""
    schedule = schedules.schedule_of(session, office, service)
    days = weeks.days_of(monday)
    closures = office_days.closures_between(session, office, days[0], days[-1])
    planned = plan_days(
        days,
        schedule.lines,
        service.slot_minutes,
        ZoneInfo(office.timezone),
        holidays=office_days.holidays_of(office, days[0], days[-1]),
        desk_caps=office_days.desk_caps(closures, days[0], days[-1]),
    )
    return [p for p in planned if p.starts_at > now]


def week_release(session: Session, office: Office, service: Service, week: str) -> Release | None:
    """The release (not withdrawn) that holds the week, if any."""
    return session.exec(
        select(Release).where(
            Release.office_id == office.id,
            Release.service_id == service.id,
            Release.week == week,
            col(Release.status) != ReleaseStatus.WITHDRAWN,
        )
    ).first()


def publish(
    session: Session,
    *,
    office: Office,
    service: Service,
    monday: date,
    draw_at: datetime,
    offer_ttl_hours: int,
    now: datetime,
    secret: bytes,
    setup: rounds.BeaconSetup,
    actor: str,
    created_by: int | None = None,
    rule_id: int | None = None,
) -> Release:
    """Store the week's release and its slots (the caller checked who may and when it draws)."""
    week = weeks.week_of(monday)
    held = week_release(session, office, service, week)
    if held is not None:
        raise WeekPublished(f"{week} is published by release {held.id}", release_id=held.id)
    planned = plan_week(session, office, service, monday, now)
    if not planned:
        raise NothingToPublish(f"the schedule leaves no slot in {week} (holidays, closures, no opening)")
    total = sum(p.desks for p in planned)
    if total > MAX_SLOTS_PER_RELEASE:
        raise InvalidInput(
            f"{week} makes {total} slots; a release holds at most {MAX_SLOTS_PER_RELEASE}",
            errors=[{"path": "week", "message": f"at most {MAX_SLOTS_PER_RELEASE} slots (desks included)"}],
        )
    try:
        with session.begin_nested():
            release = releases.new_release(
                session=session,
                office=office,
                service=service,
                draw_at=draw_at,
                offer_ttl_hours=offer_ttl_hours,
                created_by=created_by,
                now=now,
                secret=secret,
                chain=setup.chain_for(service),
            )
            release.week = week
            release.rule_id = rule_id
            release.slot_count = total
            session.add(release)
            session.flush()
    except IntegrityError as exc:
        held = week_release(session, office, service, week)
        if held is None:
            raise
        # Another publication of the week committed first (the unique index on a release's week).
        raise WeekPublished(f"{week} was published meanwhile", release_id=held.id) from exc
    length = timedelta(minutes=service.slot_minutes)
    bulk_insert(
        session,
        Slot.__table__,  # type: ignore[attr-defined]
        _SLOT_COLUMNS,
        (
            (release.id, office.id, service.id, start, start + length, desk)
            for p in planned
            for start in (p.starts_at.astimezone(UTC),)
            for desk in range(1, p.desks + 1)
        ),
    )
    audit.log(
        session,
        action="release.created",
        subject=f"release:{release.id}",
        actor=actor,
        slots=total,
        week=week,
        rule_id=rule_id,
        seed_commitment=release.seed_commitment,
        beacon_source=rounds.release_source(release),
    )
    return release


def publish_week(
    *,
    session: Session,
    staff: StaffPrincipal,
    office: str,
    service: str,
    data: WeekPublish,
    now: datetime,
    default_ttl_hours: int,
    secret: bytes,
    setup: rounds.BeaconSetup,
) -> Release:
    """The planner publishes an ISO week of the schedule (``422`` when ``draw_at`` is not before the week
    starts or is past; ``409 week_published``, ``409 nothing_to_publish``)."""
    staff.require(Action.PUBLISH_RELEASE)
    found = catalog.office_at(session, office)
    staff.require(Action.PUBLISH_RELEASE, office=found.code)
    kind = catalog.service_at(session, service)
    monday = weeks.parse_week(data.week)
    starts = rules.week_start(monday, ZoneInfo(found.timezone))
    errors = []
    if data.draw_at >= starts:
        errors.append(
            {"path": "draw_at", "message": f"draw_at must be before the week starts ({starts.isoformat()})"}
        )
    if data.draw_at < now - releases.DRAW_AT_LEEWAY:
        errors.append({"path": "draw_at", "message": "draw_at must not be in the past"})
    if starts > now + releases.RELEASE_HORIZON:
        errors.append({"path": "week", "message": "the week must start within two years"})
    if errors:
        raise InvalidInput("the publication is not valid", errors=errors)
    return publish(
        session,
        office=found,
        service=kind,
        monday=monday,
        draw_at=data.draw_at,
        offer_ttl_hours=data.offer_ttl_hours or default_ttl_hours,
        now=now,
        secret=secret,
        setup=setup,
        actor=staff.actor,
        created_by=staff.key_id or None,  # the console's operator has no key row
    )
