"""The fast draw is the specification: ``lottery_fast`` gives exactly what the plain ``lottery`` gives.

``app.domain.draws.lottery`` writes the draw as the spec reads (a sort by key, a scan for the first free slot
that fits); ``app.domain.draws.lottery_fast`` is what production runs. These properties pin one to the other on
the shared strategies, including clock changes and slots written in far-away offsets (where the slot
pool leaves its bisection for a scan), weekday limits and tied keys.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.draws import lottery, lottery_fast
from app.domain.draws.lottery import Availability, DrawEntry, DrawSlot
from tests.strategies import DrawInput, draw_inputs


@given(draw_inputs())
def test_the_fast_draw_gives_what_the_specification_gives(data: DrawInput) -> None:
    kwargs = {"seed": data.seed, "beacon": data.beacon, "entries": data.entries, "slots": data.slots}
    assert lottery_fast.run_draw(**kwargs) == lottery.run_draw(**kwargs)


@given(draw_inputs(max_entries=40, max_slots=20, mixed_offsets=True))
def test_the_fast_draw_agrees_when_local_dates_jump_about(data: DrawInput) -> None:
    kwargs = {"seed": data.seed, "beacon": data.beacon, "entries": data.entries, "slots": data.slots}
    assert lottery_fast.run_draw(**kwargs) == lottery.run_draw(**kwargs)


@given(draw_inputs())
def test_the_fast_ranking_is_the_sort_by_key(data: DrawInput) -> None:
    rnd = lottery.randomness(data.seed, data.beacon)
    assert lottery_fast.rank_entries(rnd, data.entries) == lottery.rank_entries(rnd, data.entries)


@given(draw_inputs(max_entries=30, max_slots=16), st.randoms(use_true_random=False))
def test_the_slot_pool_assigns_as_the_plain_scan_in_any_given_order(data: DrawInput, rnd) -> None:
    ranked = list(data.entries)
    rnd.shuffle(ranked)
    assert lottery_fast.assign(ranked, data.slots) == lottery.assign(ranked, data.slots)


def test_both_refuse_the_same_malformed_inputs() -> None:
    slot = DrawSlot("S", datetime(2026, 12, 7, 9, tzinfo=UTC))
    one = DrawEntry("FS-1", Decimal(1))
    seed = bytes(32)
    for module in (lottery, lottery_fast):
        with pytest.raises(ValueError):
            module.run_draw(seed=seed, beacon="", entries=[one, one], slots=[slot])
        with pytest.raises(ValueError):
            module.run_draw(seed=seed, beacon="", entries=[one], slots=[slot, slot])
        with pytest.raises(ValueError):
            module.run_draw(seed=b"short", beacon="", entries=[one], slots=[slot])


def test_a_known_draw_with_weekday_limits_comes_out_the_same() -> None:
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    slots = [DrawSlot(f"S{i}", monday + timedelta(days=i // 2, hours=i % 2)) for i in range(10)]
    entries = [
        DrawEntry(f"FS-{i:02d}", Decimal(1 + i % 3), Availability(weekdays=frozenset({1 + i % 5})))
        for i in range(25)
    ]
    kwargs = {"seed": bytes(range(32)), "beacon": "b", "entries": entries, "slots": slots}
    fast = lottery_fast.run_draw(**kwargs)
    assert fast == lottery.run_draw(**kwargs)
    assert {r.outcome for r in fast} == {lottery.OFFERED, lottery.NO_COMPATIBLE_SLOT, lottery.NOT_SELECTED}
