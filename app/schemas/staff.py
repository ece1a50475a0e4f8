"""Staff keys and named staff accounts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, EmailStr, Field

from app.schemas.common import Code, Label, Output, StrictInput, readable


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


ROLE_PATTERN = r"^(admin|planner|desk|agent|verifier|auditor)$"


def _lower_email(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


#: An e-mail address as accounts store it: trimmed, lower-case (one account per address).
AccountEmail = Annotated[EmailStr, BeforeValidator(_lower_email), Field(max_length=254)]


class RoleGrant(StrictInput):
    """One role of an account, with the offices it serves (none: every office, for admin and auditor)."""

    role: str = Field(pattern=ROLE_PATTERN, examples=["planner"])
    offices: list[Code] = Field(default_factory=list, max_length=100)


class StaffAccountCreate(StrictInput):
    """A new named account: invited by a one-time link."""

    email: AccountEmail = Field(examples=["camille.martin@interieur.gouv.fr"])
    display_name: Label = Field(examples=["Camille Martin"])
    roles: list[RoleGrant] = Field(min_length=1, max_length=6)


class StaffAccountUpdate(StrictInput):
    """A change of an account: its roles, its name, or its status (``disabled``; ``active`` to re-enable)."""

    display_name: Label | None = None
    roles: list[RoleGrant] | None = Field(default=None, min_length=1, max_length=6)
    status: Literal["active", "disabled"] | None = None


class RoleGrantPublic(Output):
    """A role and its offices."""

    role: str
    offices: list[str]


class StaffAccountPublic(Output):
    """A named account (no password hash, no second-factor secret)."""

    id: int
    email: str
    display_name: str
    roles: list[RoleGrantPublic]
    status: Literal["invited", "active", "disabled"]
    second_factor: bool = Field(description="Whether a TOTP second factor is enrolled.")
    created_at: datetime
    last_sign_in_at: datetime | None = None
    locked_until: datetime | None = None


class StaffAccountCreated(StaffAccountPublic):
    """A new account with its invitation link (shown once, valid 72 hours, also e-mailed)."""

    invitation_url: str
    invitation_expires_at: datetime


class StaffAccountList(Output):
    """Every account."""

    items: list[StaffAccountPublic]


class InvitationIssued(Output):
    """A new invitation link (shown once, valid 72 hours, also e-mailed); earlier links stop working."""

    account_id: int
    invitation_url: str
    invitation_expires_at: datetime


class SessionsEnded(Output):
    """How many web sessions an admin ended."""

    account_id: int
    ended: int
