"""Staff statistics of the channels: requests by channel, and per filing key (partners, agents)."""

from __future__ import annotations

from datetime import datetime

from app.schemas.common import Output


class FilerCounts(Output):
    """What one agent or partner key filed: totals by status, so a key filing for a reseller shows up."""

    key_id: int
    role: str
    label: str
    offices: list[str]
    revoked: bool
    filed: int
    active: int
    booked: int
    attended: int
    closed_unattended: int
    last_filed_at: datetime | None


class ChannelStatsPublic(Output):
    """Requests by channel (all statuses) and per filing key, exact counts (a staff view)."""

    by_channel: dict[str, int]
    filers: list[FilerCounts]
