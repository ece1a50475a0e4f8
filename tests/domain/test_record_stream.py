"""A record read as a stream gets exactly the verdict of the record loaded whole: the same differences, in the
same order, the same verdict line, whatever the layout of its JSON text and however it is cut into chunks."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.draws import record_stream
from app.domain.draws.draw_record import check_record, verdict_line, verify_record
from tests.domain.test_draw_record import example_draw, json_values, mutate, record_of
from tests.strategies import draw_inputs


def streamed(text: str, chunk: int) -> tuple[list[str], str]:
    """The differences and the verdict line of ``text`` read as a stream in chunks of ``chunk`` characters."""
    original = record_stream.CHUNK
    record_stream.CHUNK = chunk
    try:
        header, entries = record_stream.read_record(io.StringIO(text))
    finally:
        record_stream.CHUNK = original
    check = check_record(header, entries)
    return check.differences, verdict_line(header, check.differences, counts=(check.entries, check.offered))


def loaded(text: str) -> tuple[list[str], str]:
    """The differences and the verdict line of ``text`` loaded whole."""
    record = json.loads(text)
    differences = verify_record(record)
    return differences, verdict_line(record, differences)


@st.composite
def layouts(draw: st.DrawFn, record: dict[str, Any]) -> str:
    """The record as JSON text: fields in any order (entries first, between, or last), any spacing."""
    names = draw(st.permutations(sorted(record)))
    indent = draw(st.sampled_from([None, 0, 2]))
    separators = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :\t")]))
    return json.dumps({name: record[name] for name in names}, indent=indent, separators=separators)


@settings(max_examples=150)
@given(st.data(), draw_inputs(max_entries=40, max_slots=12))
def test_a_streamed_record_gets_the_verdict_of_the_loaded_one(data: st.DataObject, inputs: Any) -> None:
    record = record_of(inputs)
    if record["entries"] and data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(record["entries"]) - 1))
        field = data.draw(st.sampled_from(["weight", "availability", "rank", "outcome", "slot"]))
        record = mutate(record, ("entries", index, field), data.draw(json_values))
    text = data.draw(layouts(record))
    chunk = data.draw(st.sampled_from([1, 7, 64, 4096, record_stream.CHUNK]))

    assert streamed(text, chunk) == loaded(text)


def test_records_with_availability_windows_and_tampered_outcomes_get_the_same_verdict() -> None:
    record = record_of(example_draw())
    windows = [e for e in record["entries"] if e["availability"]["weekdays"] or e["availability"]["latest"]]
    assert windows, "the example must hold entries with windows"
    winner = next(i for i, e in enumerate(record["entries"]) if e["outcome"] == "offered")
    loser = next(i for i, e in enumerate(record["entries"]) if e["outcome"] == "not_selected")
    swapped = mutate(record, ("entries", winner, "rank"), record["entries"][loser]["rank"])
    narrowed = mutate(record, ("entries", winner, "availability", "weekdays"), [7])

    for case in (record, swapped, narrowed):
        text = json.dumps(case)
        for chunk in (3, 50, 1 << 20):
            assert streamed(text, chunk) == loaded(text)
    assert loaded(json.dumps(record))[0] == []
    assert loaded(json.dumps(swapped))[0] != []
    assert loaded(json.dumps(narrowed))[0] != []


@given(json_values)
def test_any_json_object_gets_the_verdict_of_the_loaded_one(value: Any) -> None:
    text = json.dumps({"entries": value} if not isinstance(value, dict) else value)

    assert streamed(text, 5) == loaded(text)


@pytest.mark.parametrize(
    "text",
    [
        "[1, 2]",
        '{"entries": []} extra',
        '{"entries": [], "entries": []}',
        '{"entries": [{"entry": "a",}]}',
        '{"seed": "5e"',
        "\ufeff{}",
        "",
    ],
)
def test_text_the_walk_does_not_read_as_json_loads_would_is_handed_back_to_be_loaded_whole(text: str) -> None:
    with pytest.raises(record_stream.NotStreamable):
        record_stream.read_record(io.StringIO(text))
