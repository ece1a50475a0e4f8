"""Registry import benchmark: ``fairslot claims import`` of a 100,000-row export, end to end.

Run: ``python bench/bench_claims_import.py [--rows 100000] [--database-url URL]``. It builds a scratch SQLite
database (or uses the PostgreSQL URL given), seeds as many pending requests with a declared permit-expiry
claim as the export has rows (90% of the rows match a request, a tenth of those with a later registry date,
10% match nobody), runs the real command in a subprocess and prints its wall and CPU time (the machine is
shared: the CPU time is the figure that does not depend on the neighbours) and its summary.
Target: 100,000 rows under 30 s on the project's machine.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from app.db.engine import make_engine
from app.db.migrations import upgrade
from app.db.models import AppointmentRequest, Claim, Office, Service
from app.domain.identity import identity_key

SECRET = "bench-secret-with-enough-entropy-0123456789abcdef"


def _seed(url: str, rows: int, export: Path) -> None:
    engine = make_engine(url)
    now = datetime.now(UTC)
    declared = date.today() + timedelta(days=40)
    pepper = _pepper()
    with engine.begin() as conn:
        conn.execute(
            insert(Office.__table__),
            [{"code": "bench", "name": "Bench", "timezone": "Europe/Paris", "created_at": now}],
        )  # type: ignore[attr-defined]
        conn.execute(
            insert(Service.__table__),
            [{"code": "bench", "name": "Bench", "slot_minutes": 20, "created_at": now}],
        )  # type: ignore[attr-defined]
        service_id = conn.execute(select(Service.id)).scalar_one()  # type: ignore[call-overload]
    matched = rows * 9 // 10
    lines = ["document_number,birth_date,permit_expires_on"]
    batch: list[dict] = []
    for i in range(matched):
        document, born = f"BENCH{i:08d}", date(1950, 1, 1) + timedelta(days=i % 20000)
        key = identity_key(pepper, document, born)
        batch.append(
            {
                "id": str(uuid.uuid4()),
                "entry": f"FS-B{i:09d}",
                "service_id": service_id,
                "offices": ["bench"],
                "identity_key": key,
                "active_identity_key": key,
                "person_key": None,
                "active_person_key": None,
                "family_name": "Bench",
                "given_names": "Row",
                "permit_expires_on": declared,
                "vulnerabilities": [],
                "language": "fr",
                "access_code_hash": "0" * 64,
                "status": "pending",
                "submitted_at": now,
                "updated_at": now,
            }
        )
        later = declared + timedelta(days=200) if i % 10 == 0 else declared
        lines.append(f"{document},{born.isoformat()},{later.isoformat()}")
    for i in range(rows - matched):
        lines.append(f"NOBODY{i:08d},1960-01-01,{declared.isoformat()}")
    with engine.begin() as conn:
        for start in range(0, len(batch), 5000):
            chunk = batch[start : start + 5000]
            conn.execute(insert(AppointmentRequest.__table__), chunk)  # type: ignore[attr-defined]
        seqs = conn.execute(select(AppointmentRequest.seq)).scalars().all()  # type: ignore[call-overload]
        claims = [
            {
                "request_seq": seq,
                "kind": "permit_expiry",
                "declared": declared.isoformat(),
                "status": "declared",
            }
            for seq in seqs
        ]
        for start in range(0, len(claims), 5000):
            conn.execute(insert(Claim.__table__), claims[start : start + 5000])  # type: ignore[attr-defined]
    engine.dispose()
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pepper() -> bytes:
    from app.runtime import Runtime
    from app.settings import Settings

    settings = Settings(_env_file=None, secret_key=SECRET, env="test")  # type: ignore[call-arg]
    return Runtime(settings=settings, engine=make_engine("sqlite://")).pepper


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{scratch}/bench.db"
        upgrade(url)
        export = Path(scratch) / "registry.csv"
        started = time.perf_counter()
        _seed(url, args.rows, export)
        print(f"seeded {args.rows} rows in {time.perf_counter() - started:.1f} s")
        env = {
            **os.environ,
            "FAIRSLOT_DATABASE_URL": url,
            "FAIRSLOT_SECRET_KEY": SECRET,
            "FAIRSLOT_ENV": "test",
        }
        started = time.perf_counter()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            [sys.executable, "-m", "app.cli", "claims", "import", str(export), "--office", "bench"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(done.stdout.strip())
        if done.returncode:
            print(done.stderr, file=sys.stderr)
            raise SystemExit(done.returncode)
        print(
            f"claims import of {args.rows} rows: {elapsed:.1f} s wall, {cpu:.1f} s CPU (target: under 30 s)"
        )
        print(f"load average while it ran: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
