"""What a partner organisation sees of the requests it filed."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.common import Output


class PartnerRequestItem(Output):
    """One request a partner filed."""

    id: str
    entry: str
    service: str
    status: str
    submitted_at: datetime


class PartnerRequestPage(Output):
    """A page of a partner's requests, newest first; ``next_cursor`` fetches the next page."""

    items: list[PartnerRequestItem]
    next_cursor: str | None


class PartnerListQuery(BaseModel):
    """The listing's query: ``cursor`` from the previous page's ``next_cursor``."""

    model_config = ConfigDict(extra="forbid")

    cursor: str | None = Field(default=None, max_length=64)
