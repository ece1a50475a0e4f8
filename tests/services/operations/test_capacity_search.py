"""The capacity advice's arithmetic: the wait it measures, the search for the smallest capacity, and the
simulated queue it runs on (the project's own market engine)."""

from __future__ import annotations

import math

import pytest

from app.services.operations.capacity import smallest_capacity, wait_p90
from app.simulation.office_queue import QueueRun, run_office_queue


def test_the_wait_counts_those_seen_in_the_last_two_weeks_and_those_still_waiting() -> None:
    run = QueueRun(
        # seen early (not counted), seen in week 11 (wait 20), still waiting (84 - 4 = 80), arrived too late
        arrivals=(0, 50, 4, 90),
        seen=(10, 70, None, None),
        end_day=88,
    )
    assert wait_p90([run], weeks=12) == 80.0
    assert wait_p90([QueueRun((0,), (10,), 88)], weeks=12) == 0.0


@pytest.mark.parametrize("threshold", [1, 2, 7, 33, 64, 100, 999])
@pytest.mark.parametrize("guess", [1, 10, 50, 2000])
def test_the_search_finds_the_threshold_of_a_wait_that_falls_with_capacity(
    threshold: int, guess: int
) -> None:
    asked: list[int] = []

    def p90(capacity: int) -> float:
        asked.append(capacity)
        return 10.0 if capacity >= threshold else 100.0

    found = smallest_capacity(p90, 30, guess, ceiling=1000)

    if threshold > 1000:
        assert found is None
    else:
        assert found is not None
        assert threshold <= found <= max(threshold + 1, math.ceil(threshold * 1.05))
    assert all(1 <= c <= 1000 for c in asked)


def test_the_search_says_none_when_even_the_ceiling_misses_the_target() -> None:
    assert smallest_capacity(lambda c: 40.0, 30, 5, ceiling=64) is None


def test_more_capacity_shortens_the_simulated_wait() -> None:
    def p90(capacity: int) -> float:
        runs = [
            run_office_queue(
                backlog=30,
                inflow_per_week=5,
                slots_per_week=capacity,
                weeks=12,
                urgent_share=0.2,
                policy={"entry_verification": "none"},
                seed=seed,
            )
            for seed in (1, 2, 3)
        ]
        return wait_p90(runs)

    starved, served = p90(2), p90(20)

    assert starved > 60
    assert served < 21
