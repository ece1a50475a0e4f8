"""``fairslot serve`` as a real process: one rate budget across workers, a header timeout (issues 10, 15)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.factories import World, auth

REDIS_URL = os.environ.get("FAIRSLOT_TEST_REDIS_URL")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_RATE_LIMITS": "on",
        **extra,
    }
    env.pop("FAIRSLOT_REDIS_URL", None)
    env.update({k: v for k, v in extra.items() if k == "FAIRSLOT_REDIS_URL"})
    return env


@contextmanager
def serving(database_url: str, cwd: Path, *args: str, **env: str) -> Iterator[str]:
    """A running ``fairslot serve`` on a free port; its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--no-scheduler", "--port", str(port), *args],
        env=_env(database_url, **env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert server.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_several_workers_without_a_shared_store_are_refused_with_the_fix(
    runtime: Any, tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--workers", "2", "--port", str(_free_port())],
        env=_env(runtime.settings.database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "FAIRSLOT_REDIS_URL=redis://" in result.stderr
    assert "fairslot serve --workers 2" in result.stderr


@pytest.mark.slow
@pytest.mark.once
@pytest.mark.skipif(REDIS_URL is None, reason="needs Redis (FAIRSLOT_TEST_REDIS_URL)")
def test_two_worker_processes_keep_one_budget_through_redis(
    client: Any, runtime: Any, tmp_path: Path
) -> None:
    import redis

    assert REDIS_URL is not None
    redis.Redis.from_url(REDIS_URL).flushdb()
    applicant = World(client, runtime).applicant()
    with serving(
        runtime.settings.database_url, tmp_path, "--workers", "2", FAIRSLOT_REDIS_URL=REDIS_URL
    ) as base:
        statuses = [  # a new connection each time: the kernel hands them to either worker
            httpx.get(f"{base}/api/v1/requests/{applicant['id']}", headers=auth(f"wrong-{i}")).status_code
            for i in range(7)
        ]

    assert statuses[:5] == [404] * 5
    assert statuses[5:] == [429, 429]


@pytest.mark.slow
@pytest.mark.once
def test_a_client_too_slow_to_send_its_headers_is_disconnected(runtime: Any, tmp_path: Path) -> None:
    with serving(runtime.settings.database_url, tmp_path, FAIRSLOT_HEADER_TIMEOUT_SECONDS="1") as base:
        port = int(base.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
            closed = slow.recv(1024)
        healthy = httpx.get(f"{base}/healthz", timeout=10)

    assert closed == b""  # the server closed the connection
    assert healthy.status_code == 200
