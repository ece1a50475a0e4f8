"""Urgency claims: as the request view lists them, the desk's and the verifier's verdicts, the queue."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.schemas.common import Output, StrictInput

ClaimName = Literal["permit_expiry", "vulnerability"]


class ClaimPublic(Output):
    """One claim: what was declared (an ISO date, or a list of kinds) and where it stands."""

    claim: ClaimName
    declared: str | list[str]
    status: Literal["declared", "confirmed", "not_evidenced", "refuted"]


class ClaimDeclared(Output):
    """A claim waiting for the desk's verdict."""

    claim: ClaimName
    declared: str | list[str]


class DeskVerdicts(StrictInput):
    """The desk's verdict on each claim that raised the booking's winning weight."""

    permit_expiry: Literal["confirmed", "refuted"] | None = None
    vulnerability: Literal["confirmed", "not_evidenced", "refuted"] | None = None


class ClaimVerdictCreate(StrictInput):
    """A verifier's verdict on one claim of a pending request."""

    claim: ClaimName
    verdict: Literal["confirmed", "refuted"]
    note: str | None = Field(default=None, max_length=500)


class ClaimQueueItem(Output):
    """A claim in the verifier's queue, with the names the registry or the applicant can be asked about."""

    request_id: str
    entry: str
    claim: ClaimName
    declared: str | list[str]
    family_name: str | None
    given_names: str | None


class ClaimQueuePage(Output):
    """One page of the queue; pass ``next_cursor`` as ``cursor`` for the next (null: no more)."""

    items: list[ClaimQueueItem]
    next_cursor: str | None
