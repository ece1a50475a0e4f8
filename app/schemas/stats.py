"""Public statistics (``GET /api/v1/stats``): aggregates only, any count below 5 shown as null."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RequestCounts(_Out):
    """Requests of one office (their first choice) and service."""

    pending: int | None = Field(description="pending now")
    by_channel: dict[str, int | None] = Field(description="pending now, by the channel that filed them")
    verified_share: float | None = Field(description="share of the pending requests that count in draws")
    lapsed: int | None = Field(description="lapsed unverified since the first month")
    by_method: dict[str, int | None] = Field(
        default_factory=dict,
        description="pending and verified now, by how: phone, counter, partner, registry, none (nothing asked)",
    )


class Quantiles(_Out):
    """Draws a request had entered before the one that offered it a slot."""

    p50: float | None
    p90: float | None


class UrgencyBand(_Out):
    """Entries and offers by the urgency band of the declared permit expiry at the draw."""

    band: str
    entries: int | None
    offered: int | None


class ClaimCounts(_Out):
    """Declared claims of requests submitted since the first month, by status."""

    declared: int | None
    confirmed: int | None
    not_evidenced: int | None
    refuted: int | None


class MonthCounts(_Out):
    """Entries and offers of the draws of one month (office time)."""

    month: str
    entries: int | None
    offered: int | None


class StaffBreakdown(_Out):
    """What staff with ``read_statistics`` see beyond the public figures: exact counts."""

    pending_by_channel: dict[str, int]
    pending_by_partner: dict[str, int]


class StatsItem(_Out):
    """The figures of one office and service since the first month."""

    office: str
    service: str
    requests: RequestCounts
    draws: int | None
    entries: int | None
    offered: int | None
    accepted: int | None
    attended: int | None
    no_show: int | None
    forfeited: int | None
    released: int | None
    draws_before_offer: Quantiles
    by_urgency: list[UrgencyBand]
    claims: ClaimCounts
    by_month: list[MonthCounts]
    staff: StaffBreakdown | None = Field(default=None, description="only for staff with read_statistics")


class StatsPublic(_Out):
    """Statistics per office and service from the month ``since`` (``YYYY-MM``) on."""

    since: str
    items: list[StatsItem]
