"""Opening schedules of a service at an office, and publishing a week of one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.openapi import problem_responses
from app.api.routes.draws.releases import release_created
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.schemas.planning import ScheduleIn, SchedulePublic, WeekPublish
from app.schemas.releases import ReleaseCreated
from app.services.beacons import rounds
from app.services.draws import releases
from app.services.operations import publishing, schedules

router = APIRouter(prefix="/api/v1/offices/{office}", tags=["operations"])
OfficeCode = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN_ANY_CASE)]
ServiceCode = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN_ANY_CASE)]


@router.get("/schedules/{service}", responses=problem_responses(401, 403, 404, 422, 429))
def get_schedule(
    office: OfficeCode, service: ServiceCode, session: SessionDep, staff: StaffDep
) -> SchedulePublic:
    """The weekly opening lines of a service at an office (planner, desk or auditor of the office, admin)."""
    return schedules.get_schedule(session=session, staff=staff, office=office, service=service).public()


@router.put("/schedules/{service}", responses=problem_responses(400, 401, 403, 404, 413, 422, 429))
def put_schedule(
    office: OfficeCode,
    service: ServiceCode,
    data: ScheduleIn,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
) -> SchedulePublic:
    """Replace the weekly schedule (planner of the office, admin): ``weekly`` lines of ``weekday`` 1-7,
    ``opens`` and ``closes`` (``HH:MM``, office-local) and ``desks`` ≥ 1, lines of a weekday not
    overlapping. Slots are cut from ``opens`` in the service's length while a whole slot fits."""
    found = schedules.put_schedule(
        session=session, staff=staff, office=office, service=service, data=data, now=now
    )
    return found.public()


@router.post(
    "/schedules/{service}/publish",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
)
def publish_week(
    office: OfficeCode,
    service: ServiceCode,
    data: WeekPublish,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> ReleaseCreated:
    """Publish an ISO week of the schedule as a release (planner of the office): its slots minus public
    holidays and closures, drawn at ``draw_at`` (422 unless before the week starts); ``409 week_published``
    when a release holds the week, ``409 nothing_to_publish`` when no slot is left."""
    release = publishing.publish_week(
        session=session,
        staff=staff,
        office=office,
        service=service,
        data=data,
        now=now,
        default_ttl_hours=runtime.settings.offer_ttl_hours,
        secret=runtime.secret,
        setup=rounds.setup_for(runtime.settings),
    )
    assert release.id is not None
    return release_created(releases.get_release(session, release.id), runtime, now)
