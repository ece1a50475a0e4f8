"""Benchmark of the draw: lottery_fast.run_draw (the computation production draws run, with a result per entry)
against the floor of one sha256 per entry plus one sort.

    python bench/bench_draw.py [--entries N] [--slots M] [--big-entries N] [--repeats R] [--seed S]

Runs the ``--entries`` case (best of ``--repeats``), then the ``--big-entries`` case (best of 2), and
reports for the big case the memory run_draw allocates (tracemalloc, in a separate untimed run) and the
process's peak resident size. Inputs are realistic: about 70% of entries can come any day, the others give a date window
and/or weekdays; weights come from the default weight policy.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import random
import resource
import sys
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from zoneinfo import ZoneInfo

from app.domain.draws.lottery import (
    ANY_DAY,
    Availability,
    DrawEntry,
    DrawSlot,
    new_seed,
    randomness,
)
from app.domain.draws.lottery_fast import run_draw
from app.domain.weights import WeightPolicy, compute_weight

TARGET_RATIO = 3.0
OFFICE_ZONE = ZoneInfo("Europe/Paris")
FIRST_DAY = date(2025, 3, 3)  # a Monday; a month of slots crosses the end of March clock change


def make_slots(count: int, desks: int = 4) -> list[DrawSlot]:
    """Weekday slots every 15 minutes from 08:30 to 16:15, ``desks`` in parallel, local Paris time."""
    slots: list[DrawSlot] = []
    day = FIRST_DAY
    while len(slots) < count:
        if day.isoweekday() <= 5:
            for quarter in range(32):
                at = clock(*divmod(8 * 60 + 30 + 15 * quarter, 60))
                start = datetime.combine(day, at, OFFICE_ZONE)
                for desk in range(desks):
                    if len(slots) < count:
                        slots.append(DrawSlot(f"{day:%Y%m%d}-{quarter:02d}-{desk}", start))
        day += timedelta(days=1)
    return slots


def weight_table() -> tuple[list[Decimal], list[float]]:
    """Weights the default policy gives, each with a plausible frequency."""
    policy = WeightPolicy()
    on = FIRST_DAY
    weights: list[Decimal] = []
    frequencies: list[float] = []
    for days_left, p_expiry in ((400, 0.7), (80, 0.12), (50, 0.1), (10, 0.08)):
        for vulnerable, p_vulnerable in ((False, 0.9), (True, 0.1)):
            for lost in range(9):
                for no_show, p_no_show in ((None, 0.97), (on - timedelta(days=30), 0.03)):
                    weight = compute_weight(
                        policy=policy,
                        on=on,
                        permit_expires_on=on + timedelta(days=days_left),
                        vulnerabilities=["mobility"] if vulnerable else [],
                        draws_lost=lost,
                        last_no_show_on=no_show,
                    )
                    weights.append(weight.total)
                    frequencies.append(p_expiry * p_vulnerable * p_no_show * 0.6**lost)
    return weights, frequencies


def make_entries(count: int, slot_days: int, rng: random.Random) -> list[DrawEntry]:
    """``count`` entries: ~70% available any day, the rest with a window and/or weekdays."""
    weights, frequencies = weight_table()
    chosen = rng.choices(weights, frequencies, k=count)
    entries: list[DrawEntry] = []
    for number, weight in enumerate(chosen):
        if rng.random() < 0.7:
            availability = ANY_DAY
        else:
            kind = rng.random()
            earliest = FIRST_DAY + timedelta(days=rng.randrange(-5, slot_days))
            window = (earliest, earliest + timedelta(days=rng.randrange(3, 40)))
            weekdays = frozenset(rng.sample(range(1, 6), rng.randrange(1, 5)))
            if kind < 0.4:
                availability = Availability(*window)
            elif kind < 0.7:
                availability = Availability(weekdays=weekdays)
            else:
                availability = Availability(*window, weekdays=weekdays)
        entries.append(DrawEntry(f"FS-{number:07d}-{rng.getrandbits(32):08X}", weight, availability))
    return entries


def timed(action: Callable[[], object], repeats: int) -> float:
    """Best wall time of ``repeats`` runs, the result dropped outside the timing."""
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        started = time.perf_counter()
        result = action()
        best = min(best, time.perf_counter() - started)
        del result
    return best


def floor(seed: bytes, beacon: str, entries: Sequence[DrawEntry]) -> list[bytes]:
    """The least any draw must do: one sha256 per entry, then one sort of what came out."""
    prefix = randomness(seed, beacon)
    sha256 = hashlib.sha256
    digests = [sha256(prefix + e.entry.encode()).digest() for e in entries]
    digests.sort()
    return digests


def run_case(entry_count: int, slot_count: int, repeats: int, seed_value: int, *, memory: bool) -> None:
    """Time one case and print its lines; with ``memory``, also measure what run_draw allocates."""
    rng = random.Random(seed_value)
    slots = make_slots(slot_count)
    slot_days = (slots[-1].starts_at.date() - slots[0].starts_at.date()).days + 1
    entries = make_entries(entry_count, slot_days, rng)
    seed, beacon = new_seed(), "bench"

    floor_time = timed(lambda: floor(seed, beacon, entries), repeats)
    draw_time = timed(lambda: run_draw(seed=seed, beacon=beacon, entries=entries, slots=slots), repeats)
    ratio = draw_time / floor_time
    results = run_draw(seed=seed, beacon=beacon, entries=entries, slots=slots)
    outcomes = Counter(r.outcome for r in results)
    unrestricted = sum(1 for e in entries if e.availability == ANY_DAY)
    del results

    verdict = "ok" if ratio <= TARGET_RATIO else "OVER TARGET"
    print(f"case: {entry_count:,} entries ({unrestricted / entry_count:.0%} any day), {slot_count:,} slots")
    print(f"  floor: sha256 per entry + sort    {floor_time:8.3f} s  (best of {repeats})")
    print(f"  run_draw: rank + assign           {draw_time:8.3f} s  (best of {repeats})")
    print(f"  ratio                             {ratio:8.2f} x  (target <= {TARGET_RATIO:.0f} x: {verdict})")
    print(
        "  outcomes                          " + ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()))
    )
    if memory:
        gc.collect()
        tracemalloc.start()
        results = run_draw(seed=seed, beacon=beacon, entries=entries, slots=slots)
        held, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        del results
        # ru_maxrss is in KiB on Linux, bytes on macOS
        scale = 1 if sys.platform == "darwin" else 1024
        max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale
        print(
            f"  run_draw peak allocation          {peak / 2**20:8.1f} MiB  (results kept: {held / 2**20:.1f} MiB)"
        )
        print(f"  process peak RSS, inputs included {max_rss / 2**20:8.1f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments and run both cases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--slots", type=int, default=10_000)
    parser.add_argument("--big-entries", type=int, default=1_000_000, help="0 skips the big case")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20250301, help="seed of the input generator")
    args = parser.parse_args(argv)

    print(f"python {sys.version.split()[0]}, {sys.platform}")
    run_case(args.entries, args.slots, args.repeats, args.seed, memory=False)
    if args.big_entries:
        run_case(args.big_entries, args.slots, 2, args.seed, memory=True)


if __name__ == "__main__":
    main()
