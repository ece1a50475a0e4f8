"""The staff view of the outbox: what waits to leave and how much of it fails, per channel."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from app.schemas.common import Output


class OutboxChannelPublic(Output):
    """One channel's backlog and outcomes."""

    channel: Literal["email", "sms"]
    queued: int
    due: int
    oldest_queued_at: datetime | None
    sent: int
    delivered: int
    failed: int
    failure_rate: float | None
    retrying: int


class OutboxPublic(Output):
    """The outbox as of ``as_of``: the backlog (``queued``, of which ``due`` now) and the settled
    messages since ``since`` (``failure_rate`` = failed / settled, null when nothing settled)."""

    as_of: datetime
    since: datetime
    channels: list[OutboxChannelPublic]
