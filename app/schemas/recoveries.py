"""Recovery after a staff member has seen the holder's identity document."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.common import Code, IsoDate, Output, StrictInput

RecoveryReason = Literal["lost_code", "squatted"]


class RecoveryCreate(StrictInput):
    """The document seen at the counter or desk, and what the person needs."""

    service: Code
    document_number: str = Field(min_length=1, max_length=64)
    birth_date: IsoDate
    reason: RecoveryReason


class RecoveryPublic(Output):
    """``lost_code``: the request and its new access code (shown once); ``squatted``: the request
    superseded."""

    request_id: str | None = None
    access_code: str | None = None
    superseded: str | None = None
