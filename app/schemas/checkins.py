"""Desk check-in."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.schemas.claims import ClaimPublic, DeskVerdicts
from app.schemas.common import IsoDate, Output, StrictInput


class CheckInCreate(StrictInput):
    """A scanned token and the document the person shows."""

    token: str = Field(min_length=1, max_length=4096)
    document_number: str = Field(min_length=1, max_length=64)
    birth_date: IsoDate
    claims: DeskVerdicts | None = None


class CheckInPublic(Output):
    """The desk's verdict: who it is, where and when."""

    booking_id: str
    status: str
    family_name: str
    given_names: str
    office: str
    starts_at: datetime
    claims: list[ClaimPublic] = Field(default_factory=list)
