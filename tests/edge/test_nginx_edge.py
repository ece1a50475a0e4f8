"""The production edge for real: Debian's nginx, with the configuration ``fairslot edge-config`` prints, in
front of a real ``fairslot serve`` on 127.0.0.1, each on a free port.

Clients bind their own loopback source addresses (127.0.1.x, 127.0.2.x) so that the edge and the application
see distinct clients, as production would.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.db.migrations import upgrade
from app.web import STATIC_DIR
from tests.conftest import TEST_SECRET
from tests.edge.tls import self_signed

pytestmark = [
    pytest.mark.once,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("nginx") is None, reason="needs nginx (.ci/edge-deps installs it)"),
]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``url`` until it answers 200; fail when the process exits or a minute passes."""
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        assert process.poll() is None, f"{what} exited"
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.1)


def client_from(address: str, verify: str | bool = True) -> httpx.Client:
    """An HTTP client whose connections leave from ``address`` (a loopback address of 127.0.0.0/8)."""
    return httpx.Client(transport=httpx.HTTPTransport(local_address=address, verify=verify), timeout=10)


@dataclass(frozen=True)
class Edge:
    """nginx's base URL, the application's own, and the application's log (one line per request)."""

    url: str
    app_url: str
    app_log: Path
    config: str


def _start(command: list[str], *, cwd: Path, log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=20)


def edge_config(*args: str) -> str:
    """What ``fairslot edge-config`` prints for ``args``."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "edge-config", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def nginx_prefix(root: Path) -> Path:
    """A prefix directory nginx's workers may enter (they run as nobody when the master runs as root)."""
    prefix = root / "nginx"
    prefix.mkdir()
    for directory in (root, prefix):
        directory.chmod(0o755)
    return prefix


def readable_static(root: Path) -> Path:
    """A copy of the application's static files that nginx's workers may read: they run as nobody, and a
    checkout under a private directory (``mktemp -d`` makes it 0700) is closed to them, as an operator's
    home directory would be; ``--static-root`` points the edge at the copy."""
    target = root / "static"
    shutil.copytree(STATIC_DIR, target)
    for path in [target, *target.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return target


@pytest.fixture(scope="module")
def edge() -> Iterator[Edge]:
    """``fairslot serve`` (one process, rate limits on, SQLite) behind nginx."""
    root = Path(tempfile.mkdtemp(prefix="fairslot-edge-"))
    database_url = f"sqlite:///{root / 'fairslot.db'}"
    upgrade(database_url)
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_RATE_LIMITS": "on",
        "FAIRSLOT_TRUSTED_PROXIES": "127.0.0.1",
        "FAIRSLOT_BEACON_CHAIN": "none",
    }
    env.pop("FAIRSLOT_REDIS_URL", None)
    app_port, edge_port = free_port(), free_port()
    app_log = root / "app.log"
    server = _start(
        [sys.executable, "-m", "app.cli", "serve", "--no-scheduler", "--port", str(app_port)],
        cwd=root,
        log=app_log,
        env=env,
    )
    nginx = None
    try:
        wait_until_up(f"http://127.0.0.1:{app_port}/healthz", server, "fairslot serve")
        config = edge_config(
            "--listen",
            f"127.0.0.1:{edge_port}",
            "--upstream",
            f"127.0.0.1:{app_port}",
            "--static-root",
            str(readable_static(root)),
        )
        (root / "nginx.conf").write_text(config)
        nginx = _start(
            ["nginx", "-p", str(nginx_prefix(root)), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
            cwd=root,
            log=root / "nginx.out",
            env=env,
        )
        wait_until_up(f"http://127.0.0.1:{edge_port}/healthz", nginx, "nginx")
        yield Edge(f"http://127.0.0.1:{edge_port}", f"http://127.0.0.1:{app_port}", app_log, config)
    finally:
        if nginx is not None:
            _stop(nginx)
        _stop(server)
        shutil.rmtree(root, ignore_errors=True)


def logged_clients(edge: Edge, path: str) -> list[str]:
    """The client addresses the application logged for requests to ``path``."""
    pattern = re.compile(rf'INFO:\s+(\S+):\d+ - "\w+ {re.escape(path)} HTTP')
    return [m.group(1) for m in pattern.finditer(edge.app_log.read_text(errors="replace"))]


def test_an_answer_passes_through_the_edge_as_the_application_gave_it(edge: Edge) -> None:
    with client_from("127.0.2.1") as client:
        through = client.get(f"{edge.url}/api/v1/offices")
        direct = client.get(f"{edge.app_url}/api/v1/offices")

    assert through.status_code == direct.status_code == 200
    assert through.json() == direct.json()
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy"):
        assert through.headers[header] == direct.headers[header]
    assert "uvicorn" not in through.headers.get("server", "")


def test_the_application_sees_the_connecting_address_not_what_the_client_claims(edge: Edge) -> None:
    with client_from("127.0.2.17") as client:
        assert client.get(f"{edge.url}/readyz", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 200
    with client_from("127.0.2.18") as client:  # not a trusted proxy: its header is ignored
        direct = client.get(f"{edge.app_url}/api/v1/services", headers={"X-Forwarded-For": "203.0.113.9"})
        assert direct.status_code == 200

    assert "127.0.2.17" in logged_clients(edge, "/readyz")
    assert logged_clients(edge, "/api/v1/services") == ["127.0.2.18"]
    assert "203.0.113.9" not in edge.app_log.read_text(errors="replace")


def flood(
    url: str, address: str, count: int, *, seconds: float = 3.0, **request: Any
) -> list[httpx.Response | None]:
    """``count`` POSTs to ``url`` at once from ``address``; None for each one still held after ``seconds``."""

    async def all_at_once() -> list[httpx.Response | None]:
        transport = httpx.AsyncHTTPTransport(local_address=address)
        limits = httpx.Limits(max_connections=count)
        async with httpx.AsyncClient(transport=transport, limits=limits, timeout=seconds) as client:

            async def one() -> httpx.Response | None:
                try:
                    return await client.post(url, **request)
                except httpx.TimeoutException:
                    return None

            return list(await asyncio.gather(*(one() for _ in range(count))))

    return asyncio.run(all_at_once())


def test_a_flood_of_submissions_from_one_address_is_held_then_refused_with_problem_json_at_the_edge(
    edge: Edge,
) -> None:
    answers = flood(f"{edge.url}/api/v1/requests", "127.0.1.5", 60, json={})
    with client_from("127.0.2.5") as person:
        other = person.post(f"{edge.url}/api/v1/requests", json={})

    refused = [a for a in answers if a is not None and a.status_code == 429]
    passed = [a for a in answers if a is not None and a.status_code == 422]  # reached the application
    held = [a for a in answers if a is None]
    assert len(refused) >= 15, [a and a.status_code for a in answers]
    assert 4 <= len(passed) <= 10  # the burst, and what the rate let through meanwhile
    assert held, "a flood's connections are held and paced, not all answered at once"
    for answer in refused:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["retry-after"] == "2"
        assert answer.json()["code"] == "rate_limited"
        assert answer.json()["status"] == 429
        assert "(edge)" in answer.json()["detail"]
        assert answer.headers["x-content-type-options"] == "nosniff"
    assert other.status_code == 422  # another address has its own budget
    assert logged_clients(edge, "/api/v1/requests").count("127.0.1.5") >= len(passed)


def test_one_time_code_routes_have_a_tighter_budget_and_pages_get_a_page(edge: Edge) -> None:
    url = f"{edge.url}/api/v1/requests/00000000-0000-0000-0000-000000000000/phone-code"
    codes = flood(url, "127.0.1.6", 30)
    with client_from("127.0.1.6") as bot:
        pages = [bot.post(f"{edge.url}/status/phone-code", data={"request_id": "x"}) for _ in range(3)]

    refused = [a for a in codes if a is not None and a.status_code == 429]
    assert 5 <= len(refused) <= 15  # a burst of 10 passes, 10 more are held
    assert refused[0].headers["retry-after"] == "6"
    assert refused[0].json()["code"] == "rate_limited"
    assert all(p.status_code == 429 for p in pages)
    assert pages[0].headers["content-type"] == "text/html; charset=utf-8"
    assert "Too many requests" in pages[0].text
    assert pages[0].headers["retry-after"] == "6"


def test_static_files_are_served_by_nginx_compressed(edge: Edge) -> None:
    with client_from("127.0.2.2") as client:
        css = client.get(f"{edge.url}/static/fairslot.css", headers={"Accept-Encoding": "gzip"})
        raw = client.stream("GET", f"{edge.url}/static/fairslot.css", headers={"Accept-Encoding": "gzip"})
        with raw as response:
            compressed = b"".join(response.iter_raw())

    assert css.status_code == 200
    assert css.headers["content-encoding"] == "gzip"
    assert css.headers["content-type"].startswith("text/css")
    assert css.content == (STATIC_DIR / "fairslot.css").read_bytes()
    assert gzip.decompress(compressed) == css.content
    assert css.headers["x-content-type-options"] == "nosniff"
    assert "/static/fairslot.css" not in edge.app_log.read_text(errors="replace")  # nginx served it


def test_json_answers_are_compressed_and_pages_are_not(edge: Edge) -> None:
    with client_from("127.0.2.3") as client:
        spec = client.get(f"{edge.url}/openapi.json", headers={"Accept-Encoding": "gzip"})
        page = client.get(f"{edge.url}/apply", headers={"Accept-Encoding": "gzip"})

    assert spec.headers["content-encoding"] == "gzip"
    assert spec.json()["info"]["title"] == "Fairslot"
    assert page.status_code == 200
    assert "content-encoding" not in page.headers  # pages hold CSRF tokens: no compression (BREACH)


def test_bodies_are_held_to_the_applications_limits_at_the_edge(edge: Edge) -> None:
    just_over = b"x" * (64 * 1024 + 1)
    with client_from("127.0.2.4") as client:
        intake = client.post(f"{edge.url}/api/v1/requests", content=just_over)
        release = client.post(
            f"{edge.url}/api/v1/releases",
            content=b"x" * (200 * 1024),
            headers={"content-type": "application/json"},
        )
        huge_release = client.post(f"{edge.url}/api/v1/releases", content=b"x" * (512 * 1024 + 1))

    assert intake.status_code == 413
    assert intake.headers["content-type"] == "application/problem+json"
    assert intake.json()["code"] == "payload_too_large"
    assert release.status_code in (400, 401)  # passed the edge: the application answered
    assert huge_release.status_code == 413
    assert huge_release.json()["code"] == "payload_too_large"


def test_an_application_that_is_down_answers_problem_json_503_from_the_edge() -> None:
    root = Path(tempfile.mkdtemp(prefix="fairslot-edge-down-"))
    port = free_port()
    try:
        config = edge_config("--listen", f"127.0.0.1:{port}", "--upstream", f"127.0.0.1:{free_port()}")
        (root / "nginx.conf").write_text(config)
        nginx = _start(
            ["nginx", "-p", str(nginx_prefix(root)), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
            cwd=root,
            log=root / "nginx.out",
            env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/offices", timeout=5)
                    break
                except httpx.HTTPError:
                    assert nginx.poll() is None and time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
        finally:
            _stop(nginx)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    assert answer.status_code == 503
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "unavailable"
    assert answer.headers["retry-after"] == "5"


def test_tls_is_terminated_at_the_edge_and_the_application_learns_the_scheme(edge: Edge) -> None:
    root = Path(tempfile.mkdtemp(prefix="fairslot-edge-tls-"))
    port = free_port()
    try:
        cert, key = self_signed(root)
        upstream = edge.app_url.removeprefix("http://")
        config = edge_config(
            "--listen",
            f"127.0.0.1:{port}",
            "--upstream",
            upstream,
            "--tls-cert",
            str(cert),
            "--tls-key",
            str(key),
            "--static-root",
            str(readable_static(root)),
        )
        (root / "nginx.conf").write_text(config)
        nginx = _start(
            ["nginx", "-p", str(nginx_prefix(root)), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
            cwd=root,
            log=root / "nginx.out",
            env=dict(os.environ),
        )
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with client_from("127.0.2.9", verify=str(cert)) as client:
                        offices = client.get(f"https://127.0.0.1:{port}/api/v1/offices")
                        css = client.get(f"https://127.0.0.1:{port}/static/fairslot.css")
                    break
                except httpx.ConnectError:
                    assert nginx.poll() is None and time.monotonic() < deadline, "nginx did not start"
                    time.sleep(0.1)
        finally:
            _stop(nginx)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    assert offices.status_code == 200
    assert offices.json() == []
    assert css.headers["strict-transport-security"].startswith("max-age=")
