"""Attendance by hand, from the day's list: attended (the document seen) or absent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.checkins import AttendanceCreate, CheckInPublic
from app.services.bookings import attendance, checkins

router = APIRouter(prefix="/api/v1", tags=["desk"])


@router.post(
    "/bookings/{booking_id}/attendance", responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429)
)
def record_attendance(
    booking_id: Annotated[str, Path(min_length=1, max_length=64)],
    data: AttendanceCreate,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> CheckInPublic:
    """The desk of the booking's office records by hand that its holder came (checked as a token check-in
    is, with the document seen) or, once the slot has started, that they did not (a no-show)."""
    result = attendance.record(
        session=session,
        staff=staff,
        booking_id=booking_id,
        data=data,
        now=now,
        pepper=runtime.pepper,
        window=checkins.window_of(
            runtime.settings.check_in_opens_minutes_before, runtime.settings.no_show_grace_minutes
        ),
    )
    return CheckInPublic.model_validate(result)
