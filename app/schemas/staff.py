"""Staff keys."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from app.schemas.common import Code, Output, StrictInput, readable


class StaffKeyCreate(StrictInput):
    """A new staff key."""

    role: str = Field(pattern=r"^(admin|planner|desk|agent|verifier|auditor|partner)$", examples=["planner"])
    offices: list[Code] = Field(default_factory=list, max_length=100)
    label: Annotated[str, Field(max_length=200), AfterValidator(readable)] = ""


class StaffKeyCreated(Output):
    """A staff key, shown once."""

    id: int
    key: str
    role: str
    offices: list[str]
    label: str
    created_at: datetime
