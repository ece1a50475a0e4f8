"""Figures of the evidence features: the chance estimate per release, and the market simulation.

    python bench/bench_evidence.py [--sizes 10000,100000,1000000] [--seed S]

Prints, for pools of each size, the time to estimate a release's chances (the numpy race, as the
scheduler runs it), and the time of ``fairslot simulate``'s default scenario and of its demand sweep.
No assertion: the figures are printed, as in the other benchmarks.
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from app.domain.draws.lottery import DrawEntry, DrawSlot
from app.services.evidence.chances import _race
from app.simulation import run, scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    start = datetime(2027, 1, 4, 9, tzinfo=UTC)
    slots = [DrawSlot(str(i), start + timedelta(minutes=15 * i)) for i in range(200)]
    for size in (int(s) for s in args.sizes.split(",")):
        entries = [
            DrawEntry(f"FS-{i:010d}", Decimal(rng.choice(("1", "1.25", "2", "3", "4")))) for i in range(size)
        ]
        began = time.perf_counter()
        _race(entries, slots, random.SystemRandom())
        print(f"chance estimate, {size:>9,} entries, 200 slots: {time.perf_counter() - began:6.2f} s")
    default = scenario.load()
    began = time.perf_counter()
    run.simulate(default, args.seed)
    print(f"simulate, default scenario:                {time.perf_counter() - began:6.2f} s")
    began = time.perf_counter()
    run.sweep(default, args.seed)
    print(
        f"simulate, demand sweep ({len(default.sweep)} points):          {time.perf_counter() - began:6.2f} s"
    )


if __name__ == "__main__":
    main()
