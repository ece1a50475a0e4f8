"""HTTP benchmark: 2 uvicorn workers on PostgreSQL, measured with wrk on this machine, figures printed.

(a) the bare ceiling: a minimal FastAPI endpoint validating a similar body (bench/bare_app.py);
(b) ``POST /api/v1/requests`` with rate limits off (the uncapped path);
(c) the 429 path: the same route from one address once its budget is spent (Redis-backed limits);
(d) real applicants (each from its own address) submitting and polling while bots flood intake from a
    few addresses: their latency, and every answer checked for errors.

Targets: b/a >= 0.25, c/a >= 0.7, applicants' p95 < 250 ms with no error, no 5xx anywhere.
Needs wrk (``apt-get install wrk``). Run: ``python bench/bench_http.py [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
from serving import free_port, seed_catalogue, wait_until_up

from app.db import scratch
from app.db.migrations import upgrade

ROOT = Path(__file__).resolve().parents[1]
BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("FAIRSLOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SECRET = "bench-secret-0123456789abcdef0123456789abcdef"


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _wrk(url: str, seconds: int, *script_args: str, connections: int = 32) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "-s",
            str(ROOT / "bench/intake.lua"),
            url,
            "--",
            *script_args,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("JSON "))
    data = json.loads(line[5:])
    data["rps"] = data["requests"] / (data["duration_us"] / 1e6)
    return data


async def _applicants(base: str, seconds: float, count: int) -> dict[str, float]:
    latencies: list[float] = []
    posts: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def one(i: int) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            n = 0
            while time.monotonic() < deadline:
                n += 1
                # Each loop is another person, from another address, as on a real day.
                client.headers["X-Forwarded-For"] = f"198.18.{i}.{n % 250 + 1}"
                body = {
                    "service": "bench",
                    "offices": ["bench"],
                    "identity": {
                        "document_type": "passport",
                        "document_number": f"R{i:03d}{n:05d}{uuid.uuid4().hex[:6]}",
                        # A person of their own (a shared name and birth date would be one person: 409).
                        "family_name": f"Nguyen-{uuid.uuid4().hex[:8]}",
                        "given_names": "Minh",
                        "birth_date": "1985-02-03",
                    },
                }
                started = time.perf_counter()
                created = await client.post("/api/v1/requests", json=body)
                latencies.append(time.perf_counter() - started)
                posts.append(latencies[-1])
                if created.status_code != 201:
                    detail = created.json().get("detail", "") if created.status_code == 429 else ""
                    errors.append(f"POST {created.status_code} {detail[:40]}".strip())
                    await asyncio.sleep(0.5)
                    continue
                answer = created.json()
                for _ in range(3):
                    started = time.perf_counter()
                    polled = await client.get(
                        f"/api/v1/requests/{answer['id']}",
                        headers={"Authorization": f"Bearer {answer['access_code']}"},
                    )
                    latencies.append(time.perf_counter() - started)
                    if polled.status_code != 200:
                        errors.append(f"GET {polled.status_code}")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(i) for i in range(count)))
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "p50_ms": statistics.median(ordered) * 1000,
        "p95_ms": ordered[int(len(ordered) * 0.95) - 1] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99) - 1] * 1000,
        "post_p95_ms": sorted(posts)[int(len(posts) * 0.95) - 1] * 1000 if posts else 0.0,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
    }


def _line(name: str, data: dict[str, float]) -> str:
    return (
        f"{name:<44} {data['rps']:>9,.0f} req/s   p50 {data['p50_us'] / 1000:>7.1f} ms   "
        f"p99 {data['p99_us'] / 1000:>7.1f} ms   5xx {int(data['status_5xx'])}   429 {int(data['status_429'])}"
    )


def main() -> None:
    """Run the four measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    url, name = scratch.create(BASE_URL, "fairslot_bench_http")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        upgrade(url)
        seed_catalogue(url)
        common = {
            "FAIRSLOT_DATABASE_URL": url,
            "FAIRSLOT_SECRET_KEY": SECRET,
            "FAIRSLOT_ENV": "production",
            "FAIRSLOT_PUBLIC_URL": "http://127.0.0.1:8000",
        }
        bare_port, open_port, limited_port = free_port(), free_port(), free_port()
        python = sys.executable
        processes.append(
            _start(
                [
                    python,
                    "-m",
                    "uvicorn",
                    "bench.bare_app:app",
                    "--workers",
                    "2",
                    "--port",
                    str(bare_port),
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                {},
            )
        )
        serve = [
            python,
            "-m",
            "app.cli",
            "serve",
            "--no-scheduler",
            "--workers",
            "2",
            "--no-access-log",
            "--port",
        ]
        processes.append(_start([*serve, str(open_port)], {**common, "FAIRSLOT_RATE_LIMITS": "off"}))
        processes.append(
            _start(
                [*serve, str(limited_port)],
                {**common, "FAIRSLOT_RATE_LIMITS": "on", "FAIRSLOT_REDIS_URL": REDIS_URL},
            )
        )
        for port, path in ((bare_port, "/docs"), (open_port, "/healthz"), (limited_port, "/healthz")):
            wait_until_up(f"http://127.0.0.1:{port}{path}")

        seconds = args.seconds
        _wrk(f"http://127.0.0.1:{bare_port}", 2, "/bare")  # warm-up
        bare = _wrk(f"http://127.0.0.1:{bare_port}", seconds, "/bare")
        _wrk(f"http://127.0.0.1:{open_port}", 2)
        intake = _wrk(f"http://127.0.0.1:{open_port}", seconds)
        _wrk(f"http://127.0.0.1:{limited_port}", 2)  # spends the address's budget: from here on, 429s
        rejected = _wrk(f"http://127.0.0.1:{limited_port}", seconds)

        async def flood_and_applicants() -> tuple[dict[str, float], dict[str, float]]:
            bots = asyncio.create_task(
                asyncio.to_thread(
                    _wrk,
                    f"http://127.0.0.1:{limited_port}",
                    seconds,
                    "/api/v1/requests",
                    "bench",
                    "bench",
                    "10.66.0.",
                )
            )
            await asyncio.sleep(0.5)
            people = await _applicants(f"http://127.0.0.1:{limited_port}", seconds - 1, 20)
            return await bots, people

        bots, people = asyncio.run(flood_and_applicants())

        print("\nHTTP benchmark (2 uvicorn workers, PostgreSQL, wrk -t2 -c32 on the same 2-core machine)")
        print(_line("(a) bare FastAPI endpoint, similar body", bare))
        print(_line("(b) POST /api/v1/requests (limits off)", intake))
        print(_line("(c) the 429 path (Redis limits)", rejected))
        print(_line("(d) bots flooding intake from 4 addresses", bots))
        print(
            f"(d) 20 real applicants during the flood        {people['requests']:>6,} requests   "
            f"p50 {people['p50_ms']:.1f} ms   p95 {people['p95_ms']:.1f} ms   p99 {people['p99_ms']:.1f} ms   "
            f"(submissions p95 {people['post_p95_ms']:.1f} ms)   errors {people['errors']} {people['error_kinds']}"
        )
        print(f"ratio b/a = {intake['rps'] / bare['rps']:.2f} (target >= 0.25, aim 0.5)")
        print(f"ratio c/a = {rejected['rps'] / bare['rps']:.2f} (target >= 0.7)")
        fivexx = sum(int(d["status_5xx"]) for d in (bare, intake, rejected, bots))
        print(
            f"5xx answers: {fivexx}; applicants' p95 target < 250 ms: {'met' if people['p95_ms'] < 250 else 'MISSED'}"
        )
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        scratch.drop(BASE_URL, name)


if __name__ == "__main__":
    main()
