"""Identity recovery at a counter or desk, after seeing the holder's document."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.recoveries import RecoveryCreate, RecoveryPublic
from app.services.channels import recoveries

router = APIRouter(prefix="/api/v1", tags=["recoveries"])


@router.post(
    "/identity-recoveries",
    response_model_exclude_none=True,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
)
def recover_identity(
    data: RecoveryCreate, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> RecoveryPublic:
    """``lost_code``: a new access code for the identity's active request (offer, booking and waiting
    credit kept); ``squatted``: that request is superseded, its offer declined or booking cancelled."""
    return recoveries.recover(
        session=session,
        staff=staff,
        data=data,
        pepper=runtime.pepper,
        now=now,
        redraw_within=runtime.settings.redraw_within,
    )
