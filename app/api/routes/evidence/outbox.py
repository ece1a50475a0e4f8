"""The outbox for staff: backlog and failure rate per channel (admin, auditor)."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.openapi import problem_responses
from app.http.deps import NowDep, SessionDep, StaffDep
from app.schemas.outbox import OutboxPublic
from app.services.messages import backlog

router = APIRouter(prefix="/api/v1/outbox", tags=["staff"])


@router.get("", responses=problem_responses(401, 403, 429))
def outbox_summary(session: SessionDep, staff: StaffDep, now: NowDep) -> OutboxPublic:
    """Messages waiting to leave and the last week's outcomes, per channel (admin, auditor)."""
    return backlog.summary(session=session, staff=staff, now=now)
