"""Latencies of a real ``fairslot serve`` while a dependency misbehaves (printed, never asserted).

Run: ``python bench/bench_faults.py``. Each scenario starts the service, submits applicants one after
another (retrying a 503 with the same ``Idempotency-Key``, as a client should) and prints p50 / p95 / max of
the first attempts and the statuses seen:

- baseline on SQLite;
- a Redis that accepts connections and never answers (``FAIRSLOT_REDIS_URL`` pointing at it);
- SQLite held locked by another connection for 5 s while submitting;
- PostgreSQL with every backend of the service killed (``pg_terminate_backend``) before submitting.

The hung SMTP server is the messages engineer's benchmark.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg

from app.db import scratch

SECRET = "bench-secret-with-enough-entropy-0123456789abcdef"
PG_BASE = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SUBMISSIONS = 40


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")}
    env.update(
        FAIRSLOT_DATABASE_URL=database_url,
        FAIRSLOT_SECRET_KEY=SECRET,
        FAIRSLOT_RATE_LIMITS="off",
        FAIRSLOT_REQUEST_TIMEOUT_SECONDS="2",
    )
    env.update(extra)
    return env


def _cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@contextmanager
def serving(database_url: str, **extra: str) -> Iterator[tuple[str, str]]:
    """A migrated database with an office and a service, and ``fairslot serve`` on it: (base URL, service)."""
    cwd = Path(tempfile.mkdtemp(prefix="fairslot-faults-"))
    env = _env(database_url, **extra)
    _cli(env, cwd, "db", "upgrade")
    admin = _cli(env, cwd, "admin", "create-key", "--role", "admin")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-scheduler", "--no-access-log"],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("fairslot serve did not start")
            time.sleep(0.2)
        headers = {"Authorization": f"Bearer {admin}"}
        office = {"code": "bench", "name": "Bench", "timezone": "Europe/Paris"}
        httpx.post(f"{base}/api/v1/offices", json=office, headers=headers, timeout=30).raise_for_status()
        # Intake faults are measured as before: the service asks no entry verification.
        service = {
            "code": "bench",
            "name": "Bench",
            "slot_minutes": 20,
            "weight_policy": {"entry_verification": "none"},
        }
        httpx.post(f"{base}/api/v1/services", json=service, headers=headers, timeout=30).raise_for_status()
        yield base, "bench"
    finally:
        server.terminate()
        server.wait(30)


def _body(n: int) -> dict[str, object]:
    return {
        "service": "bench",
        "offices": ["bench"],
        "identity": {
            "document_type": "passport",
            "document_number": f"B{uuid.uuid4().hex[:10].upper()}",
            "family_name": "Bench",
            "given_names": f"N{n}",
            "birth_date": "1990-01-01",
        },
    }


def submit_all(base: str, label: str, count: int = SUBMISSIONS) -> None:
    """Submit ``count`` applicants, retrying 503s; print the first attempts' latencies and the statuses."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    retried = 0
    with httpx.Client(timeout=120) as client:
        for n in range(count):
            body, key = _body(n), f"bench-{n}-{uuid.uuid4().hex}"
            for attempt in range(10):
                started = time.perf_counter()
                response = client.post(f"{base}/api/v1/requests", json=body, headers={"Idempotency-Key": key})
                if attempt == 0:
                    latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1
                if response.status_code != 503:
                    break
                retried += 1
                time.sleep(0.2)
    ordered = sorted(latencies)
    print(
        f"{label:<38} p50 {statistics.median(ordered) * 1000:7.0f} ms  p95 "
        f"{ordered[int(len(ordered) * 0.95) - 1] * 1000:7.0f} ms  max {ordered[-1] * 1000:7.0f} ms  "
        f"statuses {dict(statuses)}  retries {retried}"
    )


@contextmanager
def hung_redis() -> Iterator[str]:
    """A TCP server that accepts connections and never answers."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    finally:
        stop.set()
        thread.join(2)
        for connection in held:
            connection.close()
        server.close()


def main() -> None:
    """Run every scenario in turn."""
    work = Path(tempfile.mkdtemp(prefix="fairslot-faults-db-"))
    with serving(f"sqlite:///{work / 'base.db'}") as (base, _service):
        submit_all(base, "SQLite, no fault")
    with (
        hung_redis() as redis_url,
        serving(
            f"sqlite:///{work / 'redis.db'}", FAIRSLOT_RATE_LIMITS="on", FAIRSLOT_REDIS_URL=redis_url
        ) as (base, _service),
    ):
        submit_all(base, "SQLite, hung Redis")
    path = work / "locked.db"
    with serving(f"sqlite:///{path}") as (base, _service):
        locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        locker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(5.0, lambda: locker.execute("ROLLBACK"))
        release.start()
        submit_all(base, "SQLite locked 5 s by another client", count=10)
        release.join()
        locker.close()
        submit_all(base, "SQLite after the lock", count=10)
    with scratch.database(PG_BASE, "fairslot_faults") as (url, name), serving(url) as (base, _service):
        submit_all(base, "PostgreSQL, no fault", count=20)
        with psycopg.connect(PG_BASE, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", [name]
            ).fetchone()
        print(f"killed {killed[0] if killed else 0} PostgreSQL backends of the service")
        submit_all(base, "PostgreSQL, backends killed", count=20)


if __name__ == "__main__":
    main()
