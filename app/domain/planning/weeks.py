"""ISO weeks as planners name them (``2027-W03``): parsing, their days, and the week of a date."""

from __future__ import annotations

import re
from datetime import date, timedelta

_WEEK = re.compile(r"^(?P<year>\d{4})-W(?P<week>\d{2})$")


class NotAnIsoWeek(ValueError):
    """Not an ISO 8601 week of the form ``2027-W03`` that exists."""


def parse_week(text: str) -> date:
    """The Monday of the ISO week ``text`` (``2027-W03``); ``NotAnIsoWeek`` otherwise (``2027-W54``,
    ``2027-3``, ``2026-W53`` in a year of 52 weeks)."""
    match = _WEEK.match(text)
    if match is None:
        raise NotAnIsoWeek(f"{text!r} is not an ISO week such as 2027-W03")
    year, week = int(match["year"]), int(match["week"])
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError as exc:
        raise NotAnIsoWeek(f"{text!r}: the year {year} has no week {week}") from exc
    return monday


def week_of(day: date) -> str:
    """The ISO week ``day`` falls in (``2027-W03``)."""
    year, week, _weekday = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def monday_of(day: date) -> date:
    """The Monday of the ISO week ``day`` falls in."""
    return day - timedelta(days=day.isoweekday() - 1)


def days_of(monday: date) -> list[date]:
    """Monday to Sunday of the week starting on ``monday``."""
    return [monday + timedelta(days=i) for i in range(7)]
