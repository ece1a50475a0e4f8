"""Confirm or release: a booking far ahead must be confirmed in a window before its slot, or it goes back.

Per service, ``weight_policy.confirm_window_days = [opens, closes]`` (default ``[7, 2]``; ``null`` turns the
rule off). A booking whose slot starts more than ``opens`` days after it was made must be confirmed
between ``confirm_from = starts_at - opens days`` and ``confirm_by = starts_at - closes days`` (days are
24-hour periods before the slot's start); one made later is confirmed by accepting. The window is
half-open: confirming at ``confirm_by`` itself is too late, and that is the instant the scheduler
releases the booking. Bookings made before this rule have no window and are never released.

Two other times hang on a slot's start. An offer must be answered ``ANSWER_LEAD`` (two hours) before its
slot starts, so that whoever accepts has the time to come (or, when the slot starts sooner than twice
that after the draw, halfway between the draw and the start); the offer's own time to answer
(``offer_ttl_hours``) applies when it ends earlier. The "appointment tomorrow" reminder goes out on the
eve only: from 24 hours before the slot while the slot's date, in the office's time zone, is still
tomorrow there; a booking made on the day of its appointment has no eve and gets none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any

DEFAULT_DAYS = (7, 2)
#: How long before its slot starts an offer must be answered, at most (see the module's docstring).
ANSWER_LEAD = timedelta(hours=2)
POLICY_KEY = "confirm_window_days"


@dataclass(frozen=True)
class ConfirmWindow:
    """How many days before the slot confirmation opens and closes."""

    opens_days: int
    closes_days: int


@dataclass(frozen=True)
class BookingWindow:
    """A booking's confirmation window and, when booked inside it, its confirmation."""

    confirm_from: datetime | None
    confirm_by: datetime | None
    confirmed_at: datetime | None


def window_of(overrides: Mapping[str, Any] | None) -> ConfirmWindow | None:
    """A service's window: the default unless its policy sets one, None when set to null."""
    if overrides and POLICY_KEY in overrides:
        days = overrides[POLICY_KEY]
        return None if days is None else ConfirmWindow(int(days[0]), int(days[1]))
    return ConfirmWindow(*DEFAULT_DAYS)


def as_policy(window: ConfirmWindow | None) -> list[int] | None:
    """The window as shown in a service's policy."""
    return None if window is None else [window.opens_days, window.closes_days]


def for_booking(window: ConfirmWindow | None, *, starts_at: datetime, booked_at: datetime) -> BookingWindow:
    """The window of a booking made at ``booked_at`` for a slot starting at ``starts_at``."""
    if window is None:
        return BookingWindow(None, None, None)
    confirm_from = starts_at - timedelta(days=window.opens_days)
    confirm_by = starts_at - timedelta(days=window.closes_days)
    return BookingWindow(confirm_from, confirm_by, booked_at if booked_at >= confirm_from else None)


def is_open(confirm_from: datetime | None, confirm_by: datetime | None, now: datetime) -> bool:
    """Whether a booking may be confirmed at ``now``."""
    return confirm_from is not None and confirm_by is not None and confirm_from <= now < confirm_by


def answer_deadline(*, offered_at: datetime, starts_at: datetime, ttl: timedelta) -> datetime:
    """When an offer made at ``offered_at`` for a slot starting at ``starts_at`` expires: ``ttl`` after the
    offer, or ``ANSWER_LEAD`` before the start (half the time left when that is shorter), the earlier."""
    lead = min(ANSWER_LEAD, (starts_at - offered_at) / 2)
    return min(offered_at + ttl, starts_at - lead)


def is_eve(*, now: datetime, starts_at: datetime, zone: tzinfo) -> bool:
    """Whether ``now`` is the day before the slot's date, in the office's time zone."""
    return (starts_at.astimezone(zone).date() - now.astimezone(zone).date()).days == 1
