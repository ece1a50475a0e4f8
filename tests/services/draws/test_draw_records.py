"""Production builds draw records through ``app.domain.draws.draw_record``: the header it stores once and the entries
it streams back from ``draw_entry`` rows make exactly the record ``build_record`` makes from the draw."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from operator import attrgetter

from hypothesis import given

from app.domain.draws import draw_record, lottery_fast
from app.domain.draws.lottery import DrawSlot
from app.services.draws import documents, entrants
from tests.strategies import DrawInput, draw_inputs


@given(draw_inputs())
def test_the_stored_and_streamed_record_equals_build_record(data: DrawInput) -> None:
    # Production slot ids are database ids: numbers, read back as integers.
    slots = [DrawSlot(str(n), s.starts_at) for n, s in enumerate(data.slots, 1)]
    results = lottery_fast.run_draw(seed=data.seed, beacon=data.beacon, entries=data.entries, slots=slots)
    draw_at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    facts = {
        "release_id": 7,
        "office": "paris-15",
        "service": "permit",
        "draw_at": draw_at,
        "drawn_at": draw_at + timedelta(seconds=3),
        "seed": data.seed,
        "beacon": data.beacon,
        "slots": slots,
    }
    by_entry = {e.entry: e for e in data.entries}

    rows = []
    for result in sorted(results, key=attrgetter("rank")):
        entry = by_entry[result.entry]
        stored = entrants.stored_availability(entry.availability)
        rows.append(
            documents.stored_entry_row(
                result.entry,
                draw_record.weight_text(entry.weight),
                None if stored is None else json.loads(json.dumps(stored)),
                result.rank,
                result.outcome,
                None if result.slot is None else int(result.slot),
            )
        )
    produced = {**json.loads(json.dumps(draw_record.record_header(**facts))), "entries": rows}

    built = draw_record.build_record(**facts, entries=data.entries, results=results)
    assert produced == built
    assert draw_record.verify_record(produced) == []
