"""The desk's day: an office's appointments of one day, as JSON or as a CSV or XLSX download."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from app.api.openapi import problem_responses
from app.domain.statuses import DeskStatus
from app.http.deps import NowDep, SessionDep, StaffDep
from app.schemas.checkins import DayListPublic
from app.schemas.common import CODE_PATTERN_ANY_CASE, IsoDate
from app.services.bookings import day_list, exports

router = APIRouter(prefix="/api/v1", tags=["desk"])

#: A search: printable text only (no control characters, which no name or reference holds).
SEARCH_PATTERN = r"^[^\x00-\x1f\x7f]*$"
DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The day's appointments: JSON, or with `format` a CSV or XLSX file of the same rows",
        "content": {
            exports.MEDIA_TYPES["csv"]: {"schema": {"type": "string"}},
            exports.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/offices/{office}/bookings",
    response_model=DayListPublic,
    responses={**DOWNLOADS, **problem_responses(401, 403, 404, 422, 429)},
)
def office_bookings(
    office: Annotated[str, Path(min_length=1, max_length=32, pattern=CODE_PATTERN_ANY_CASE)],
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="the office-local day, YYYY-MM-DD (default: today)")
    ] = None,
    q: Annotated[
        str,
        Query(
            max_length=day_list.MAX_QUERY_LENGTH,
            pattern=SEARCH_PATTERN,
            description="a family name (accents and case ignored) or an entry reference",
        ),
    ] = "",
    status: Annotated[DeskStatus | None, Query(description="only bookings in this status")] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
) -> Any:
    """An office's appointments of one day in start order (desk, planner and auditor of the office; admin)."""
    statuses = None if status is None else {status}
    if format == "json":
        found = day_list.day_list(
            session=session, staff=staff, office=office, day=day, now=now, q=q, statuses=statuses
        )
        return DayListPublic.model_validate(found)
    download = exports.export(
        session=session, staff=staff, office=office, day=day, now=now, kind=format, q=q, statuses=statuses
    )
    return Response(
        download.body,
        media_type=download.media_type,
        headers={"Content-Disposition": f'attachment; filename="{download.filename}"'},
    )
