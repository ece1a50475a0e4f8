"""The draw's fairness in numbers: chances proportional to weight, and what aging does to waiting.

Seeds are fixed (derived from the test's name and a counter), so these tests are deterministic; the
thresholds are set so that a correct draw would fail them with probability about 1e-3 or less.
"""

from __future__ import annotations

import hashlib
import math
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from scipy.stats import chisquare

from app.domain.draws.lottery import DrawEntry, DrawSlot, randomness, rank_entries, run_draw
from app.domain.weights import WeightPolicy, compute_weight

WEIGHTS = {"FS-1": "0.5", "FS-2": "1", "FS-3": "1.5", "FS-4": "3", "FS-5": "4.5", "FS-6": "6"}
DRAWS = 20_000


def fixed_seed(label: str, number: int) -> bytes:
    return hashlib.sha256(f"{label}/{number}".encode()).digest()


@pytest.mark.slow
def test_the_chance_to_come_first_is_proportional_to_weight() -> None:
    entries = [DrawEntry(ref, Decimal(w)) for ref, w in WEIGHTS.items()]
    firsts: Counter[str] = Counter()
    seconds: Counter[str] = Counter()
    for number in range(DRAWS):
        ranked = rank_entries(randomness(fixed_seed("first", number), ""), entries)
        firsts[ranked[0].entry] += 1
        seconds[ranked[1].entry] += 1
    total = sum(float(w) for w in WEIGHTS.values())
    expected_first = [DRAWS * float(w) / total for w in WEIGHTS.values()]
    first = chisquare([firsts[ref] for ref in WEIGHTS], expected_first)
    # Second place, as sampling without replacement predicts: P(j second) = sum_i w_i/W * w_j/(W - w_i).
    weights = {ref: float(w) for ref, w in WEIGHTS.items()}
    expected_second = [
        DRAWS * sum(wi / total * wj / (total - wi) for i, wi in weights.items() if i != j)
        for j, wj in weights.items()
    ]
    second = chisquare([seconds[ref] for ref in WEIGHTS], expected_second)
    print(f"\nfirst place over {DRAWS} draws: {dict(firsts)} (p = {first.pvalue:.3f})")
    print(f"second place: {dict(seconds)} (p = {second.pvalue:.3f})")
    assert first.pvalue > 0.001
    assert second.pvalue > 0.001


@pytest.mark.slow
def test_a_heavier_entry_is_offered_a_slot_more_often_in_an_oversubscribed_draw() -> None:
    # 30 entries for 3 slots: offer rates must rise with weight (1 < 2 < 4), each near its own share.
    entries = [DrawEntry(f"FS-{n:02d}", Decimal((1, 2, 4)[n % 3])) for n in range(30)]
    slots = [DrawSlot(f"S-{n}", _slot_time(n)) for n in range(3)]
    offered: Counter[Decimal] = Counter()
    for number in range(2000):
        results = run_draw(seed=fixed_seed("offer", number), beacon="", entries=entries, slots=slots)
        weights = {e.entry: e.weight for e in entries}
        offered.update(weights[r.entry] for r in results if r.outcome == "offered")
    rates = [offered[Decimal(w)] / (2000 * 10) for w in (1, 2, 4)]
    print(f"\noffer rate by weight 1, 2, 4: {[round(r, 4) for r in rates]}")
    assert rates[0] < rates[1] < rates[2]
    assert sum(rates) * 10 == pytest.approx(3)  # every slot offered in every draw


def _slot_time(number: int) -> datetime:
    return datetime(2025, 3, 3, 9, tzinfo=UTC) + timedelta(minutes=30 * number)


PENDING = 1000
SLOTS_PER_DRAW = 100
SIMULATED_DRAWS = 300


def simulate_waits(policy: WeightPolicy, label: str) -> tuple[list[int], list[int]]:
    """Repeated draws, winners replaced by newcomers: the waits (in draws) of winners and of those left."""
    on = date(2025, 3, 3)
    weight_after = {
        lost: compute_weight(policy=policy, on=on, permit_expires_on=None, draws_lost=lost).total
        for lost in range(SIMULATED_DRAWS + 1)
    }
    slots = [DrawSlot(f"S-{n:03d}", _slot_time(n)) for n in range(SLOTS_PER_DRAW)]
    lost: dict[str, int] = {f"A{n:06d}": 0 for n in range(PENDING)}
    arrivals = PENDING
    waits: list[int] = []
    for number in range(SIMULATED_DRAWS):
        entries = [DrawEntry(ref, weight_after[count]) for ref, count in lost.items()]
        results = run_draw(seed=fixed_seed(label, number), beacon="", entries=entries, slots=slots)
        for result in results:
            if result.outcome == "offered":
                waits.append(lost.pop(result.entry) + 1)  # the draw won counts as waited
                lost[f"A{arrivals:06d}"] = 0
                arrivals += 1
            else:
                lost[result.entry] += 1
    return waits, list(lost.values())


def describe(waits: list[int]) -> str:
    cuts = statistics.quantiles(waits, n=100)
    return (
        f"mean {statistics.fmean(waits):5.2f}  median {statistics.median(waits):4.0f}  "
        f"p90 {cuts[89]:4.0f}  p99 {cuts[98]:4.0f}  max {max(waits):4d}"
    )


@pytest.mark.slow
def test_aging_bounds_how_long_the_unluckiest_applicant_waits() -> None:
    aging, aging_left = simulate_waits(WeightPolicy(), "aging")
    flat, flat_left = simulate_waits(WeightPolicy(waiting_step=Decimal(0)), "flat")
    print(f"\n{PENDING} pending, {SLOTS_PER_DRAW} slots a draw, {SIMULATED_DRAWS} draws")
    print(f"with aging:    {describe(aging)}  (still waiting at the end: max {max(aging_left)})")
    print(f"without aging: {describe(flat)}  (still waiting at the end: max {max(flat_left)})")

    # Little's law: 1000 pending and 100 leaving per draw means 10 draws' wait on average, with or
    # without aging (the first cohort and the censored tail shift it a little).
    assert 8.5 < statistics.fmean(aging) < 11
    assert 8.5 < statistics.fmean(flat) < 11
    # The bound. After 8 lost draws an applicant has the cap, 3, the highest weight anyone can have;
    # in successive weighted sampling the chance of being among the k drawn grows with weight, so the
    # heaviest entry's chance is at least the average, k/n = 100/1000. Hence, whatever the others hold,
    # P(still waiting after 8 + j draws) <= 0.9 ** j. With about 31,000 applicants over the simulation,
    # a union bound gives P(anyone waits over 8 + j draws) <= 31_000 * 0.9 ** j, which is below 1e-3
    # for j = 164.
    applicants = len(aging) + len(aging_left)
    j = math.ceil(math.log(applicants / 1e-3) / -math.log(1 - SLOTS_PER_DRAW / PENDING))
    assert max(aging + aging_left) <= 8 + j
    # That bound holds even if everyone were capped, and at tenfold oversubscription many are: about
    # 0.9 ** 8 ~ 40% of the queue has lost 8 draws, so a capped applicant's chance per draw is only
    # ~0.13 rather than 0.1 and aging trims the tail rather than cutting it. The same lottery without
    # aging (a fresh 1 in 10 every draw) must still show the longer tail, at p90, p99 and the maximum.
    aging_cuts, flat_cuts = statistics.quantiles(aging, n=100), statistics.quantiles(flat, n=100)
    assert aging_cuts[89] < flat_cuts[89]
    assert aging_cuts[98] < flat_cuts[98]
    assert max(aging + aging_left) < max(flat + flat_left)
