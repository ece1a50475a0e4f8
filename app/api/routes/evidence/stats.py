"""Public statistics: the same figures for everyone, and more detail for staff who may read statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.openapi import problem_responses
from app.http.deps import NowDep, OptionalStaffDep, SessionDep
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.schemas.stats import StatsPublic
from app.services.evidence import stats

router = APIRouter(prefix="/api/v1", tags=["statistics"])

MONTH_PATTERN = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$"


@router.get(
    "/stats",
    response_model_exclude_unset=True,
    responses=problem_responses(401, 422, 429),
    # Anyone may read; a staff key is optional (it adds the staff breakdown).
    openapi_extra={"security": [{}]},  # appended to the bearer scheme: either satisfies
)
def get_stats(
    session: SessionDep,
    staff: OptionalStaffDep,
    now: NowDep,
    office: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN_ANY_CASE)] = None,
    service: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN_ANY_CASE)] = None,
    since: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="first month counted, YYYY-MM (whole months)")
    ] = None,
) -> StatsPublic:
    """Aggregates per office and service since a month: draws, entries, offers, outcomes; counts below 5 are null."""
    first = stats.first_of_month(since) if since else stats.default_since(now)
    return stats.statistics(
        session=session,
        since=first,
        office=office.lower() if office else None,
        service=service.lower() if service else None,
        staff=staff,
    )
