"""``fairslot verify-draw`` on a big record, as an auditor runs it: wall time and peak memory of the command.

Run: ``python bench/bench_verify_draw.py [--entries 1000000] [--slots 10000]``. It draws ``--entries``
realistic entries (the inputs of ``bench_draw.py``: about 70 % available any day, the others with windows and
weekdays) over ``--slots`` slots, writes the record as the service publishes it, then runs the command as a
separate process and prints its time and peak RSS. Targets: a 1,000,000-entry record within 8 s and under
256 MiB. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_draw import make_entries, make_slots

from app.domain.draws import draw_record, lottery
from app.domain.draws.lottery_fast import run_draw
from app.services.draws.documents import render_rows


def write_record(path: Path, entries: int, slots: int, seed_value: int = 7) -> None:
    """A genuine record of a draw of ``entries`` entries over ``slots`` slots, written to ``path``."""
    rng = random.Random(seed_value)
    draw_slots = make_slots(slots)
    days = (draw_slots[-1].starts_at.date() - draw_slots[0].starts_at.date()).days + 1
    drawn = make_entries(entries, days, rng)
    seed = lottery.new_seed()
    results = run_draw(seed=seed, beacon="bench", entries=drawn, slots=draw_slots)
    at = datetime.now(UTC)
    header = draw_record.record_header(
        release_id=1,
        office="bench",
        service="bench",
        draw_at=at,
        drawn_at=at,
        seed=seed,
        beacon="bench",
        slots=draw_slots,
    )
    by_entry = {e.entry: e for e in drawn}
    texts: dict[lottery.Availability, str] = {}

    def rows():  # type: ignore[no-untyped-def]
        for r in results:
            entry = by_entry[r.entry]
            text = texts.get(entry.availability)
            if text is None:
                text = texts[entry.availability] = json.dumps(entry.availability.as_dict())
            yield (r.entry, draw_record.weight_text(entry.weight), text, r.rank, r.outcome, r.slot)

    with path.open("w", encoding="utf-8") as file:
        for piece in render_rows(header, rows()):
            file.write(piece)


_MEASURED = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
)


def main() -> None:
    """Write the record, verify it in a separate process, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--slots", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "record.json"
        # Written by a process of its own: the command's peak memory must not include the generator's.
        writer = multiprocessing.get_context("spawn").Process(
            target=write_record, args=(path, args.entries, args.slots)
        )
        writer.start()
        writer.join()
        size = path.stat().st_size
        started = time.perf_counter()
        # Through a small process of its own, whose children's peak memory is the command's alone.
        result = subprocess.run(
            [sys.executable, "-c", _MEASURED, sys.executable, "-m", "app.cli", "verify-draw", str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
    *lines, peak_line = result.stdout.splitlines() or [""]
    peak = int(peak_line or 0) / 1024
    verdict = lines[0] if lines else result.stderr.strip()
    print(
        f"verify-draw: {args.entries:,} entries ({size / 2**20:,.0f} MiB of JSON) -> {elapsed:.2f} s, "
        f"peak RSS {peak:,.0f} MiB, exit {result.returncode} (targets: <= 8 s, < 256 MiB)"
    )
    print(f"  {verdict[:110]}")


if __name__ == "__main__":
    main()
