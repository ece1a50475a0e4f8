"""``make loadtest``: a bounded, headless Locust run against a local Fairslot, CSV files in loadtests/results/.

It prepares a fresh database (SQLite by default, or ``FAIRSLOT_LOAD_DATABASE_URL``), an office, a service,
planner and desk keys and a release drawing 20 s after the start; serves Fairslot on 127.0.0.1 with its
scheduler and rate limits on, behind the production edge (nginx with the configuration ``fairslot
edge-config`` prints; ``--direct`` skips it); runs the scenario of ``loadtests/locustfile.py`` for
``--seconds`` (60 by default), every user from a loopback address of its own; then prints the per-route
figures and what bots and scalpers obtained. Exit 1 if a transferred token was admitted or any 5xx was seen.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "loadtests" / "results"
SECRET = "loadtest-secret-0123456789abcdef0123456789abcdef"


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _prepare(database_url: str) -> dict[str, str]:
    os.environ.update({"FAIRSLOT_DATABASE_URL": database_url, "FAIRSLOT_SECRET_KEY": SECRET})
    from app.db.engine import session_scope
    from app.db.migrations import upgrade
    from app.runtime import Runtime
    from app.schemas.catalog import OfficeCreate, ServiceCreate
    from app.schemas.releases import ReleaseCreate, SlotIn
    from app.schemas.staff import StaffKeyCreate
    from app.services.beacons import rounds
    from app.services.draws import releases
    from app.services.operations import catalog
    from app.services.staff import keys as staff_keys
    from app.settings import Settings

    upgrade(database_url)
    runtime = Runtime.from_settings(Settings(_env_file=None, database_url=database_url, secret_key=SECRET))  # type: ignore[call-arg]
    now = datetime.now(UTC)
    with session_scope(runtime.engine) as session:
        catalog.create_office(
            session=session,
            data=OfficeCreate(code="load", name="Load office", timezone="Europe/Paris"),
            staff=staff_keys.operator("load"),
        )
        catalog.create_service(
            session=session,
            data=ServiceCreate(code="load", name="Load", slot_minutes=20),
            staff=staff_keys.operator("load"),
        )
        _r, planner = staff_keys.create_key(
            session=session,
            data=StaffKeyCreate(role="planner", offices=["load"]),
            staff=staff_keys.operator("load"),
        )
        _r, desk = staff_keys.create_key(
            session=session,
            data=StaffKeyCreate(role="desk", offices=["load"]),
            staff=staff_keys.operator("load"),
        )
        first = (now + timedelta(days=3)).replace(minute=0, second=0, microsecond=0)
        releases.create_release(
            session=session,
            staff=staff_keys.authenticate(session, planner),
            data=ReleaseCreate(
                office="load",
                service="load",
                draw_at=now + timedelta(seconds=20),
                slots=[SlotIn(starts_at=first + timedelta(minutes=20 * i), desks=3) for i in range(20)],
            ),
            now=now,
            default_ttl_hours=48,
            secret=runtime.secret,
            setup=rounds.setup_for(runtime.settings),
        )
    runtime.engine.dispose()
    return {"planner": planner, "desk": desk}


def _edge(port: int, processes: list[subprocess.Popen[bytes]]) -> str:
    """nginx with the generated edge configuration in front of 127.0.0.1:``port``; its base URL."""
    edge_port = _port()
    config = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli",
            "edge-config",
            "--listen",
            f"127.0.0.1:{edge_port}",
            "--upstream",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    prefix = RESULTS / "nginx"
    shutil.rmtree(prefix, ignore_errors=True)
    prefix.mkdir(parents=True)
    (RESULTS / "nginx.conf").write_text(config)
    processes.append(
        subprocess.Popen(
            ["nginx", "-p", str(prefix), "-c", str(RESULTS / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    )
    base = f"http://127.0.0.1:{edge_port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the edge did not start; see loadtests/results/nginx/error.log")


def main() -> int:
    """Prepare, serve, run Locust, report."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--users", type=int, default=60)
    parser.add_argument("--direct", action="store_true", help="no edge: Locust straight to the application")
    args = parser.parse_args()
    if not args.direct and shutil.which("nginx") is None:
        print("nginx is needed for the edge (.ci/edge-deps installs it), or run with --direct")
        return 1
    RESULTS.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("FAIRSLOT_LOAD_DATABASE_URL") or f"sqlite:///{RESULTS / 'load.db'}"
    if database_url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(RESULTS / "load.db") + suffix).unlink(missing_ok=True)
    keys = _prepare(database_url)
    port = _port()
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": SECRET,
        "FAIRSLOT_RATE_LIMITS": "on",
        "FAIRSLOT_SCHEDULER_INTERVAL_SECONDS": "2",
    }
    edge_processes: list[subprocess.Popen[bytes]] = []
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log"],
        cwd=RESULTS,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(RESULTS / "server.log", "w"),  # noqa: SIM115 - closed with the process
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                print("the server did not start; see loadtests/results/server.log")
                return 1
            time.sleep(0.2)
        host = f"http://127.0.0.1:{port}"
        if not args.direct:
            host = _edge(port, edge_processes)
        locust_env = {
            **os.environ,
            "FAIRSLOT_LOAD_OFFICE": "load",
            "FAIRSLOT_LOAD_SERVICE": "load",
            "FAIRSLOT_LOAD_PLANNER_KEY": keys["planner"],
            "FAIRSLOT_LOAD_DESK_KEY": keys["desk"],
        }
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(ROOT / "loadtests" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                "20",
                "--run-time",
                f"{args.seconds}s",
                "--host",
                host,
                "--csv",
                str(RESULTS / "fairslot"),
                "--only-summary",
                "--stop-timeout",
                "5",
            ],
            env=locust_env,
            capture_output=True,
            text=True,
            timeout=args.seconds + 120,
        )
    finally:
        for process in edge_processes:
            process.terminate()
            process.wait(timeout=30)
        server.terminate()
        server.wait(timeout=30)
    outcomes = [line for line in (run.stdout + run.stderr).splitlines() if line.startswith("OUTCOMES")]
    print(
        f"\nLocust, {args.users} users for {args.seconds} s against {host} "
        f"({'direct' if args.direct else 'through the edge'}, {database_url.split(':')[0]})"
    )
    print(
        f"{'route':<32} {'requests':>9} {'failures':>9} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}"
    )
    with open(RESULTS / "fairslot_stats.csv") as stats:
        for row in csv.DictReader(stats):
            print(
                f"{row['Name'][:32]:<32} {row['Request Count']:>9} {row['Failure Count']:>9} "
                f"{float(row['Requests/s']):>8.1f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
            )
    print(outcomes[-1] if outcomes else "OUTCOMES not reported")
    fivexx = 0
    failures_file = RESULTS / "fairslot_failures.csv"
    if failures_file.exists():
        with open(failures_file) as failures:
            fivexx = sum(int(r["Occurrences"]) for r in csv.DictReader(failures) if "50" in r["Error"])
    print(f"5xx seen: {fivexx}; CSV files in {RESULTS.relative_to(ROOT)}/")
    counts = dict(item.split("=") for item in outcomes[-1].split()[1:]) if outcomes else {}
    admitted = int(counts.get("transfers_admitted", "0"))
    if fivexx or admitted:
        print(f"FAILED: {fivexx} server errors, {admitted} transferred tokens admitted")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
