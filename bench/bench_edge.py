"""A flood that real applicants do not feel: bots and real applicants through the production edge, and direct.

Run: ``python bench/bench_edge.py [--seconds 15] [--bots 4] [--connections 48]``. It starts, on 127.0.0.1,
``fairslot serve --workers 2`` on PostgreSQL (a scratch database) with Redis-backed limits, and Debian's
nginx with the configuration ``fairslot edge-config`` prints in front of it. Then, twice (through the edge,
then straight to the application, Redis emptied in between so that both runs start from the same budgets):

- bots flood intake for ``--seconds`` with ``--connections`` kept-alive connections spread over ``--bots``
  addresses 127.0.1.1, 127.0.1.2, ... (one process per address), each submission a fresh identity;
- a real applicant arrives every 100 ms from an address of its own (127.0.2.x), submits and looks at its
  request once.

It prints the applicants' p50/p95/p99 and answers, how many entries the bots put in (201s), the 429s and the
5xx counts. Nothing is asserted; the done-when figures are: through the edge, applicants' p95 under 150 ms and
bots at most 200 entries; without the edge, bots at most 600 entries and no 5xx. Needs nginx
(``.ci/edge-deps``), PostgreSQL and Redis (``FAIRSLOT_BENCH_DATABASE_URL``, ``FAIRSLOT_BENCH_REDIS_URL``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from floods import applicants, bot_flood
from serving import free_port, seed_catalogue, wait_until_up

from app.db import scratch
from app.db.migrations import upgrade

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FAIRSLOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


def run_flood(port: int, seconds: float, bots: int, connections: int) -> dict[str, Any]:
    """Bots from 127.0.1.1.. and real applicants from 127.0.2.x against ``port``, at once."""
    addresses = [f"127.0.1.{i + 1}" for i in range(bots)]
    shares = [connections // bots + (1 if i < connections % bots else 0) for i in range(bots)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(bots) as pool:
        pending = [
            pool.apply_async(bot_flood, (address, port, share, seconds))
            for address, share in zip(addresses, shares, strict=True)
        ]
        time.sleep(0.5)  # the flood is on before the first applicant arrives
        people = asyncio.run(applicants(port, seconds - 1.0))
        bot_counts = [p.get(timeout=seconds + 60) for p in pending]
    statuses: Counter[int] = Counter()
    for counts in bot_counts:
        statuses.update({int(k): v for k, v in counts["statuses"].items()})
    bot_seconds = max(c["seconds"] for c in bot_counts)
    return {
        "people": people,
        "bot_statuses": statuses,
        "bot_rate": sum(statuses.values()) / bot_seconds if bot_seconds else 0.0,
        "bot_failures": sum(c["failures"] for c in bot_counts),
        "bot_entries": statuses[201],
    }


def report(name: str, figures: dict[str, Any]) -> str:
    """The lines of one run."""
    people = figures["people"]
    statuses = figures["bot_statuses"]
    fivexx_bots = sum(v for k, v in statuses.items() if k >= 500)
    fivexx_people = sum(v for k, v in people.statuses.items() if k.split()[-1].startswith("5"))
    return "\n".join(
        [
            f"{name}",
            f"  real applicants: {len(people.latencies)} requests, p50 {people.percentile(0.5):.1f} ms, "
            f"p95 {people.percentile(0.95):.1f} ms, p99 {people.percentile(0.99):.1f} ms; "
            f"answers {dict(sorted(people.statuses.items()))}",
            f"  bots: {sum(statuses.values()):,} answers ({figures['bot_rate']:,.0f}/s), entries put in "
            f"{figures['bot_entries']}, 429 {statuses[429]:,}, other {dict(sorted(statuses.items()))}, "
            f"connection failures {figures['bot_failures']}",
            f"  5xx: bots {fivexx_bots}, applicants {fivexx_people}",
        ]
    )


def main() -> None:
    """Start the service and the edge, run the flood through the edge and direct, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--bots", type=int, default=4, help="bot addresses (127.0.1.1, ...)")
    parser.add_argument("--connections", type=int, default=48, help="bot connections in all")
    parser.add_argument("--keep-log", type=Path, help="copy the application's log here")
    args = parser.parse_args()
    if shutil.which("nginx") is None:
        sys.exit("nginx is needed: .ci/edge-deps installs it")
    import redis

    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    url, name = scratch.create(BASE_URL, "fairslot_bench_edge")
    root = Path(tempfile.mkdtemp(prefix="fairslot-bench-edge-"))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        seed_catalogue(url)
        app_port, edge_port = free_port(), free_port()
        env = {
            **os.environ,
            "FAIRSLOT_DATABASE_URL": url,
            "FAIRSLOT_SECRET_KEY": SECRET,
            "FAIRSLOT_ENV": "production",
            "FAIRSLOT_PUBLIC_URL": "https://rdv.example.fr",
            "FAIRSLOT_RATE_LIMITS": "on",
            "FAIRSLOT_REDIS_URL": REDIS_URL,
            "FAIRSLOT_TRUSTED_PROXIES": "127.0.0.1",
        }
        serve = [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--no-scheduler",
            "--workers",
            "2",
            "--no-access-log",
        ]
        app_log = (root / "app.log").open("wb")
        processes.append(
            subprocess.Popen(
                [*serve, "--port", str(app_port)], cwd=ROOT, env=env, stdout=app_log, stderr=app_log
            )
        )
        wait_until_up(f"http://127.0.0.1:{app_port}/healthz", processes[-1])
        config = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "edge-config",
                "--listen",
                f"127.0.0.1:{edge_port}",
                "--upstream",
                f"127.0.0.1:{app_port}",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        (root / "nginx.conf").write_text(config)
        prefix = root / "nginx"
        prefix.mkdir()
        for directory in (root, prefix):
            directory.chmod(0o755)
        processes.append(
            subprocess.Popen(
                ["nginx", "-p", str(prefix), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        wait_until_up(f"http://127.0.0.1:{edge_port}/healthz", processes[-1])

        print(
            f"\nFlood benchmark: {args.seconds:g} s, {args.connections} bot connections from {args.bots} addresses "
            f"(127.0.1.x), a real applicant every 100 ms from its own address (127.0.2.x); "
            f"fairslot serve --workers 2, PostgreSQL, Redis; {os.cpu_count()} CPU cores shared by everything"
        )
        asyncio.run(applicants(edge_port, 3.0))  # warm-up: both workers' first requests, outside the figures
        store.flushdb()
        through = run_flood(edge_port, args.seconds, args.bots, args.connections)
        print(report("through the edge (nginx, the generated configuration)", through))
        store.flushdb()
        time.sleep(1.0)
        direct = run_flood(app_port, args.seconds, args.bots, args.connections)
        print(report("direct to the application (its own budgets and fair admission)", direct))
        edge_p95 = through["people"].percentile(0.95)
        print(
            f"done-when: through the edge p95 {edge_p95:.1f} ms (< 150: {'met' if edge_p95 < 150 else 'MISSED'}), "
            f"bots' entries {through['bot_entries']} (<= 200: {'met' if through['bot_entries'] <= 200 else 'MISSED'}); "
            f"direct, bots' entries {direct['bot_entries']} (<= 600: "
            f"{'met' if direct['bot_entries'] <= 600 else 'MISSED'})"
        )
        if args.keep_log:
            shutil.copy(root / "app.log", args.keep_log)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(root, ignore_errors=True)
        scratch.drop(BASE_URL, name)
        store.flushdb()


if __name__ == "__main__":
    main()
