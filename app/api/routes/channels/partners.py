"""A partner organisation's own list of the requests it filed; the staff view of what each filer filed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.openapi import problem_responses
from app.http.deps import SessionDep, StaffDep
from app.schemas.channel_stats import ChannelStatsPublic
from app.schemas.partners import PartnerListQuery, PartnerRequestPage
from app.services.evidence import channel_stats
from app.services.requests import access

router = APIRouter(prefix="/api/v1/partner", tags=["partners"])
stats_router = APIRouter(prefix="/api/v1", tags=["partners"])


@router.get("/requests", responses=problem_responses(401, 403, 422, 429))
def partner_requests(
    session: SessionDep,
    staff: StaffDep,
    query: Annotated[PartnerListQuery, Query()],
) -> PartnerRequestPage:
    """The requests this partner key filed, newest first (``?cursor=`` from ``next_cursor``)."""
    return access.list_requests(session=session, staff=staff, cursor=query.cursor)


@stats_router.get("/channel-stats", responses=problem_responses(401, 403, 429))
def partner_stats(session: SessionDep, staff: StaffDep) -> ChannelStatsPublic:
    """Staff statistics: requests by channel, and what each agent and partner key filed (admins,
    auditors, planners)."""
    return channel_stats.channel_stats(session=session, staff=staff)
