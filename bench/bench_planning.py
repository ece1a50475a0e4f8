"""Publishing a 12-week horizon for an office with 10 desks, through the planner's service, and the calendar.

Run: ``python bench/bench_planning.py [--weeks 12] [--desks 10] [--sqlite]``. It builds a scratch database
(PostgreSQL on ``FAIRSLOT_BENCH_DATABASE_URL``, default the local server; or a SQLite file with
``--sqlite``), gives a service of 20-minute slots a schedule of five days from 08:30 to 12:30 and 13:30 to
16:30 at ``--desks`` desks (a day of Ascension and a closure inside the horizon), publishes each of the
coming ``--weeks`` ISO weeks as the planner does (``POST …/schedules/{service}/publish``: one transaction
per week, its slots one row per desk), then reads the office's calendar of 31 days and prints the figures.
No assertion on time: the figures are printed for a reader to compare.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.clock import FrozenClock
from app.db import scratch
from app.db.engine import make_engine
from app.db.migrations import upgrade
from app.domain.planning import weeks
from app.schemas.catalog import OfficeCreate, ServiceCreate, WeightPolicyIn
from app.schemas.planning import ClosureCreate, ScheduleIn, WeekPublish
from app.services.beacons import rounds
from app.services.operations import calendar, catalog, closures, publishing, schedules
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import unit_of_work
from app.settings import Settings

BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
#: A Monday of 2027 whose horizon holds Ascension (6 May) and Whit Monday (17 May).
FIRST_WEEK = "2027-W16"


def _database(sqlite: bool) -> AbstractContextManager[tuple[str, str]]:
    if sqlite:
        folder = tempfile.mkdtemp(prefix="fairslot-bench-")
        return nullcontext((f"sqlite:///{Path(folder) / 'bench.db'}", "sqlite"))
    return scratch.database(BASE_URL, "fairslot_bench")


def run(weeks_ahead: int, desks: int, sqlite: bool) -> None:
    with _database(sqlite) as (url, _name):
        upgrade(url)
        engine = make_engine(url)
        monday = weeks.parse_week(FIRST_WEEK)
        clock = FrozenClock(datetime.combine(monday - timedelta(days=14), datetime.min.time(), tzinfo=UTC))
        operator = staff_keys.operator("bench")
        settings = Settings(
            _env_file=None, database_url=url, secret_key="bench-" * 8, env="test", beacon_chain="none"
        )  # type: ignore[call-arg]
        setup = rounds.setup_for(settings)
        weekly = [
            {"weekday": day, "opens": opens, "closes": closes, "desks": desks}
            for day in range(1, 6)
            for opens, closes in (("08:30", "12:30"), ("13:30", "16:30"))
        ]
        with unit_of_work(engine, clock) as session:
            catalog.create_office(
                session=session,
                data=OfficeCreate(code="bench", name="Bench", timezone="Europe/Paris"),
                staff=operator,
            )
            catalog.create_service(
                session=session,
                data=ServiceCreate(
                    code="bench", name="Bench", slot_minutes=20, weight_policy=WeightPolicyIn(beacon="none")
                ),
                staff=operator,
            )
            schedules.put_schedule(
                session=session,
                staff=operator,
                office="bench",
                service="bench",
                data=ScheduleIn.model_validate({"weekly": weekly}),
                now=clock.now(),
            )
            closures.create_closure(
                session=session,
                staff=operator,
                office="bench",
                data=ClosureCreate.model_validate(
                    {
                        "starts_on": str(monday + timedelta(days=2)),
                        "ends_on": str(monday + timedelta(days=2)),
                        "reason": "Formation",
                        "desks": 3,
                    }
                ),
                now=clock.now(),
            )
        planner = staff_keys.StaffPrincipal(
            key_id=0, role="planner", offices=frozenset({"bench"}), name="bench"
        )
        durations: list[float] = []
        slots = 0
        started = time.perf_counter()
        for offset in range(weeks_ahead):
            week = weeks.week_of(monday + timedelta(weeks=offset))
            draw_at = clock.now() + timedelta(days=7 * offset + 1)
            begun = time.perf_counter()
            with unit_of_work(engine, clock) as session:
                release = publishing.publish_week(
                    session=session,
                    staff=planner,
                    office="bench",
                    service="bench",
                    data=WeekPublish(week=week, draw_at=draw_at),
                    now=clock.now(),
                    default_ttl_hours=48,
                    secret=b"bench-secret-with-enough-entropy-0123456789",
                    setup=setup,
                )
                slots += release.slot_count
            durations.append(time.perf_counter() - begun)
        total = time.perf_counter() - started
        begun = time.perf_counter()
        with unit_of_work(engine, clock) as session:
            shown = calendar.calendar_days(session, catalog.office_at(session, "bench"), monday, 31)
        calendar_seconds = time.perf_counter() - begun
        engine.dispose()
    backend = "SQLite" if sqlite else "PostgreSQL"
    counted = sum(day.services[0].slots for day in shown.days if day.services)
    print(f"publishing {weeks_ahead} weeks, {desks} desks, 20-minute slots ({backend})")
    print(f"  slots published        {slots:>10}")
    print(f"  total                  {total:>10.3f} s")
    print(f"  per week  median       {statistics.median(durations) * 1000:>10.1f} ms")
    print(f"  per week  slowest      {max(durations) * 1000:>10.1f} ms")
    print(f"  per slot               {total / max(slots, 1) * 1e6:>10.1f} µs")
    print(f"  calendar of 31 days    {calendar_seconds * 1000:>10.1f} ms ({counted} slots counted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--desks", type=int, default=10)
    parser.add_argument("--sqlite", action="store_true", help="a SQLite file instead of PostgreSQL")
    args = parser.parse_args()
    run(args.weeks, args.desks, args.sqlite)


if __name__ == "__main__":
    main()
