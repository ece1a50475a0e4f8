"""Recurring releases: when a rule publishes, which week it publishes, and whether its draw comes in time.

A rule publishes every ISO ``publish_weekday`` at ``publish_time``, office-local; each publication releases
the ISO week that begins ``weeks_ahead`` weeks after the Monday of the publication's own week, drawn
``draw_after_hours`` after the publication. A draw must happen before its week starts: a rule whose draw
would fall after (on the wall clock of an ordinary week) is refused, and a publication whose draw would not
come in time (the clocks changed, the scheduler was stopped) is skipped.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.domain.planning.weeks import monday_of

MAX_WEEKS_AHEAD = 12
HOURS_PER_WEEK = 7 * 24


def draw_comes_in_time(
    publish_weekday: int, publish_time: time, weeks_ahead: int, draw_after_hours: int
) -> bool:
    """Whether the draw falls before the published week starts (wall-clock hours from the publication's
    Monday 00:00)."""
    published = (publish_weekday - 1) * 24 + publish_time.hour + publish_time.minute / 60
    return published + draw_after_hours < weeks_ahead * HOURS_PER_WEEK


def next_publication(after: datetime, publish_weekday: int, publish_time: time, zone: ZoneInfo) -> datetime:
    """The first publication strictly after ``after`` (UTC)."""
    local_day = after.astimezone(zone).date()
    for offset in range(0, 9):
        day = local_day + timedelta(days=offset)
        if day.isoweekday() != publish_weekday:
            continue
        moment = datetime.combine(day, publish_time, tzinfo=zone).astimezone(UTC)
        if moment > after:
            return moment
    raise AssertionError("a weekday comes back within eight days")


def published_week(publication: datetime, weeks_ahead: int, zone: ZoneInfo) -> date:
    """The Monday of the week a publication at ``publication`` releases."""
    return monday_of(publication.astimezone(zone).date()) + timedelta(weeks=weeks_ahead)


def week_start(monday: date, zone: ZoneInfo) -> datetime:
    """When the week of ``monday`` starts: its Monday 00:00 office-local, in UTC."""
    return datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
