"""An office's week, as a prefecture plans it: opening lines per weekday, cut into slots in local time.

A line opens a service on one ISO weekday (1 Monday … 7 Sunday) from ``opens`` to ``closes`` with ``desks``
parallel desks. Slots are cut on the wall clock of the office's zone, from ``opens`` in steps of the
service's length, while a whole slot fits before ``closes``: an office that opens at 09:00 opens at 09:00
local time on the days the clocks change too. On the night the clocks go forward, a wall-clock time that
does not exist (02:30 in Paris on the last Sunday of March) is no slot; on the night they go back, a time
that happens twice (02:30 on the last Sunday of October) is one slot, at its first occurrence.

A public holiday closes the day; a closure closes it or caps its desks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

_CLOCK = re.compile(r"^(?P<h>\d{2}):(?P<m>\d{2})$")
MAX_DESKS = 100


def parse_clock(text: str) -> time:
    """A time of day written ``HH:MM`` (00:00 to 23:59); ``ValueError`` otherwise (``25:00``, ``9h``)."""
    match = _CLOCK.match(text)
    if match is None or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise ValueError(f"{text!r} is not a time of day written HH:MM, from 00:00 to 23:59")
    return time(int(match["h"]), int(match["m"]))


def clock_text(moment: time) -> str:
    """``HH:MM``."""
    return f"{moment.hour:02d}:{moment.minute:02d}"


@dataclass(frozen=True, slots=True)
class OpeningLine:
    """The service is open on ``weekday`` from ``opens`` to ``closes`` at ``desks`` desks."""

    weekday: int
    opens: time
    closes: time
    desks: int

    def as_dict(self) -> dict[str, object]:
        """As stored and shown (``{"weekday": 1, "opens": "09:00", "closes": "12:00", "desks": 3}``)."""
        return {
            "weekday": self.weekday,
            "opens": clock_text(self.opens),
            "closes": clock_text(self.closes),
            "desks": self.desks,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> OpeningLine:
        """A stored line."""
        return cls(
            weekday=int(str(data["weekday"])),
            opens=parse_clock(str(data["opens"])),
            closes=parse_clock(str(data["closes"])),
            desks=int(str(data["desks"])),
        )


def overlaps(lines: Sequence[OpeningLine]) -> list[tuple[int, int]]:
    """The pairs ``(i, j)``, ``i < j``, of lines of the same weekday whose hours overlap (touching is fine:
    09:00-12:00 and 12:00-13:00 do not overlap)."""
    found = []
    for i, a in enumerate(lines):
        for j in range(i + 1, len(lines)):
            b = lines[j]
            if a.weekday == b.weekday and a.opens < b.closes and b.opens < a.closes:
                found.append((i, j))
    return found


def _minutes(moment: time) -> int:
    return moment.hour * 60 + moment.minute


def _exists(moment: datetime, zone: ZoneInfo) -> bool:
    """Whether a local wall-clock time happens at all (it does not in the hour the clocks skip)."""
    back = moment.astimezone(UTC).astimezone(zone)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def day_starts(day: date, line: OpeningLine, slot_minutes: int, zone: ZoneInfo) -> list[datetime]:
    """The local start of each slot of ``line`` on ``day`` (aware, in ``zone``)."""
    starts = []
    minute = _minutes(line.opens)
    while minute + slot_minutes <= _minutes(line.closes):
        wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
        if _exists(wall, zone):
            starts.append(wall)
        minute += slot_minutes
    return starts


@dataclass(frozen=True, slots=True)
class PlannedStart:
    """Slots starting at ``starts_at`` (local), one per desk."""

    starts_at: datetime
    desks: int


def plan_days(
    days: Iterable[date],
    lines: Sequence[OpeningLine],
    slot_minutes: int,
    zone: ZoneInfo,
    *,
    holidays: Iterable[date] = (),
    desk_caps: Mapping[date, int] | None = None,
) -> list[PlannedStart]:
    """The slots the schedule makes on ``days``: none on a holiday, at most ``desk_caps[day]`` desks on a
    day a closure reduces (0: closed), in start order."""
    closed = set(holidays)
    caps = desk_caps or {}
    planned: list[PlannedStart] = []
    for day in days:
        if day in closed:
            continue
        cap = caps.get(day)
        for line in lines:
            if line.weekday != day.isoweekday():
                continue
            desks = line.desks if cap is None else min(line.desks, cap)
            if desks < 1:
                continue
            planned.extend(PlannedStart(start, desks) for start in day_starts(day, line, slot_minutes, zone))
    return sorted(planned, key=lambda p: p.starts_at.astimezone(UTC))


def weekly_capacity(lines: Sequence[OpeningLine], slot_minutes: int) -> int:
    """Slots a plain week of the schedule makes (no holiday, no closure, no clock change)."""
    return sum(
        line.desks * ((_minutes(line.closes) - _minutes(line.opens)) // slot_minutes) for line in lines
    )
