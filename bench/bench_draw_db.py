"""End-to-end draw benchmark on PostgreSQL: load the entries, compute, write the offers and the record.

Run: ``python bench/bench_draw_db.py [--entries 100000 1000000] [--slots 10000]``. It creates a scratch
database on ``FAIRSLOT_BENCH_DATABASE_URL`` (default the local server), seeds pending requests with SQL,
draws once through the service (exactly what the scheduler does) and prints the time, where it went (the
draw's own log line: entries and waiting counts read, computed, draw entries written, offers, record) and
the peak memory. Targets: 100,000 entries and 10,000 slots within 1 s; 1,000,000 entries within 12 s and
under 512 MiB.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import time
from datetime import UTC, datetime, timedelta

from serving import seed_catalogue
from sqlalchemy import text

from app.db import scratch
from app.db.engine import make_engine, session_scope
from app.db.migrations import upgrade
from app.domain.draws import lottery
from app.services.draws import drawing

BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _seed(engine, entries: int, slots: int) -> int:
    now = datetime.now(UTC)
    first = now + timedelta(days=3)
    seed = lottery.new_seed()
    with engine.begin() as conn:
        release_id = conn.execute(
            text(
                "INSERT INTO release (office_id, service_id, kind, status, draw_at, seed, seed_commitment, "
                "offer_ttl_hours, slot_count, created_at) VALUES (1, 1, 'release', 'scheduled', :draw_at, :seed, "
                ":commitment, 48, :slots, now()) RETURNING id"
            ),
            {
                "draw_at": now - timedelta(seconds=1),
                "seed": seed.hex(),
                "commitment": lottery.commitment(seed),
                "slots": slots,
            },
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO slot (release_id, office_id, service_id, starts_at, ends_at, desk) "
                "SELECT :release, 1, 1, :first + (i / 10) * interval '20 minutes', "
                ":first + (i / 10 + 1) * interval '20 minutes', i % 10 + 1 FROM generate_series(0, :n - 1) AS i"
            ),
            {"release": release_id, "first": first, "n": slots},
        )
        conn.execute(
            text(
                """
                INSERT INTO appointment_request (
                    id, entry, service_id, offices, identity_key, active_identity_key, vulnerabilities,
                    availability, permit_expires_on, language, access_code_hash, status, submitted_at, updated_at)
                SELECT gen_random_uuid()::text, 'FS-' || lpad(i::text, 10, '0'), 1, '["bench"]'::json,
                       md5(i::text) || md5('k' || i::text), md5(i::text) || md5('k' || i::text),
                       CASE WHEN i % 10 = 0 THEN '["disability"]'::json ELSE '[]'::json END,
                       CASE WHEN i % 4 = 0 THEN json_build_object('weekdays', json_build_array(1 + i % 5, 1 + (i + 2) % 5))
                            ELSE NULL END,
                       CASE WHEN i % 3 = 0 THEN (now() + (i % 120) * interval '1 day')::date ELSE NULL END,
                       'fr', md5('c' || i::text), 'pending', now() - interval '1 day', now()
                FROM generate_series(1, :n) AS i
                """
            ),
            {"n": entries},
        )
        conn.execute(text("ANALYZE"))
    return int(release_id)


class _Lines(logging.Handler):
    """Keeps the draw's log lines."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run(entries: int, slots: int) -> None:
    url, name = scratch.create(BASE_URL, "fairslot_bench")
    lines = _Lines()
    draws_log = logging.getLogger("fairslot.draws")
    draws_log.addHandler(lines)
    draws_log.setLevel(logging.INFO)
    try:
        upgrade(url)
        seed_catalogue(url)
        engine = make_engine(url)
        _seed(engine, entries, slots)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with session_scope(engine) as session:
            summary = drawing.draw_next_due(session=session, now=datetime.now(UTC), secret=b"bench")
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        assert summary is not None
        print(
            f"draw end-to-end on PostgreSQL: {entries:>9,} entries, {slots:>6,} slots -> "
            f"{elapsed:6.2f} s ({summary.offered:,} offers written), peak RSS {peak / 1024:,.0f} MiB "
            f"(before the draw {rss_before / 1024:,.0f} MiB)"
        )
        for line in lines.lines:
            print(f"  {line}")
        engine.dispose()
    finally:
        draws_log.removeHandler(lines)
        scratch.drop(BASE_URL, name)


def main() -> None:
    """Parse arguments and run each size in turn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--slots", type=int, default=10_000)
    args = parser.parse_args()
    for n in args.entries:
        run(n, args.slots)


if __name__ == "__main__":
    main()
