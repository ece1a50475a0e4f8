"""An office's calendar and its capacity advice."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.api.openapi import problem_responses
from app.http.deps import NowDep, SessionDep, StaffDep
from app.schemas.common import CODE_PATTERN_ANY_CASE, IsoDate
from app.schemas.planning import MAX_CALENDAR_DAYS, CalendarPublic, CapacityAdvicePublic
from app.services.operations import calendar, capacity

router = APIRouter(prefix="/api/v1/offices/{office}", tags=["operations"])
Code = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN_ANY_CASE)]


@router.get("/calendar", responses=problem_responses(401, 403, 404, 422, 429))
def office_calendar(
    office: Code,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    first: Annotated[IsoDate | None, Query(alias="from", description="the first day (default today)")] = None,
    days: Annotated[int, Query(ge=1, le=MAX_CALENDAR_DAYS)] = 7,
) -> CalendarPublic:
    """Per day: the public holiday, the closure and, per service, the slots, free, offered, booked,
    confirmed, attended, no-show and cancelled counts (planner, desk or auditor of the office, admin)."""
    return calendar.office_calendar(
        session=session, staff=staff, office=office, first=first, days=days, now=now
    )


@router.get("/services/{service}/capacity-advice", responses=problem_responses(401, 403, 404, 422, 429))
def capacity_advice(
    office: Code,
    service: Code,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    target_wait_days: Annotated[int, Query(ge=1, le=365)] = capacity.DEFAULT_TARGET_DAYS,
) -> CapacityAdvicePublic:
    """The weekly capacity the queue needs to bring the 90th-percentile wait under ``target_wait_days``
    within 12 weeks, from the last 8 weeks (planner or auditor of the office, admin); computed daily by the
    scheduler (on demand when none is stored), served with its ``computed_at``; ``method`` says how, and
    why the estimates are null when there are under 2 weeks of history."""
    return capacity.get_advice(
        session=session, staff=staff, office=office, service=service, target_days=target_wait_days, now=now
    )
