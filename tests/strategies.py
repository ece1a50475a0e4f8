"""Hypothesis strategies shared by the tests, and the ``ci`` / ``dev`` profiles (HYPOTHESIS_PROFILE).

Draw inputs are generated around real clock changes so that local dates, weekdays and the hour repeated
when clocks go back are exercised, not just tidy office hours.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from app.domain.lottery import Availability, DrawEntry, DrawSlot
from app.domain.weights import FOUR_PLACES

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Every weight the default policy can give: expiry x vulnerability x waiting x no-show, 0.5 up to 18.
REALISTIC_WEIGHTS = sorted(
    {
        (Decimal(e) * v * (1 + Decimal("0.25") * lost) * n).quantize(FOUR_PLACES)
        for e, v, lost, n in itertools.product(
            (1, 2, 3, 4), (Decimal(1), Decimal("1.5")), range(9), (Decimal(1), Decimal("0.5"))
        )
    }
)

# Offices and the days their clocks change; America/Santiago changes at midnight, so a date is skipped
# or repeated there, which is where "local date" gets interesting.
CLOCK_CHANGES = {
    "Europe/Paris": (date(2025, 3, 30), date(2025, 10, 26)),
    "America/Santiago": (date(2025, 4, 6), date(2025, 9, 7)),
    "UTC": (date(2025, 1, 1),),
}
# Zones far from the office's, used to write some slots in another offset (local dates then jump about).
FAR_ZONES = (ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago"))

weights = st.sampled_from(REALISTIC_WEIGHTS)
seeds = st.binary(min_size=32, max_size=32)
beacons = st.one_of(st.just(""), st.text(max_size=24))
entry_refs = st.one_of(
    st.from_regex(r"FS-[0-9A-HJ-NP-Z]{6}", fullmatch=True),
    st.text(min_size=1, max_size=8),
)


@dataclass(frozen=True)
class DrawInput:
    """Everything a draw takes."""

    seed: bytes
    beacon: str
    entries: list[DrawEntry]
    slots: list[DrawSlot]


@st.composite
def office_days(draw: st.DrawFn) -> tuple[ZoneInfo, date]:
    """An office time zone and a day of one of its clock changes."""
    zone = draw(st.sampled_from(sorted(CLOCK_CHANGES)))
    return ZoneInfo(zone), draw(st.sampled_from(CLOCK_CHANGES[zone]))


@st.composite
def slot_lists(
    draw: st.DrawFn,
    zone: ZoneInfo,
    around: date,
    *,
    min_size: int = 0,
    max_size: int = 12,
    mixed_offsets: bool = False,
) -> list[DrawSlot]:
    """Slots within four days of ``around``, office-local, sometimes several desks at one time."""
    count = draw(st.integers(min_size, max_size))
    # Ids in an order unrelated to time, so ties on starts_at really are broken by id.
    ids = draw(st.permutations([f"S-{n:02d}" for n in range(count)]))
    slots = []
    for slot_id in ids:
        day = around + timedelta(days=draw(st.integers(-4, 4)))
        # Hours 0-3 cover the night of a clock change; fold picks either side of the repeated hour.
        hour = draw(st.sampled_from((0, 1, 2, 3, 9, 14, 23)))
        clock = time(hour, draw(st.sampled_from((0, 30))), fold=draw(st.integers(0, 1)))
        starts_at = datetime.combine(day, clock, zone)
        if mixed_offsets and draw(st.booleans()):
            starts_at = starts_at.astimezone(draw(st.sampled_from(FAR_ZONES)))
        slots.append(DrawSlot(slot_id, starts_at))
    return slots


@st.composite
def availabilities(draw: st.DrawFn, around: date) -> Availability:
    """Any day, or a window near ``around`` (possibly empty or inverted), and/or some weekdays."""
    kind = draw(st.sampled_from(("any", "any", "window", "weekdays", "both")))
    if kind == "any":
        return Availability()
    earliest = latest = None
    weekdays = None
    if kind in ("window", "both"):
        earliest = draw(st.none() | st.integers(-6, 6).map(lambda d: around + timedelta(days=d)))
        latest = draw(st.none() | st.integers(-6, 6).map(lambda d: around + timedelta(days=d)))
    if kind in ("weekdays", "both"):
        weekdays = draw(st.frozensets(st.integers(1, 7), min_size=1))
    return Availability(earliest, latest, weekdays)


@st.composite
def entry_lists(
    draw: st.DrawFn, around: date, *, min_size: int = 0, max_size: int = 20, restricted: bool = True
) -> list[DrawEntry]:
    """Entries with unique references, realistic weights and (when ``restricted``) availabilities."""
    refs = draw(st.lists(entry_refs, min_size=min_size, max_size=max_size, unique=True))
    any_day = st.just(Availability())
    return [
        DrawEntry(ref, draw(weights), draw(availabilities(around) if restricted else any_day)) for ref in refs
    ]


@st.composite
def draw_inputs(
    draw: st.DrawFn,
    *,
    max_entries: int = 20,
    max_slots: int = 12,
    restricted: bool = True,
    mixed_offsets: bool | None = None,
) -> DrawInput:
    """A whole draw: seed, beacon, entries and slots around one office's clock change."""
    zone, around = draw(office_days())
    mixed = draw(st.booleans()) if mixed_offsets is None else mixed_offsets
    slots = draw(slot_lists(zone, around, max_size=max_slots, mixed_offsets=mixed))
    entries = draw(entry_lists(around, max_size=max_entries, restricted=restricted))
    return DrawInput(draw(seeds), draw(beacons), entries, slots)


@st.composite
def record_rows(draw: st.DrawFn) -> tuple[str, str, dict[str, object], int, str, str | None]:
    """One draw record entry as the draw holds it: any text where the record has text (quotes, accents,
    controls), an availability, a rank, an outcome and a slot."""
    text = st.text(max_size=12)
    availability = {
        "earliest": draw(st.none() | st.dates().map(date.isoformat)),
        "latest": draw(st.none() | st.dates().map(date.isoformat)),
        "weekdays": draw(
            st.none() | st.lists(st.integers(1, 7), min_size=1, max_size=7, unique=True).map(sorted)
        ),
    }
    return (
        draw(text),
        draw(text),
        availability,
        draw(st.integers(1, 10**7)),
        draw(st.sampled_from(["offered", "not_selected", "no_compatible_slot"]) | text),
        draw(st.none() | text),
    )
