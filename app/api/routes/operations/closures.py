"""Closures of an office: days closed or run with fewer desks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.api.openapi import problem_responses
from app.http.deps import NowDep, SessionDep, StaffDep
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.schemas.planning import ClosureCreate, ClosurePublic
from app.services.operations import closures

router = APIRouter(prefix="/api/v1/offices/{office}/closures", tags=["operations"])
OfficeCode = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN_ANY_CASE)]
ClosureId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
)
def create_closure(
    office: OfficeCode, data: ClosureCreate, session: SessionDep, staff: StaffDep, now: NowDep
) -> ClosurePublic:
    """Close days of the office (``desks`` null) or reduce its desks (planner of the office, admin).

    The free slots published on those days are removed (surplus desks when reduced) and their open offers
    withdrawn; bookings answer ``409 bookings_in_closure`` with their count unless ``cancel_bookings`` is
    true: then they become ``cancelled_by_office``, their holders are told at once and go back to the queue
    with their waiting credit and the ``office_cancelled`` factor. ``409 draw_pending`` while a draw that
    the closure would change is under way."""
    return closures.create_closure(session=session, staff=staff, office=office, data=data, now=now).public()


@router.get("", responses=problem_responses(401, 403, 404, 422, 429))
def list_closures(office: OfficeCode, session: SessionDep, staff: StaffDep) -> list[ClosurePublic]:
    """The office's closures by start (planner, desk or auditor of the office, admin)."""
    return [view.public() for view in closures.list_closures(session=session, staff=staff, office=office)]


@router.delete(
    "/{closure_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429),
)
def delete_closure(
    office: OfficeCode, closure_id: ClosureId, session: SessionDep, staff: StaffDep
) -> Response:
    """Remove a closure (planner of the office, admin): its days may be published again; what it took back
    stays taken back."""
    closures.delete_closure(session=session, staff=staff, office=office, closure_id=closure_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
