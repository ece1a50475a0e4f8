"""Staff keys."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import Code, Output, StrictInput


class StaffKeyCreate(StrictInput):
    """A new staff key."""

    role: str = Field(pattern=r"^(admin|planner|desk|auditor)$", examples=["planner"])
    offices: list[Code] = Field(default_factory=list, max_length=100)
    label: str = Field(default="", max_length=200)


class StaffKeyCreated(Output):
    """A staff key, shown once."""

    id: int
    key: str
    role: str
    offices: list[str]
    label: str
    created_at: datetime
