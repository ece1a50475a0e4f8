"""Downloading and verifying a 1,000,000-entry draw record over HTTP, from a real ``fairslot serve``.

Run: ``python bench/bench_record_download.py [--entries 1000000]``. It seeds a scratch PostgreSQL database
(as ``bench_draw_db.py`` does), draws once (the draw also builds and stores the compressed record), starts
``fairslot serve`` on a free local port and prints:

- the draw's time (the record's document included) and the stored document's sizes;
- the download time of ``GET /api/v1/draws/{id}``, gzip and plain JSON;
- the latency of other requests (``/api/v1/offices``) while a download runs;
- ``fairslot verify-draw URL``: wall time and peak memory.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from bench_draw_db import BASE_URL, _seed

from app.db import scratch
from app.db.engine import make_engine, session_scope
from app.db.migrations import upgrade
from app.services.draws import drawing

SECRET = "bench-secret-with-enough-entropy-0123456789abcdef"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(url: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": url,
        "FAIRSLOT_SECRET_KEY": SECRET,
        "FAIRSLOT_RATE_LIMITS": "off",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-scheduler", "--no-access-log"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("fairslot serve did not start")


def _download(url: str, encoding: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    with httpx.stream("GET", url, headers={"Accept-Encoding": encoding}, timeout=600) as response:
        wire = 0
        for chunk in response.iter_raw():
            wire += len(chunk)
        status = response.status_code
    assert status == 200, status
    return time.perf_counter() - started, wire, status


def _latencies_during(base: str, work: threading.Thread) -> list[float]:
    seen: list[float] = []
    work.start()
    with httpx.Client(timeout=60) as client:
        while work.is_alive():
            started = time.perf_counter()
            client.get(f"{base}/api/v1/offices")
            seen.append(time.perf_counter() - started)
            time.sleep(0.05)
    work.join()
    return seen


def run(entries: int, slots: int) -> None:
    url, name = scratch.create(BASE_URL, "fairslot_bench")
    server = None
    try:
        upgrade(url)
        engine = make_engine(url)
        _seed(engine, entries, slots)
        started = time.perf_counter()
        with session_scope(engine) as session:
            summary = drawing.draw_next_due(session=session, now=datetime.now(UTC), secret=b"bench")
        assert summary is not None
        drawn = time.perf_counter() - started
        with engine.connect() as conn:
            size, stored = conn.execute(
                text("SELECT size, length(gzip_body) FROM draw_document WHERE draw_id = :d"),
                {"d": summary.draw_id},
            ).one()
        engine.dispose()
        print(
            f"draw of {entries:,} entries with its stored record: {drawn:.2f} s; record {size / 2**20:.1f} MiB "
            f"of JSON, stored {stored / 2**20:.1f} MiB gzip"
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        workdir = Path(tempfile.mkdtemp(prefix=name))
        server = _serve(url, port, workdir)
        record_url = f"{base}/api/v1/draws/{summary.draw_id}"
        for encoding in ("gzip", "identity"):
            seconds, wire, _status = _download(record_url, encoding)
            print(f"GET {record_url} ({encoding}): {seconds:.2f} s, {wire / 2**20:.1f} MiB on the wire")
        result: dict[str, float] = {}

        def downloading() -> None:
            result["seconds"] = _download(record_url, "identity")[0]

        latencies = _latencies_during(base, threading.Thread(target=downloading))
        print(
            f"other requests during a plain download ({result['seconds']:.2f} s): {len(latencies)} answered, "
            f"p50 {statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
        started = time.perf_counter()
        verify = subprocess.run(
            [sys.executable, "-c", _VERIFY, record_url],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "FAIRSLOT_SECRET_KEY": SECRET},
        )
        elapsed = time.perf_counter() - started
        verdict, _, peak = verify.stdout.strip().rpartition("\n")
        print(
            f"fairslot verify-draw {record_url}: exit {verify.returncode} in {elapsed:.2f} s, "
            f"peak RSS {int(peak or 0) / 1024:,.0f} MiB: {verdict[:100]}"
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        scratch.drop(BASE_URL, name)


#: ``fairslot verify-draw URL`` in a child process that reports its own peak memory after the verdict.
_VERIFY = """
import resource, sys
from typer.testing import CliRunner
from app.cli import app
result = CliRunner().invoke(app, ["verify-draw", sys.argv[1]])
print(result.output.strip().splitlines()[0] if result.output.strip() else result.exit_code)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(result.exit_code)
"""


def main() -> None:
    """Parse arguments and run each size in turn."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--slots", type=int, default=10_000)
    args = parser.parse_args()
    for n in args.entries:
        run(n, args.slots)
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
