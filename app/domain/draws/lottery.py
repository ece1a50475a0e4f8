"""The draw ``fairslot-draw-v1``: a seeded weighted ranking of entries, then slots assigned in rank order.

Everything a draw needs is passed in (seed, beacon, entries, slots), so the same inputs always give the same
results and anyone holding the published record can recompute them (see ``draw_record``). The key of an
entry is an exponential race (Efraimidis-Spirakis): the chance to come first is proportional to weight.

This module is the specification, written to be read: the inputs, the key of an entry, the ranking and the
assignment of slots. The measured fast paths (the ranking loop, the slot pool, the assembly of a million
results) are in ``app.domain.draws.lottery_fast``, pinned to these functions by property tests.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

SPEC = "fairslot-draw-v1"

OFFERED = "offered"
NOT_SELECTED = "not_selected"
NO_COMPATIBLE_SLOT = "no_compatible_slot"
OUTCOMES = frozenset({OFFERED, NOT_SELECTED, NO_COMPATIBLE_SLOT})

SEED_BYTES = 32


@dataclass(frozen=True, slots=True)
class Availability:
    """When an applicant can come: an inclusive date window and allowed ISO weekdays (None = no limit)."""

    earliest: date | None = None
    latest: date | None = None
    weekdays: frozenset[int] | None = None

    def __post_init__(self) -> None:
        if self.weekdays is not None:
            days = frozenset(self.weekdays)
            if not days or any(isinstance(d, bool) or d not in range(1, 8) for d in days):
                raise ValueError("weekdays must be a non-empty set of ISO weekdays 1-7, or None")
            object.__setattr__(self, "weekdays", days)

    def allows(self, day: date) -> bool:
        """Whether a slot on this local ``day`` fits the window and the weekdays."""
        if isinstance(day, datetime):
            day = day.date()
        return (
            (self.earliest is None or self.earliest <= day)
            and (self.latest is None or day <= self.latest)
            and (self.weekdays is None or day.isoweekday() in self.weekdays)
        )

    def as_dict(self) -> dict[str, Any]:
        """The availability as it appears in a draw record."""
        return {
            "earliest": None if self.earliest is None else self.earliest.isoformat(),
            "latest": None if self.latest is None else self.latest.isoformat(),
            "weekdays": None if self.weekdays is None else sorted(self.weekdays),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Availability:
        """Parse a record's availability strictly; raises ValueError on anything malformed."""
        if not isinstance(data, Mapping):
            raise ValueError("availability must be an object")
        unknown = set(data) - {"earliest", "latest", "weekdays"}
        if unknown:
            raise ValueError(f"unknown availability fields: {', '.join(sorted(map(str, unknown)))}")
        weekdays = data.get("weekdays")
        if weekdays is not None:
            if not isinstance(weekdays, list) or len(set(weekdays)) != len(weekdays):
                raise ValueError("weekdays must be a list of distinct ISO weekdays, or null")
            weekdays = frozenset(weekdays)
        return cls(
            earliest=_parse_iso_date(data.get("earliest"), "earliest"),
            latest=_parse_iso_date(data.get("latest"), "latest"),
            weekdays=weekdays,
        )


ANY_DAY = Availability()


def _parse_iso_date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    # date.fromisoformat also takes compact forms such as "20240105"; the record uses YYYY-MM-DD only.
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise ValueError(f"{name} must be an ISO date (YYYY-MM-DD) or null")
    return date.fromisoformat(value)


@dataclass(frozen=True, slots=True)
class DrawEntry:
    """One request in a draw: its public reference, its weight and its availability."""

    entry: str
    weight: Decimal
    availability: Availability = ANY_DAY


@dataclass(frozen=True, slots=True)
class DrawSlot:
    """One released slot; ``starts_at`` is aware and in the office's local time."""

    slot: str
    starts_at: datetime

    def __post_init__(self) -> None:
        if self.starts_at.utcoffset() is None:
            raise ValueError(f"slot {self.slot}: starts_at must carry its UTC offset")


@dataclass(frozen=True, slots=True)
class EntryResult:
    """What the draw gave one entry: its rank (from 1), its outcome and, when offered, its slot."""

    entry: str
    rank: int
    outcome: str
    slot: str | None


def new_seed() -> bytes:
    """A fresh secret seed for a release."""
    return secrets.token_bytes(SEED_BYTES)


def commitment(seed: bytes) -> str:
    """The public commitment to a seed: sha256 of its bytes, as 64 lowercase hex characters."""
    return hashlib.sha256(seed).hexdigest()


def randomness(seed: bytes, beacon: str) -> bytes:
    """The draw's randomness: sha256 of the seed followed by the UTF-8 beacon ("" when absent)."""
    return hashlib.sha256(seed + beacon.encode("utf-8")).digest()


def entry_key(randomness: bytes, entry: str, weight: Decimal | float | str) -> float:
    """The race key of one entry (smaller comes first), exactly as the spec writes it."""
    digest = hashlib.sha256(randomness + entry.encode()).digest()
    u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
    return -math.log(u) / weight_as_float(weight)


def slot_order(slot: DrawSlot) -> tuple[datetime, str]:
    """The key of ``(starts_at, slot)`` order, comparing start times as instants."""
    # Python compares two datetimes sharing a tzinfo by wall clock, so 02:45 summer time would follow
    # 02:15 winter time in the hour repeated when clocks go back; the record's fixed offsets compare as
    # instants. Comparing in UTC gives the draw and its verification the same order.
    return slot.starts_at.astimezone(UTC), slot.slot


def weight_as_float(weight: Decimal | float | str) -> float:
    """``weight`` as the float the spec divides by; refuses anything not positive and finite."""
    value = float(weight)
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"weight {weight} must be a positive finite number")
    return value


def rank_entries(randomness: bytes, entries: Sequence[DrawEntry]) -> list[DrawEntry]:
    """The entries in draw order: ascending ``(entry_key, entry)``."""
    return sorted(entries, key=lambda e: (entry_key(randomness, e.entry, e.weight), e.entry))


def assign(ranked: Sequence[DrawEntry], slots: Sequence[DrawSlot]) -> list[EntryResult]:
    """Give each entry, in rank order, the first free slot that fits it.

    Slots are taken in ``(starts_at, slot)`` order, start times compared as instants. A slot fits an
    entry when its local date lies in the entry's window (inclusive; None is unbounded) and its ISO
    weekday is allowed (None is any day). The spec's two "no slot" outcomes are read as: when no free
    slot at all remains, the entry is ``not_selected`` (it lost the race); when free slots remain but
    none fits, it is ``no_compatible_slot`` (nobody beat it, its availability excluded it). Otherwise it
    is ``offered`` its slot. Ranks count from 1 in the order given.
    """
    free = sorted(slots, key=slot_order)
    if len({s.slot for s in free}) != len(free):
        raise ValueError("slot ids must be unique")
    results = []
    for rank, e in enumerate(ranked, 1):
        if not free:
            results.append(EntryResult(e.entry, rank, NOT_SELECTED, None))
            continue
        fitting = next((s for s in free if e.availability.allows(s.starts_at.date())), None)
        if fitting is None:
            results.append(EntryResult(e.entry, rank, NO_COMPATIBLE_SLOT, None))
        else:
            free.remove(fitting)
            results.append(EntryResult(e.entry, rank, OFFERED, fitting.slot))
    return results


def run_draw(
    *, seed: bytes, beacon: str, entries: Sequence[DrawEntry], slots: Sequence[DrawSlot]
) -> list[EntryResult]:
    """The draw ``fairslot-draw-v1``: rank the entries by their keys, then assign the slots in rank order.

    This is the specification, written plainly. Production draws and verifies through
    ``app.domain.draws.lottery_fast.run_draw``, which gives the same results (pinned by property tests) in a
    fraction of the time.
    """
    check_inputs(seed, entries)
    return assign(rank_entries(randomness(seed, beacon), entries), slots)


def check_inputs(seed: bytes, entries: Sequence[DrawEntry]) -> None:
    """Refuse a seed of the wrong size and repeated entry references (ValueError)."""
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes")
    if len({e.entry for e in entries}) != len(entries):
        raise ValueError("entry references must be unique")
