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


class AccessCodeRecoveryCreate(StrictInput):
    """An applicant who lost the access code: the entry reference (``FS-XXXXX-XXXXX``) and birth date."""

    entry: str = Field(min_length=1, max_length=32)
    birth_date: IsoDate


class AccessCodeRecoveryConfirm(AccessCodeRecoveryCreate):
    """The same, with the 6-digit code received by SMS."""

    code: str = Field(min_length=1, max_length=16)


class AccessCodeRecoveryAccepted(Output):
    """Always the same answer, whether or not anything matched: a stranger learns nothing."""

    detail: str = (
        "If this entry and birth date match an active request with a verified phone, a code is on its way "
        "by SMS to that phone; it is valid 15 minutes."
    )


class AccessCodeRecovered(Output):
    """The request and its new access code (shown once; the old one no longer works)."""

    request_id: str
    access_code: str
