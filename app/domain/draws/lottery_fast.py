"""The draw ``fairslot-draw-v1``, fast: the same results as ``app.domain.draws.lottery`` (the plain specification,
pinned by the properties in ``tests/domain/test_lottery_fast.py``) in the time a million-entry draw allows.

Where the time goes, and what each piece does about it: the ranking hashes each entry from a copy of the
hashed randomness and keeps the keys unboxed; the slot pool finds "the first free slot that fits" with
union-find over runs of one local date, per weekday, instead of scanning; the results past the last free
slot are assembled in input order, where they lie together in memory. Production draws and record
verification use ``rank_and_fill`` (the ranking and the results of the ranks that met a free slot; every
later rank is ``not_selected`` without an object); ``run_draw`` is that plus a result per entry.
"""

from __future__ import annotations

import gc
import hashlib
import math
import struct
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

import numpy

from app.domain.draws.lottery import (
    NO_COMPATIBLE_SLOT,
    NOT_SELECTED,
    OFFERED,
    SEED_BYTES,
    Availability,
    DrawEntry,
    DrawSlot,
    EntryResult,
    randomness,
    slot_order,
    weight_as_float,
)

# The spec reads the first 8 digest bytes as a big-endian integer; unpacking them is the same number.
_FIRST_8_BYTES = struct.Struct(">Q").unpack_from


def rank_entries(randomness: bytes, entries: Sequence[DrawEntry]) -> list[DrawEntry]:
    """``lottery.rank_entries``, fast."""
    with gc_paused():
        names = [e.entry for e in entries]
        order, _ = _ranking(randomness, names, map(str.encode, names), [e.weight for e in entries])
        return [entries[i] for i in order]


def assign(ranked: Sequence[DrawEntry], slots: Sequence[DrawSlot]) -> list[EntryResult]:
    """``lottery.assign``, fast."""
    with gc_paused():
        n = len(ranked)
        names = [e.entry for e in ranked]
        head = _assign_until_full(names, lambda i: ranked[i].availability, range(n), slots)
        return _complete(head, names, range(1, n + 1))


def run_draw(
    *, seed: bytes, beacon: str, entries: Sequence[DrawEntry], slots: Sequence[DrawSlot]
) -> list[EntryResult]:
    """``lottery.run_draw``, fast: results for every entry, in rank order."""
    with gc_paused():
        names = [e.entry for e in entries]
        _order, rank_of, head = rank_and_fill(
            seed=seed,
            beacon=beacon,
            names=names,
            weights=[e.weight for e in entries],
            availability_at=lambda i: entries[i].availability,
            slots=slots,
        )
        return _complete(head, names, rank_of)


def rank_and_fill(
    *,
    seed: bytes,
    beacon: str,
    names: Sequence[str],
    weights: Sequence[Decimal],
    availability_at: Callable[[int], Availability],
    slots: Sequence[DrawSlot],
    known_unique: bool = False,
    encoded_names: Iterable[bytes | memoryview] | None = None,
) -> tuple[array[int], array[int], list[EntryResult]]:
    """The draw without its million ``not_selected`` results, for inputs held column by column.

    Returns ``order`` (input indices in rank order), ``rank_of`` (each input's rank) and the results of
    ranks 1 to ``len(head)``, the entries met while a slot was left; every entry ranked after them is
    ``not_selected``. ``run_draw`` is this plus those results; verifying a record compares against this
    directly, without building them. ``known_unique``: the caller has checked that no name repeats (a
    million-name set is not built twice); ``encoded_names``: the names' UTF-8 bytes, when the caller
    holds them so.
    """
    if len(seed) != SEED_BYTES:
        raise ValueError(f"seed must be {SEED_BYTES} bytes")
    with gc_paused():
        if not known_unique and len(set(names)) != len(names):
            raise ValueError("entry references must be unique")
        encoded = map(str.encode, names) if encoded_names is None else encoded_names
        order, rank_of = _ranking(randomness(seed, beacon), names, encoded, weights)
        head = _assign_until_full(names, availability_at, order, slots)
        return order, rank_of, head


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the block (and back on after, if it was on).

    A draw allocates millions of small tracked objects and none of them form cycles; left on, the cyclic
    collector rescans the growing heap over and over, which costs more than the draw itself. The switch
    is process-wide: other threads' cycles simply wait the seconds until the draw is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ranking(
    randomness: bytes,
    names: Sequence[str],
    encoded: Iterable[bytes | memoryview],
    weights: Sequence[Decimal],
) -> tuple[array[int], array[int]]:
    """``order`` (input indices by ascending ``(key, entry)``) and ``rank_of`` (each input's rank)."""
    # Few distinct weights exist (products of a handful of factors), so each is converted once.
    as_float = {w: weight_as_float(w) for w in set(weights)}
    # entry_key's arithmetic, inlined: this loop is most of a draw's time. Continuing a copy of the
    # hashed randomness equals hashing randomness + entry, and scaling by 2**-64 is exact, so it equals
    # the spec's division by 2**64.
    continue_hash, first_8, log, scale = hashlib.sha256(randomness).copy, _FIRST_8_BYTES, math.log, 2.0**-64
    # The keys unboxed (8 bytes each, not a float object each) and sorted by numpy: a stable sort of the
    # same doubles gives the order sorted() gives, in a tenth of the time and a quarter of the memory.
    keys = array("d")
    append = keys.append
    for raw, weight in zip(encoded, weights, strict=True):
        h = continue_hash()
        h.update(raw)
        append(-log((first_8(h.digest())[0] + 0.5) * scale) / as_float[weight])
    values = numpy.frombuffer(keys, dtype=numpy.float64) if keys else numpy.empty(0)
    order = numpy.argsort(values, kind="stable")
    in_order = values[order]
    if len(in_order) > 1 and bool((in_order[1:] == in_order[:-1]).any()):
        # Equal keys are all but impossible; the spec then orders by entry.
        order = numpy.array(sorted(range(len(keys)), key=lambda i: (keys[i], names[i])), dtype=numpy.int64)
    rank_of = numpy.empty(len(order), dtype=numpy.int64)
    rank_of[order] = numpy.arange(1, len(order) + 1, dtype=numpy.int64)
    return array("q", order.astype(numpy.int64).tobytes()), array("q", rank_of.tobytes())


def _assign_until_full(
    names: Sequence[str],
    availability_at: Callable[[int], Availability],
    order: Sequence[int],
    slots: Sequence[DrawSlot],
) -> list[EntryResult]:
    """Results for the inputs ``i for i in order`` up to the first one met once no slot is left."""
    pool = _SlotPool(slots)
    results: list[EntryResult] = []
    append = results.append
    for rank, i in enumerate(order, 1):
        if not pool.remaining:
            break
        slot = pool.take(availability_at(i))
        append(EntryResult(names[i], rank, NO_COMPATIBLE_SLOT if slot is None else OFFERED, slot))
    return results


def _complete(head: list[EntryResult], names: list[str], rank_of: Sequence[int]) -> list[EntryResult]:
    """``head`` followed by a ``not_selected`` result for every entry ranked after it, in rank order."""
    decided = len(head)
    results: list[Any] = [None] * len(names)
    results[:decided] = head
    # Past the few thousand entries that met a free slot, a big draw is mostly this loop. It walks the
    # entries in input order, where their names lie together in memory, and drops each result at its
    # rank: walking them in rank order instead jumps all over the heap and takes twice as long.
    # A frozen dataclass's __init__ sets each field through object.__setattr__; setting the slots through
    # their descriptors, as that __init__ ends up doing, builds the same objects in half the time.
    fields = vars(EntryResult)
    set_entry, set_rank = fields["entry"].__set__, fields["rank"].__set__
    set_outcome, set_slot = fields["outcome"].__set__, fields["slot"].__set__
    new = object.__new__
    for name, rank in zip(names, rank_of, strict=True):
        if rank > decided:
            result = new(EntryResult)
            set_entry(result, name)
            set_rank(result, rank)
            set_outcome(result, NOT_SELECTED)
            set_slot(result, None)
            results[rank - 1] = result
    return results


def _find(free: list[int], i: int) -> int:
    """The first position at or after ``i`` not yet exhausted (union-find with path compression)."""
    root = i
    while free[root] != root:
        root = free[root]
    while free[i] != root:
        free[i], i = root, free[i]
    return root


class _SlotPool:
    """The free slots of a draw, handed out in ``(starts_at, slot)`` order to entries they fit."""

    __slots__ = (
        "cursor",
        "free_run",
        "remaining",
        "run_ord",
        "run_slots",
        "run_weekday",
        "scan_from",
        "weekday_free",
        "weekday_ords",
        "weekday_position",
        "weekday_runs",
    )

    def __init__(self, slots: Sequence[DrawSlot]) -> None:
        ordered = sorted(slots, key=slot_order)
        if len({s.slot for s in ordered}) != len(ordered):
            raise ValueError("slot ids must be unique")
        self.remaining = len(ordered)
        # Consecutive slots on the same local date form a "run", used up front to back: the first free
        # slot that fits an entry is the next slot of the first run that fits it and is not used up.
        self.run_slots: list[list[str]] = []
        run_day: list[date] = []
        for s in ordered:
            day = s.starts_at.date()
            if run_day and run_day[-1] == day:
                self.run_slots[-1].append(s.slot)
            else:
                run_day.append(day)
                self.run_slots.append([s.slot])
        self.run_ord = [d.toordinal() for d in run_day]
        self.run_weekday = [d.isoweekday() for d in run_day]
        self.cursor = [0] * len(run_day)
        # Union-find over runs skipping the used-up ones; the extra last position means "none left".
        self.free_run = list(range(len(run_day) + 1))
        # Within one time zone local dates go forward with time (bar a clock change back across
        # midnight), so runs are sorted by date and a window is a contiguous range of runs: a bisection
        # finds it, per weekday. When they are not (such a clock change, or slots in mixed offsets), a
        # slower scan applies the same rule.
        dates_increase = all(a < b for a, b in pairwise(self.run_ord))
        self.scan_from: dict[tuple[int, int, frozenset[int] | None], int] | None = (
            None if dates_increase else {}
        )
        self.weekday_runs: dict[int, list[int]] = {w: [] for w in range(1, 8)}
        for run, weekday in enumerate(self.run_weekday):
            self.weekday_runs[weekday].append(run)
        self.weekday_ords = {w: [self.run_ord[r] for r in runs] for w, runs in self.weekday_runs.items()}
        self.weekday_free = {w: list(range(len(runs) + 1)) for w, runs in self.weekday_runs.items()}
        self.weekday_position = [0] * len(run_day)
        for runs in self.weekday_runs.values():
            for p, r in enumerate(runs):
                self.weekday_position[r] = p

    def take(self, availability: Availability) -> str | None:
        """Remove and return the first free slot that fits ``availability``; None when none fits."""
        earliest, latest, weekdays = availability.earliest, availability.latest, availability.weekdays
        if earliest is None and latest is None and weekdays is None:
            run = _find(self.free_run, 0)
        else:
            low = earliest.toordinal() if earliest is not None else 0
            high = latest.toordinal() if latest is not None else 1 << 31
            if self.scan_from is None:
                run = self._first_fit(low, high, weekdays)
            else:
                run = self._scan_fit(low, high, weekdays)
        if run == len(self.run_slots):
            return None
        ids = self.run_slots[run]
        taken = self.cursor[run]
        self.cursor[run] = taken + 1
        self.remaining -= 1
        if taken + 1 == len(ids):
            self.free_run[run] = run + 1
            p = self.weekday_position[run]
            self.weekday_free[self.run_weekday[run]][p] = p + 1
        return ids[taken]

    def _first_fit(self, low: int, high: int, weekdays: frozenset[int] | None) -> int:
        """With runs sorted by date: the first free run in [low, high] on an allowed weekday."""
        none = len(self.run_ord)
        if weekdays is None:
            run = _find(self.free_run, bisect_left(self.run_ord, low))
            return run if run < none and self.run_ord[run] <= high else none
        best = none
        for w in weekdays:
            ords = self.weekday_ords[w]
            p = _find(self.weekday_free[w], bisect_left(ords, low))
            if p < len(ords) and ords[p] <= high:
                best = min(best, self.weekday_runs[w][p])
        return best

    def _scan_fit(self, low: int, high: int, weekdays: frozenset[int] | None) -> int:
        """With runs not sorted by date: a scan resumed where the same availability last stopped."""
        # Runs only ever get used up, so the first fitting run for a given availability never moves
        # back: remembering it bounds the scanning to (distinct availabilities x runs) over a draw.
        assert self.scan_from is not None
        none = len(self.run_ord)
        profile = (low, high, weekdays)
        run = _find(self.free_run, self.scan_from.get(profile, 0))
        while run < none and not (
            low <= self.run_ord[run] <= high and (weekdays is None or self.run_weekday[run] in weekdays)
        ):
            run = _find(self.free_run, run + 1)
        self.scan_from[profile] = run
        return run
