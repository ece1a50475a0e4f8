"""The draw ``fairslot-draw-v1``: properties over generated draws, and worked examples that pin the spec."""

from __future__ import annotations

import hashlib
import math
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.draws.lottery import (
    NO_COMPATIBLE_SLOT,
    NOT_SELECTED,
    OFFERED,
    SPEC,
    Availability,
    DrawEntry,
    DrawSlot,
    EntryResult,
    assign,
    commitment,
    entry_key,
    new_seed,
    randomness,
    rank_entries,
    run_draw,
)
from tests.strategies import DrawInput, draw_inputs, seeds

PARIS = ZoneInfo("Europe/Paris")


def draw(data: DrawInput) -> list[EntryResult]:
    return run_draw(seed=data.seed, beacon=data.beacon, entries=data.entries, slots=data.slots)


def slots_by_id(data: DrawInput) -> dict[str, DrawSlot]:
    return {s.slot: s for s in data.slots}


def in_time_order(slots: list[DrawSlot]) -> list[DrawSlot]:
    return sorted(slots, key=lambda s: (s.starts_at.timestamp(), s.slot))


# Properties ----------------------------------------------------------------------------------------


@given(draw_inputs())
def test_the_same_inputs_give_the_same_results(data: DrawInput) -> None:
    copied = DrawInput(bytes(data.seed), str(data.beacon), list(data.entries), list(data.slots))
    assert draw(data) == draw(copied)


@given(draw_inputs(), st.randoms(use_true_random=False))
def test_the_order_in_which_requests_arrived_changes_nothing(data: DrawInput, rnd: random.Random) -> None:
    entries, slots = list(data.entries), list(data.slots)
    rnd.shuffle(entries)
    rnd.shuffle(slots)
    assert draw(DrawInput(data.seed, data.beacon, entries, slots)) == draw(data)


@given(draw_inputs())
def test_every_entry_gets_exactly_one_result_listed_in_rank_order(data: DrawInput) -> None:
    results = draw(data)
    assert sorted(r.entry for r in results) == sorted(e.entry for e in data.entries)
    assert [r.rank for r in results] == list(range(1, len(data.entries) + 1))


@given(draw_inputs(max_entries=30))
def test_no_slot_is_offered_twice_and_only_released_slots_are_offered(data: DrawInput) -> None:
    offered = [r.slot for r in draw(data) if r.outcome == OFFERED]
    assert len(offered) == len(set(offered))
    assert set(offered) <= set(slots_by_id(data))
    assert len(offered) <= len(data.slots)


@given(draw_inputs())
def test_only_offers_carry_a_slot(data: DrawInput) -> None:
    for result in draw(data):
        assert (result.slot is not None) == (result.outcome == OFFERED)
        assert result.outcome in {OFFERED, NOT_SELECTED, NO_COMPATIBLE_SLOT}


@given(draw_inputs(max_entries=30, max_slots=16))
def test_every_offer_falls_on_a_local_date_and_weekday_the_applicant_can_come(
    data: DrawInput,
) -> None:
    entries = {e.entry: e for e in data.entries}
    slots = slots_by_id(data)
    for result in draw(data):
        if result.outcome == OFFERED:
            assert result.slot is not None
            local_day = slots[result.slot].starts_at.date()
            availability = entries[result.entry].availability
            assert availability.earliest is None or availability.earliest <= local_day
            assert availability.latest is None or local_day <= availability.latest
            assert availability.weekdays is None or local_day.isoweekday() in availability.weekdays


@given(draw_inputs(max_entries=30, max_slots=16))
def test_nobody_is_turned_away_while_a_free_slot_fits_them(data: DrawInput) -> None:
    # Replays the draw in rank order: "not selected" only once every slot is gone, "no compatible slot"
    # only when slots remain and none of them fits, and an offer is the earliest free slot that fits.
    entries = {e.entry: e for e in data.entries}
    free = in_time_order(data.slots)
    for result in draw(data):
        fitting = [s for s in free if entries[result.entry].availability.allows(s.starts_at.date())]
        if result.outcome == NOT_SELECTED:
            assert free == []
        elif result.outcome == NO_COMPATIBLE_SLOT:
            assert free != []
            assert fitting == []
        else:
            assert fitting[0].slot == result.slot
            free.remove(fitting[0])


@given(draw_inputs(max_entries=25, max_slots=12, restricted=False))
def test_when_everyone_can_come_any_day_every_slot_or_every_entry_is_used(
    data: DrawInput,
) -> None:
    outcomes = Counter(r.outcome for r in draw(data))
    assert outcomes[OFFERED] == min(len(data.entries), len(data.slots))
    assert outcomes[NO_COMPATIBLE_SLOT] == 0
    assert outcomes[NOT_SELECTED] == max(0, len(data.entries) - len(data.slots))


@given(draw_inputs(max_entries=25, restricted=False))
def test_slots_go_in_time_order_to_entries_in_rank_order_when_everyone_can_come_any_day(
    data: DrawInput,
) -> None:
    offered = [r.slot for r in draw(data) if r.outcome == OFFERED]
    assert offered == [s.slot for s in in_time_order(data.slots)][: len(offered)]


@given(draw_inputs(max_slots=0))
def test_without_slots_every_entry_is_not_selected(data: DrawInput) -> None:
    assert {r.outcome for r in draw(data)} <= {NOT_SELECTED}


@given(draw_inputs())
def test_ranks_follow_the_spec_key_of_each_entry(data: DrawInput) -> None:
    rnd = randomness(data.seed, data.beacon)
    expected = sorted(data.entries, key=lambda e: (entry_key(rnd, e.entry, e.weight), e.entry))
    assert rank_entries(rnd, data.entries) == expected
    assert [r.entry for r in draw(data)] == [e.entry for e in expected]


@given(draw_inputs())
def test_assigning_the_ranked_entries_is_the_draw(data: DrawInput) -> None:
    ranked = rank_entries(randomness(data.seed, data.beacon), data.entries)
    assert assign(ranked, data.slots) == draw(data)


@given(draw_inputs(max_entries=15), st.data())
def test_a_heavier_weight_never_moves_an_entry_down(data: DrawInput, extra: st.DataObject) -> None:
    if not data.entries:
        return
    chosen = extra.draw(st.integers(0, len(data.entries) - 1))
    heavier = list(data.entries)
    old = heavier[chosen]
    heavier[chosen] = DrawEntry(old.entry, old.weight * 2, old.availability)

    def rank_of(entries: list[DrawEntry]) -> int:
        results = draw(DrawInput(data.seed, data.beacon, entries, data.slots))
        return next(r.rank for r in results if r.entry == old.entry)

    assert rank_of(heavier) <= rank_of(data.entries)


@given(draw_inputs())
def test_an_entry_is_never_affected_by_those_ranked_below_it(data: DrawInput) -> None:
    results = draw(data)
    if not results:
        return
    last = results[-1].entry
    without_last = [e for e in data.entries if e.entry != last]
    assert draw(DrawInput(data.seed, data.beacon, without_last, data.slots)) == results[:-1]


@given(seeds, st.text(max_size=10), st.text(max_size=10))
def test_the_beacon_changes_the_randomness_and_the_seed_alone_fixes_the_commitment(
    seed: bytes, beacon: str, other: str
) -> None:
    assert (randomness(seed, beacon) == randomness(seed, other)) == (beacon == other)
    assert commitment(seed) == hashlib.sha256(seed).hexdigest()


# Larger draws, where the skip pointers and both slot-search paths get real work --------------------


@pytest.mark.parametrize("mixed_offsets", [False, True])
@pytest.mark.parametrize("generator_seed", range(4))
def test_larger_draws_give_each_entry_the_first_free_slot_that_fits(
    generator_seed: int, mixed_offsets: bool
) -> None:
    rng = random.Random(generator_seed)
    first = date(2025, 10, 20)
    slots = []
    for number in range(400):
        day = first + timedelta(days=rng.randrange(21))
        starts_at = datetime(day.year, day.month, day.day, rng.choice((8, 9, 10, 14)), tzinfo=PARIS)
        if mixed_offsets and rng.random() < 0.3:
            starts_at = starts_at.astimezone(ZoneInfo("Pacific/Kiritimati"))
        slots.append(DrawSlot(f"S{number:04d}", starts_at))
    entries = []
    for number in range(1500):
        earliest = first + timedelta(days=rng.randrange(-3, 21))
        availability = rng.choice(
            (
                Availability(),
                Availability(earliest, earliest + timedelta(days=rng.randrange(7))),
                Availability(weekdays=frozenset(rng.sample(range(1, 8), rng.randrange(1, 3)))),
                Availability(earliest=earliest, weekdays=frozenset({rng.randrange(1, 8)})),
            )
        )
        entries.append(DrawEntry(f"FS-{number:05d}", Decimal(rng.choice((1, 2, 4))), availability))
    data = DrawInput(new_seed(), "", entries, slots)
    results = draw(data)

    free = in_time_order(slots)
    by_ref = {e.entry: e for e in entries}
    for result in results:
        fitting = [s for s in free if by_ref[result.entry].availability.allows(s.starts_at.date())]
        expected_slot = fitting[0].slot if fitting else None
        if not free:
            assert (result.outcome, result.slot) == (NOT_SELECTED, None)
        else:
            expected = OFFERED if fitting else NO_COMPATIBLE_SLOT
            assert (result.outcome, result.slot) == (expected, expected_slot)
        if fitting:
            free.remove(fitting[0])
    outcomes = Counter(r.outcome for r in results)
    assert outcomes[OFFERED] > 0
    assert outcomes[NO_COMPATIBLE_SLOT] > 0
    assert outcomes[NOT_SELECTED] > 0


# Worked examples ----------------------------------------------------------------------------------

EXAMPLE_SEED = bytes(range(32))
EXAMPLE_BEACON = "drand-round-4242"
EXAMPLE_ENTRIES = [
    DrawEntry("FS-A", Decimal("1.0000"), Availability()),
    DrawEntry("FS-B", Decimal("4.0000"), Availability()),
    DrawEntry("FS-C", Decimal("1.5000"), Availability(weekdays=frozenset({2}))),
    DrawEntry("FS-D", Decimal("2.0000"), Availability(latest=date(2025, 3, 2))),
    DrawEntry("FS-E", Decimal("0.5000"), Availability()),
]
EXAMPLE_SLOTS = [
    DrawSlot("S-2", datetime(2025, 3, 3, 9, 0, tzinfo=PARIS)),  # Monday
    DrawSlot("S-1", datetime(2025, 3, 3, 9, 0, tzinfo=PARIS)),  # Monday, same time: id breaks the tie
    DrawSlot("S-3", datetime(2025, 3, 4, 9, 0, tzinfo=PARIS)),  # Tuesday
]


def test_the_worked_example_pins_commitment_randomness_and_keys() -> None:
    assert commitment(EXAMPLE_SEED) == ("630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd")
    rnd = randomness(EXAMPLE_SEED, EXAMPLE_BEACON)
    assert rnd.hex() == "948bffd80886e99d00652a65d2d421e3a2acbf36b90ef2ac4c5d1d662aa55a46"
    # The key written out from the spec text, independently of the module.
    for entry in EXAMPLE_ENTRIES:
        digest = hashlib.sha256(rnd + entry.entry.encode("utf-8")).digest()
        u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
        assert entry_key(rnd, entry.entry, entry.weight) == -math.log(u) / float(entry.weight)
    # First 8 digest bytes of FS-B are a8114108eb31b8a4: u = 0.65651..., key = -ln(u) / 4 = 0.10520...
    assert entry_key(rnd, "FS-B", Decimal(4)) == pytest.approx(0.10520309084207756, rel=1e-15)
    assert [e.entry for e in rank_entries(rnd, EXAMPLE_ENTRIES)] == [
        "FS-B",  # key 0.1052
        "FS-D",  # key 0.2830
        "FS-C",  # key 0.4031
        "FS-A",  # key 0.9717
        "FS-E",  # key 2.7168
    ]


def test_the_worked_example_assigns_slots_by_rank_and_availability() -> None:
    results = run_draw(seed=EXAMPLE_SEED, beacon=EXAMPLE_BEACON, entries=EXAMPLE_ENTRIES, slots=EXAMPLE_SLOTS)
    assert results == [
        # any day: the first slot in (starts_at, slot) order, S-1 before S-2 at the same time
        EntryResult("FS-B", 1, OFFERED, "S-1"),
        # can only come by 2 March: slots remain but none fits
        EntryResult("FS-D", 2, NO_COMPATIBLE_SLOT, None),
        # Tuesdays only: skips the free Monday slot S-2
        EntryResult("FS-C", 3, OFFERED, "S-3"),
        EntryResult("FS-A", 4, OFFERED, "S-2"),
        # every slot is gone
        EntryResult("FS-E", 5, NOT_SELECTED, None),
    ]


def test_equal_keys_are_ordered_by_entry_reference() -> None:
    # A weight equal to -ln(u) makes the key exactly 1.0 (x / x), so the three entries tie on the key.
    rnd = randomness(EXAMPLE_SEED, "")
    entries = [
        DrawEntry(ref, Decimal(entry_key(rnd, ref, 1)), Availability()) for ref in ("FS-Z", "FS-M", "FS-A")
    ]
    assert {entry_key(rnd, e.entry, e.weight) for e in entries} == {1.0}
    assert [e.entry for e in rank_entries(rnd, entries)] == ["FS-A", "FS-M", "FS-Z"]
    results = run_draw(seed=EXAMPLE_SEED, beacon="", entries=entries, slots=EXAMPLE_SLOTS[:1])
    assert [(r.entry, r.outcome) for r in results] == [
        ("FS-A", OFFERED),
        ("FS-M", NOT_SELECTED),
        ("FS-Z", NOT_SELECTED),
    ]


def test_slots_in_the_repeated_hour_are_taken_in_real_time_order() -> None:
    # 27 Oct 2024 in Paris, clocks go back at 03:00: 02:45 summer time comes before 02:15 winter time,
    # although a wall clock reads it later.
    summer = DrawSlot("S-summer", datetime(2024, 10, 27, 2, 45, tzinfo=PARIS, fold=0))
    winter = DrawSlot("S-winter", datetime(2024, 10, 27, 2, 15, tzinfo=PARIS, fold=1))
    assert summer.starts_at.astimezone(UTC) < winter.starts_at.astimezone(UTC)
    results = run_draw(
        seed=EXAMPLE_SEED,
        beacon="",
        entries=[DrawEntry("FS-1", Decimal(1)), DrawEntry("FS-2", Decimal(1))],
        slots=[winter, summer],
    )
    assert [r.slot for r in results] == ["S-summer", "S-winter"]


def test_availability_allows_the_inclusive_window_on_allowed_weekdays() -> None:
    window = Availability(date(2025, 3, 3), date(2025, 3, 9), frozenset({1, 7}))
    assert window.allows(date(2025, 3, 3))  # Monday, first day
    assert window.allows(date(2025, 3, 9))  # Sunday, last day
    assert not window.allows(date(2025, 3, 4))  # Tuesday
    assert not window.allows(date(2025, 3, 10))  # Monday, after the window
    assert window.as_dict() == {"earliest": "2025-03-03", "latest": "2025-03-09", "weekdays": [1, 7]}
    assert Availability.from_dict(window.as_dict()) == window
    assert Availability.from_dict({"earliest": None, "latest": None, "weekdays": None}) == (Availability())


@pytest.mark.parametrize(
    "fields",
    [
        {"weekdays": []},
        {"weekdays": [0]},
        {"weekdays": [8]},
        {"weekdays": [True]},
        {"weekdays": [1, 1]},
        {"weekdays": "1"},
        {"earliest": "20250303"},
        {"earliest": "2025-02-30"},
        {"latest": 20250303},
        {"colour": "blue"},
    ],
)
def test_a_malformed_availability_is_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        Availability.from_dict(fields)


def test_inputs_a_draw_cannot_use_are_refused() -> None:
    slot = DrawSlot("S-1", datetime(2025, 3, 3, 9, tzinfo=PARIS))
    one = DrawEntry("FS-1", Decimal(1))
    with pytest.raises(ValueError, match="unique"):
        run_draw(seed=EXAMPLE_SEED, beacon="", entries=[one, one], slots=[slot])
    with pytest.raises(ValueError, match="unique"):
        run_draw(seed=EXAMPLE_SEED, beacon="", entries=[one], slots=[slot, slot])
    with pytest.raises(ValueError, match="32 bytes"):
        run_draw(seed=b"short", beacon="", entries=[one], slots=[slot])
    for weight in ("0", "-1", "Infinity", "NaN"):
        with pytest.raises(ValueError, match="weight"):
            run_draw(
                seed=EXAMPLE_SEED,
                beacon="",
                entries=[DrawEntry("FS-1", Decimal(weight))],
                slots=[slot],
            )
    with pytest.raises(ValueError, match="offset"):
        DrawSlot("S-naive", datetime(2025, 3, 3, 9))


def test_a_fresh_seed_is_32_random_bytes() -> None:
    assert len(new_seed()) == 32
    assert new_seed() != new_seed()
    assert SPEC == "fairslot-draw-v1"
