"""The audit log as auditors and admins read it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import Field

from app.schemas.common import Output


class AuditActor(Output):
    """Who acted: the account and its display name, the key if one was used, and the face."""

    account_id: int | None
    display_name: str
    key_id: int | None
    via: Literal["web", "api", "scheduler", "cli"] | None = Field(
        description="web, api or scheduler; cli for the machine's console; null on rows older than accounts"
    )


class AuditItem(Output):
    """One audit event."""

    id: int
    at: datetime
    actor: AuditActor
    action: str
    office: str | None
    subject: str
    details: dict[str, Any]


class AuditPage(Output):
    """A page of events, newest first."""

    items: list[AuditItem]
    next_cursor: str | None


class AuditVerification(Output):
    """The hash chain: whether every sealed row holds, how many there are, and the first that does not."""

    valid: bool
    rows: int
    first_broken: int | None = Field(description="The id of the first row whose hash or link breaks.")


def moment(value: str, *, end: bool = False) -> datetime:
    """A ``from``/``to`` filter: an RFC 3339 time with its offset, or a date (UTC; ``to`` a date: its end).

    ``ValueError`` for anything else.
    """
    text = value.strip()
    if len(text) > 40:
        raise ValueError("too long")
    if len(text) == 10:
        day = date.fromisoformat(text)
        start = datetime.combine(day, time(0), tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("a time needs its offset")
    return parsed
