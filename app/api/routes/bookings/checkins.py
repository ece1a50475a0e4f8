"""Desk check-in and the public keys that verify booking tokens."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.checkins import CheckInCreate, CheckInPublic
from app.services.bookings import checkins, token_keys

router = APIRouter(prefix="/api/v1", tags=["desk"])


@router.post("/check-ins", responses=problem_responses(400, 401, 403, 409, 413, 422, 429, 503))
def check_in(
    data: CheckInCreate, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> CheckInPublic:
    """Check a booking in: the token is valid only with its holder's document (desk of that office)."""
    result = checkins.check_in(
        session=session,
        staff=staff,
        token=data.token,
        document_number=data.document_number,
        birth_date=data.birth_date,
        now=now,
        secret=runtime.secret,
        pepper=runtime.pepper,
        verdicts=data.claims.model_dump() if data.claims else None,
        window=checkins.window_of(
            runtime.settings.check_in_opens_minutes_before, runtime.settings.no_show_grace_minutes
        ),
    )
    return CheckInPublic.model_validate(result)


@router.get("/token-keys")
def token_keys_jwks(session: SessionDep, now: NowDep, runtime: RuntimeDep) -> dict[str, Any]:
    """The public keys (JWKS) that verify booking-token signatures."""
    return token_keys.keyring(session, runtime.secret, now).jwks()
