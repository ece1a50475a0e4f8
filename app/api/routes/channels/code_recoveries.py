"""A lost access code recovered alone, by SMS to the request's verified phone (no counter, no account)."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.recoveries import (
    AccessCodeRecovered,
    AccessCodeRecoveryAccepted,
    AccessCodeRecoveryConfirm,
    AccessCodeRecoveryCreate,
)
from app.services.channels import code_recoveries

router = APIRouter(prefix="/api/v1/access-code-recoveries", tags=["recoveries"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(400, 413, 422, 429),
)
def start_recovery(
    data: AccessCodeRecoveryCreate, session: SessionDep, now: NowDep, runtime: RuntimeDep
) -> AccessCodeRecoveryAccepted:
    """Ask for a code by SMS: always 202, whatever the match (no enumeration); when the entry and birth
    date match an active request with a verified phone, a 6-digit code goes to that phone (once a minute,
    five a day, within the number's ten codes a day)."""
    code_recoveries.start(session=session, data=data, now=now, secret=runtime.secret, pepper=runtime.pepper)
    return AccessCodeRecoveryAccepted()


@router.post("/confirm", responses=problem_responses(400, 409, 413, 422, 429))
def confirm_recovery(
    data: AccessCodeRecoveryConfirm, session: SessionDep, now: NowDep, runtime: RuntimeDep
) -> AccessCodeRecovered:
    """Type back the code: a new access code for the request (the old one stops working, and its stored
    idempotent answers too); ``422 code_invalid`` with ``tries_left``, ``429 code_locked`` after five wrong
    tries, ``409 code_expired`` when no code is waiting or it is older than 15 minutes."""
    return code_recoveries.confirm(
        session=session, data=data, now=now, secret=runtime.secret, pepper=runtime.pepper
    )
