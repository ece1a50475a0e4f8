"""The published draw record: built, read back, recomputed, and tampering caught."""

from __future__ import annotations

import copy
import hashlib
import json
import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.draws.draw_record import build_record, verdict_line, verify_record
from app.domain.draws.lottery import (
    NO_COMPATIBLE_SLOT,
    NOT_SELECTED,
    OFFERED,
    Availability,
    DrawEntry,
    DrawSlot,
    EntryResult,
    run_draw,
)
from tests.strategies import DrawInput, draw_inputs

PARIS = ZoneInfo("Europe/Paris")
DRAW_AT = datetime(2025, 2, 28, 12, 0, tzinfo=UTC)


def reference_draw(
    seed: bytes, beacon: str, entries: list[DrawEntry], slots: list[DrawSlot]
) -> list[EntryResult]:
    """The spec read literally, with no care for speed: rank by key, then scan every slot per entry."""
    rnd = hashlib.sha256(seed + beacon.encode("utf-8")).digest()

    def key(entry: DrawEntry) -> tuple[float, str]:
        digest = hashlib.sha256(rnd + entry.entry.encode()).digest()
        u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
        return -math.log(u) / float(entry.weight), entry.entry

    def fits(availability: Availability, slot: DrawSlot) -> bool:
        day = slot.starts_at.date()  # the office's local date, as the offset is the office's
        if availability.earliest is not None and day < availability.earliest:
            return False
        if availability.latest is not None and day > availability.latest:
            return False
        return availability.weekdays is None or day.isoweekday() in availability.weekdays

    in_time_order = sorted(slots, key=lambda s: (s.starts_at.timestamp(), s.slot))
    taken: set[str] = set()
    results = []
    for rank, entry in enumerate(sorted(entries, key=key), start=1):
        free = [s for s in in_time_order if s.slot not in taken]
        fitting = [s for s in free if fits(entry.availability, s)]
        if not free:
            results.append(EntryResult(entry.entry, rank, NOT_SELECTED, None))
        elif not fitting:
            results.append(EntryResult(entry.entry, rank, NO_COMPATIBLE_SLOT, None))
        else:
            taken.add(fitting[0].slot)
            results.append(EntryResult(entry.entry, rank, OFFERED, fitting[0].slot))
    return results


def record_of(data: DrawInput, release_id: int | str = 7) -> dict[str, Any]:
    results = run_draw(seed=data.seed, beacon=data.beacon, entries=data.entries, slots=data.slots)
    record = build_record(
        release_id=release_id,
        office="PAR-1",
        service="residence-renewal",
        draw_at=DRAW_AT,
        drawn_at=DRAW_AT + timedelta(seconds=42),
        seed=data.seed,
        beacon=data.beacon,
        slots=data.slots,
        entries=data.entries,
        results=results,
    )
    return json.loads(json.dumps(record))  # exactly what a reader downloads


def example_draw() -> DrawInput:
    """40 applicants for 10 slots over a week, some with windows or weekdays."""
    slots = [
        DrawSlot(f"S-{n:02d}", datetime(2025, 3, 3 + n // 2, 9 + n % 2, 0, tzinfo=PARIS)) for n in range(10)
    ]
    entries = []
    for n in range(40):
        if n % 5 == 1:
            availability = Availability(weekdays=frozenset({n % 7 + 1}))
        elif n % 5 == 2:
            availability = Availability(date(2025, 3, 5), date(2025, 3, 6))
        elif n % 10 == 3:
            availability = Availability(latest=date(2025, 3, 1))  # before every slot
        else:
            availability = Availability()
        weight = Decimal(("1.0000", "1.2500", "2.0000", "4.5000")[n % 4])
        entries.append(DrawEntry(f"FS-{n:03d}", weight, availability))
    return DrawInput(bytes.fromhex("5e" * 32), "round-99", entries, slots)


@pytest.fixture
def record() -> dict[str, Any]:
    return record_of(example_draw())


def rows(record: dict[str, Any], outcome: str) -> list[dict[str, Any]]:
    return [e for e in record["entries"] if e["outcome"] == outcome]


# The record as built --------------------------------------------------------------------------------


def test_a_record_has_exactly_the_fields_of_the_spec(record: dict[str, Any]) -> None:
    assert list(record) == [
        "spec",
        "release_id",
        "office",
        "service",
        "draw_at",
        "drawn_at",
        "seed",
        "seed_commitment",
        "beacon",
        "slots",
        "entries",
    ]
    assert record["spec"] == "fairslot-draw-v1"
    assert record["seed"] == "5e" * 32
    assert record["seed_commitment"] == hashlib.sha256(bytes.fromhex("5e" * 32)).hexdigest()
    assert record["draw_at"] == "2025-02-28T12:00:00+00:00"
    assert record["slots"][0] == {"slot": "S-00", "starts_at": "2025-03-03T09:00:00+01:00"}
    first = record["entries"][0]
    assert list(first) == ["entry", "weight", "availability", "rank", "outcome", "slot"]
    assert [e["rank"] for e in record["entries"]] == list(range(1, 41))
    assert {e["weight"] for e in record["entries"]} == {"1.0000", "1.2500", "2.0000", "4.5000"}
    assert {"earliest": "2025-03-05", "latest": "2025-03-06", "weekdays": None} in [
        e["availability"] for e in record["entries"]
    ]
    assert all((e["slot"] is not None) == (e["outcome"] == OFFERED) for e in record["entries"])


def test_a_weight_with_more_than_four_decimals_cannot_be_recorded() -> None:
    data = example_draw()
    entries = [DrawEntry("FS-x", Decimal("1.00005"))]
    results = run_draw(seed=data.seed, beacon="", entries=entries, slots=data.slots)
    with pytest.raises(ValueError, match="4 decimals"):
        build_record(
            release_id=1,
            office="PAR-1",
            service="s",
            draw_at=DRAW_AT,
            drawn_at=DRAW_AT,
            seed=data.seed,
            beacon="",
            slots=data.slots,
            entries=entries,
            results=results,
        )


def test_a_fresh_record_verifies(record: dict[str, Any]) -> None:
    assert verify_record(record) == []
    offered = len(rows(record, OFFERED))
    assert offered == 10
    assert verdict_line(record, []) == (
        f"OK fairslot-draw-v1 release 7: 40 entries, {offered} offered, seed matches commitment"
    )


@given(draw_inputs(max_entries=15, max_slots=8))
def test_every_record_built_from_a_draw_verifies(data: DrawInput) -> None:
    # Office-local times around clock changes go out as fixed offsets and must come back to the same
    # order, dates and weekdays.
    assert verify_record(record_of(data)) == []


@given(draw_inputs(max_entries=25, max_slots=12))
def test_the_draw_agrees_with_a_literal_reading_of_the_spec(data: DrawInput) -> None:
    assert run_draw(
        seed=data.seed, beacon=data.beacon, entries=data.entries, slots=data.slots
    ) == reference_draw(data.seed, data.beacon, data.entries, data.slots)


@given(draw_inputs(max_entries=60, max_slots=25, mixed_offsets=True))
def test_the_draw_agrees_with_the_spec_when_slots_come_in_mixed_offsets(data: DrawInput) -> None:
    assert run_draw(
        seed=data.seed, beacon=data.beacon, entries=data.entries, slots=data.slots
    ) == reference_draw(data.seed, data.beacon, data.entries, data.slots)


# Tampering ------------------------------------------------------------------------------------------


def test_a_raised_weight_that_changes_the_ranking_is_caught(record: dict[str, Any]) -> None:
    loser = rows(record, NOT_SELECTED)[-1]
    loser["weight"] = "900.0000"  # would almost surely have come first
    differences = verify_record(record)
    assert f"entry {loser['entry']}: rank {loser['rank']} recorded, 1 recomputed" in differences
    assert verdict_line(record, differences).startswith("FAILED fairslot-draw-v1 release 7: ")


def test_swapped_ranks_are_caught(record: dict[str, Any]) -> None:
    first, second = record["entries"][0], record["entries"][1]
    first["rank"], second["rank"] = 2, 1
    assert set(verify_record(record)) >= {
        f"entry {first['entry']}: rank 2 recorded, 1 recomputed",
        f"entry {second['entry']}: rank 1 recorded, 2 recomputed",
    }


def test_a_seed_that_does_not_match_its_commitment_is_caught(record: dict[str, Any]) -> None:
    record["seed"] = "00" * 32
    differences = verify_record(record)
    assert differences[0].startswith("seed does not match seed_commitment: sha256(seed) is ")
    # and with another seed the recorded ranks no longer follow either
    assert any(": rank " in d for d in differences)


def test_a_commitment_swapped_along_with_the_seed_is_still_caught_by_the_results(
    record: dict[str, Any],
) -> None:
    other_seed = bytes(32)
    record["seed"] = other_seed.hex()
    record["seed_commitment"] = hashlib.sha256(other_seed).hexdigest()
    assert any(": rank " in d for d in verify_record(record))


def test_an_offered_entry_removed_is_caught_whether_or_not_ranks_are_renumbered(
    record: dict[str, Any],
) -> None:
    winner = rows(record, OFFERED)[0]
    record["entries"].remove(winner)
    differences = verify_record(record)
    assert f"ranks are not 1..39: missing {winner['rank']}" in differences
    for row in record["entries"]:
        if row["rank"] > winner["rank"]:
            row["rank"] -= 1
    differences = verify_record(record)
    # the freed slot now goes to someone else, who the record says did not get it
    assert any(": outcome " in d or ": slot " in d for d in differences)


def test_an_entry_added_after_the_draw_is_caught(record: dict[str, Any]) -> None:
    record["entries"].append(
        {
            "entry": "FS-LATE",
            "weight": "18.0000",
            "availability": {"earliest": None, "latest": None, "weekdays": None},
            "rank": 41,
            "outcome": NOT_SELECTED,
            "slot": None,
        }
    )
    differences = verify_record(record)
    assert any(d.startswith("entry FS-LATE: rank 41 recorded, ") for d in differences)


def test_an_outcome_changed_is_caught(record: dict[str, Any]) -> None:
    loser = rows(record, NOT_SELECTED)[0]
    loser["outcome"], loser["slot"] = OFFERED, record["slots"][0]["slot"]
    assert (
        f"entry {loser['entry']}: outcome offered ({loser['slot']}) recorded, not_selected recomputed"
    ) in verify_record(record)


def test_a_slot_handed_to_another_winner_is_caught(record: dict[str, Any]) -> None:
    first, second = rows(record, OFFERED)[:2]
    first["slot"], second["slot"] = second["slot"], first["slot"]
    assert set(verify_record(record)) == {
        f"entry {first['entry']}: slot {first['slot']} recorded, {second['slot']} recomputed",
        f"entry {second['entry']}: slot {second['slot']} recorded, {first['slot']} recomputed",
    }


def test_a_slot_moved_to_another_day_is_caught(record: dict[str, Any]) -> None:
    # Moving a slot changes which entries it fits, so the recorded assignment no longer follows.
    moved = record["slots"][0]
    moved["starts_at"] = "2025-03-20T09:00:00+01:00"
    assert verify_record(record) != []


def test_duplicate_entries_and_slots_are_caught(record: dict[str, Any]) -> None:
    record["entries"].append(copy.deepcopy(record["entries"][0]))
    record["slots"].append(copy.deepcopy(record["slots"][0]))
    differences = verify_record(record)
    assert f"entry {record['entries'][0]['entry']} listed 2 times" in differences
    assert f"slot {record['slots'][0]['slot']} listed 2 times" in differences


def test_another_spec_is_reported_not_recomputed(record: dict[str, Any]) -> None:
    record["spec"] = "fairslot-draw-v9"
    assert verify_record(record) == ["spec 'fairslot-draw-v9' recorded, 'fairslot-draw-v1' expected"]
    assert verdict_line(record, verify_record(record)) == ("FAILED fairslot-draw-v9 release 7: 1 difference")


# Malformed records ---------------------------------------------------------------------------------


def mutate(record: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(record)
    target = changed
    for step in path[:-1]:
        target = target[step]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return changed


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (("seed",), KeyError, "missing field 'seed'"),
        (("entries",), KeyError, "missing field 'entries'"),
        (("seed",), "5E" * 32, "seed '5E5E5E"),
        (("seed_commitment",), "zz", "seed_commitment 'zz' is not 64 lowercase hex characters"),
        (("beacon",), None, "beacon null is not a string"),
        (("release_id",), True, "release_id True is neither an integer nor a string"),
        (("draw_at",), "2025-02-28T12:00:00", "draw_at '2025-02-28T12:00:00' is not an RFC 3339"),
        (("slots",), {}, "slots {} is not a list"),
        (("slots", 0, "starts_at"), "2025-03-03 09:00", "slot S-00: starts_at '2025-03-03 09:00'"),
        (("slots", 0, "slot"), 5, "slots[0]: slot id 5 is not a string"),
        (("entries", 0), "FS-1", "entries[0] 'FS-1' is not {entry, weight,"),
        (("entries", 0, "weight"), "abc", "weight 'abc' is not a positive decimal string"),
        (("entries", 0, "weight"), "0.0000", "weight '0.0000' is not a positive decimal string"),
        (("entries", 0, "weight"), 4.5, "weight 4.5 is not a positive decimal string"),
        (("entries", 0, "rank"), "1", "rank '1' is not a positive integer"),
        (("entries", 0, "outcome"), "won", "outcome 'won' is not one of"),
        (("entries", 0, "slot"), None, "slot null recorded with outcome offered"),
        (("entries", 0, "availability", "weekdays"), [], "weekdays must be a non-empty set"),
        (("entries", 0, "availability"), None, "availability null"),
        (("entries", 0, "extra"), 1, "entries[0] "),
        (("extra",), 1, "unexpected field 'extra'"),
    ],
)
def test_a_malformed_record_gives_differences_not_exceptions(
    record: dict[str, Any], path: tuple[Any, ...], value: Any, expected: str
) -> None:
    differences = verify_record(mutate(record, path, value))
    assert any(expected in d for d in differences), differences
    assert verdict_line(mutate(record, path, value), differences).startswith("FAILED ")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@given(json_values)
def test_any_json_value_gets_a_verdict(value: Any) -> None:
    differences = verify_record(value)
    assert differences
    assert not any(d.startswith("record could not be checked") for d in differences)
    assert verdict_line(value, differences).startswith("FAILED ")


@given(st.data())
def test_a_record_with_any_field_replaced_gets_a_verdict(data: st.DataObject) -> None:
    original = record_of(example_draw())
    section = data.draw(st.sampled_from(("top", "slots", "entries", "availability")))
    if section == "top":
        path: tuple[Any, ...] = (data.draw(st.sampled_from(sorted(original))),)
    elif section == "slots":
        path = ("slots", data.draw(st.integers(0, 9)), data.draw(st.sampled_from(["slot", "starts_at"])))
    else:
        index = data.draw(st.integers(0, 39))
        fields = ["entry", "weight", "availability", "rank", "outcome", "slot"]
        path = ("entries", index, data.draw(st.sampled_from(fields)))
        if section == "availability":
            path = (*path[:2], "availability", data.draw(st.sampled_from(["earliest", "weekdays"])))
    value = data.draw(json_values | st.just(KeyError))
    changed = mutate(original, path, value)
    differences = verify_record(changed)
    assert all(isinstance(d, str) for d in differences)
    # every malformed value is named by the parser, not caught by verify_record's last guard
    assert not any(d.startswith("record could not be checked") for d in differences)
    if path in {("spec",), ("seed",), ("seed_commitment",)} and changed != original:
        assert differences
