"""Verifying urgency claims before the draw: a verifier's queue and verdicts, scoped to its offices."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from app.api.openapi import problem_responses
from app.http.deps import NowDep, SessionDep, StaffDep
from app.schemas.claims import ClaimPublic, ClaimQueuePage, ClaimVerdictCreate
from app.services.claims import verdicts

router = APIRouter(prefix="/api/v1", tags=["claims"])


@router.get("/claims", responses=problem_responses(401, 403, 422, 429))
def claim_queue(
    session: SessionDep,
    staff: StaffDep,
    status: Annotated[Literal["declared", "confirmed", "not_evidenced", "refuted"], Query()] = "declared",
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> ClaimQueuePage:
    """Claims of pending requests whose offices meet this verifier key's, oldest first (``?cursor=``)."""
    return verdicts.queue(session=session, staff=staff, status=status, cursor=cursor)


@router.post(
    "/requests/{request_id}/claims", responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429)
)
def decide_claim(
    request_id: Annotated[str, Path(min_length=1, max_length=64)],
    data: ClaimVerdictCreate,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
) -> list[ClaimPublic]:
    """A verifier confirms or refutes one claim of a pending request; the answer lists its claims."""
    return verdicts.decide(session=session, staff=staff, request_id=request_id, data=data, now=now)
