"""The desk: a check-in by token or by hand, an absence, and the office's appointments of a day."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from app.domain.statuses import DeskStatus
from app.schemas.claims import ClaimDeclared, ClaimPublic, DeskVerdicts
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


class AttendedCreate(StrictInput):
    """The person is here and their document was seen: checked as a token check-in is, without the token."""

    outcome: Literal["attended"]
    document_number: str = Field(min_length=1, max_length=64)
    birth_date: IsoDate
    claims: DeskVerdicts | None = None


class AbsentCreate(StrictInput):
    """The person did not come: a no-show, once the slot has started."""

    outcome: Literal["absent"]


#: What the desk records by hand for one booking.
AttendanceCreate = Annotated[AttendedCreate | AbsentCreate, Field(discriminator="outcome")]


class DayBookingPublic(Output):
    """One appointment of the day, as the desk works from it."""

    booking_id: str
    entry: str
    service: str
    starts_at: datetime
    family_name: str
    given_names: str
    status: DeskStatus
    #: The claims the desk must judge before admitting this person (empty once the booking is settled).
    claims_to_check: list[ClaimDeclared]
    checked_in_at: datetime | None


class DayListPublic(Output):
    """An office's appointments of one day (office-local), in start order."""

    office: str
    date: date
    items: list[DayBookingPublic]
