"""Offices and services."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import Field, Strict, StringConstraints, field_validator, model_validator

from app.schemas.common import Code, Label, Number, Output, StrictInput

Multiplier = Annotated[Number, Field(gt=0, le=100, max_digits=8, decimal_places=4)]


class OfficeCreate(StrictInput):
    """A new office."""

    code: Code
    name: Label
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Paris"])
    address: Annotated[str, StringConstraints(min_length=1, max_length=300, strip_whitespace=True)] | None = (
        Field(default=None, description="postal address, given in the day-before reminder")
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError("unknown IANA time zone (for example Europe/Paris)")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("unknown IANA time zone") from exc
        return value


class OfficePublic(Output):
    """An office."""

    code: str
    name: str
    timezone: str
    address: str | None = None


class ExpiryBandIn(StrictInput):
    """Permits expiring within ``within_days`` get ``multiplier``."""

    within_days: int = Field(ge=0, le=3650)
    multiplier: Multiplier


class WeightPolicyIn(StrictInput):
    """Overrides of the default weight policy; omitted fields keep the default."""

    expiry_bands: list[ExpiryBandIn] | None = Field(default=None, min_length=1, max_length=10)
    vulnerability: Multiplier | None = None
    waiting_step: Annotated[Number, Field(ge=0, le=10, max_digits=8, decimal_places=4)] | None = None
    waiting_cap: Annotated[Number, Field(ge=1, le=100, max_digits=8, decimal_places=4)] | None = None
    no_show: Multiplier | None = None
    no_show_window_days: int | None = Field(default=None, ge=0, le=3650)
    #: ``drand`` (default): draws use the public round of the configured chain (``fairslot-draw-v2``);
    #: ``none``: v1 draws, for an office that cannot reach a relay, labelled as giving no guarantee.
    beacon: Literal["drand", "none"] | None = None
    #: A JSON array of two whole numbers, as the service list shows it: lax about the container (JSON has
    #: no tuple), strict about its members.
    confirm_window_days: (
        tuple[
            Annotated[int, Strict(), Field(ge=1, le=365)],
            Annotated[int, Strict(), Field(ge=0, le=364)],
        ]
        | None
    ) = Field(
        default=None,
        strict=False,
        description="[opens, closes]: days before the slot when confirming opens and when it closes "
        "(default [7, 2]; null: no confirmation asked)",
    )
    verify_claims: Literal["at_desk", "before_draw"] | None = Field(
        default=None, description="when urgency claims are verified (default at_desk)"
    )
    false_claim_exclusion_days: int | None = Field(
        default=None, ge=0, le=3650, description="exclusion after a claim refuted at the desk (default 180)"
    )
    entry_verification: Literal["phone", "none"] | None = Field(
        default=None,
        description="what an online request needs before it enters draws: a one-time code by SMS (phone, "
        "the default for new services) or nothing (none)",
    )
    max_requests_per_phone: int | None = Field(
        default=None, ge=1, le=20, description="active requests one phone number may verify (default 3)"
    )
    verify_within_days: int | None = Field(
        default=None, ge=1, le=60, description="days after submission before an unverified request lapses"
    )

    @model_validator(mode="after")
    def _distinct_bands(self) -> WeightPolicyIn:
        if self.expiry_bands:
            days = [band.within_days for band in self.expiry_bands]
            if len(days) != len(set(days)):
                raise ValueError("expiry bands must have distinct within_days")
        if self.confirm_window_days and self.confirm_window_days[0] <= self.confirm_window_days[1]:
            raise ValueError("confirm_window_days must open before it closes, e.g. [7, 2]")
        return self


class ServiceCreate(StrictInput):
    """A new service."""

    code: Code
    name: Label
    slot_minutes: int = Field(ge=5, le=480)
    weight_policy: WeightPolicyIn | None = None


class ServicePublic(Output):
    """A service and its effective weight policy."""

    code: str
    name: str
    slot_minutes: int
    weight_policy: dict[str, Any]
