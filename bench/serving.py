"""Serving Fairslot for an HTTP benchmark: a free port, waiting for a process to answer, the one office and
service the floods file into."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx
from sqlalchemy import create_engine, text


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    """Until ``url`` answers below 500 (60 s at most); fails at once if ``process`` exits meanwhile."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the process exited")
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def seed_catalogue(url: str) -> None:
    """The office ``bench`` and the service ``bench`` (no entry verification), straight into the database."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO office (code, name, timezone, created_at) VALUES ('bench', 'Bench', 'Europe/Paris', now())"
            )
        )
        conn.execute(
            text(
                "INSERT INTO service (code, name, slot_minutes, weight_policy, created_at) VALUES ('bench', "
                "'Bench', 20, '{\"entry_verification\": \"none\"}', now())"
            )
        )
    engine.dispose()
