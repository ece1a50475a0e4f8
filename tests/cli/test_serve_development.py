"""``fairslot serve`` as a newcomer runs it (development, another port than 8000): each SMS and e-mail is
written to its log and listed on ``/dev/messages``, and every link points where the server listens."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader

from tests.cli.test_serve import _free_port
from tests.conftest import TEST_SECRET
from tests.factories import create_key, create_release, request_body
from tests.verified import phone_world

pytestmark = [pytest.mark.slow, pytest.mark.once]


@dataclass
class Served:
    """A running ``fairslot serve``: its base URL and what it printed so far."""

    base: str
    stdout: Path
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def printed(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")


@contextmanager
def development_server(database_url: str, cwd: Path, port: int) -> Iterator[Served]:
    """``fairslot serve --port PORT`` with its scheduler, in development, without FAIRSLOT_PUBLIC_URL."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")},
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_ENV": "development",
        "FAIRSLOT_BEACON_CHAIN": "none",
        "FAIRSLOT_SCHEDULER_INTERVAL_SECONDS": "0.2",
    }
    served = Served(f"http://127.0.0.1:{port}", cwd / "stdout.txt", cwd / "stderr.txt")
    with served.stdout.open("wb") as out, served.stderr.open("wb") as err:
        server = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--no-access-log"],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=err,
        )
        try:
            _wait(lambda: _healthy(served.base), server, "the server did not start")
            yield served
        finally:
            server.terminate()
            server.wait(timeout=20)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/healthz", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(ready: Callable[[], Any], server: subprocess.Popen[bytes] | None = None, what: str = "") -> Any:
    deadline = time.monotonic() + 60
    while True:
        found = ready()
        if found:
            return found
        assert server is None or server.poll() is None, "the server exited"
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def _code_on_page(base: str) -> str | None:
    page = httpx.get(f"{base}/dev/messages?lang=en", timeout=5).text
    found = re.search(r'<span class="code-box" dir="ltr">(\d{6})</span>', page)
    return found.group(1) if found else None


def test_a_newcomer_reads_the_code_in_the_log_and_on_the_messages_page_and_links_use_the_port(
    client: Any, runtime: Any, tmp_path: Path
) -> None:
    world = phone_world(client, runtime)
    port = _free_port()
    while port == 8000:
        port = _free_port()
    with development_server(runtime.settings.database_url, tmp_path, port) as served:
        base = served.base
        live = httpx.Client(base_url=base, timeout=30)
        # Every URL a newcomer looks for is printed, on this port.
        for path in ("/apply", "/status", "/docs", "/staff", "/desk", "/counter", "/partner", "/claims"):
            assert f"{base}{path}" in served.printed()
        assert f"{base}/dev/messages" in served.printed()
        assert 'href="/dev/messages"' in live.get("/?lang=en").text

        body = request_body(world.service, [world.office], contact={"phone": "06 12 34 56 78"})
        filed = live.post("/api/v1/requests", json=body)
        assert filed.status_code == 201, filed.text
        request = filed.json()
        bearer = {"Authorization": f"Bearer {request['access_code']}"}
        assert live.post(f"/api/v1/requests/{request['id']}/phone-code", headers=bearer).status_code == 202

        code = _wait(lambda: _code_on_page(base), what="no code on /dev/messages")
        _wait(lambda: code in served.log(), what="the code never reached the log")
        verified = live.post(
            f"/api/v1/requests/{request['id']}/phone-verification", json={"code": code}, headers=bearer
        )
        assert verified.status_code == 200, verified.text
        assert "sms to +33612345678: " in served.log()

        # The request is drawn; the offer's SMS and e-mail link to this port.
        planner = create_key(runtime, "planner", [world.office])
        release = create_release(
            live,
            planner,
            office=world.office,
            service=world.service,
            now=datetime.now(UTC),
            draw_in=timedelta(seconds=1),
        )
        offered = _wait(
            lambda: "offer_made" in live.get(f"/api/v1/requests/{request['id']}", headers=bearer).text,
            what="the request was never offered",
        )
        assert offered
        _wait(lambda: "Appointment offered" in live.get("/dev/messages?lang=en").text, what="no offer sent")
        messages = live.get("/dev/messages?lang=en").text
        assert f"{base}/status?id={request['id']}" in messages
        assert "127.0.0.1:8000" not in messages + served.log()

        # The attestation's issuer and its /check link, whatever Host the request names.
        spoofed = {**bearer, "Host": "evil.example"}
        attestation = live.get(f"/api/v1/requests/{request['id']}/attestation", headers=spoofed).json()
        assert attestation["statement"]["iss"] == base
        assert attestation["check_url"].startswith(f"{base}/check?d=")
        receipt = live.get(f"/api/v1/requests/{request['id']}/receipt.pdf", headers=spoofed)
        assert receipt.status_code == 200
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(receipt.content)).pages)
        assert f"{base}/check" in re.sub(r"\s+", "", text)
        assert "8000" not in text

        # The draw page's verify-draw command.
        draw_id = live.get(f"/api/v1/releases/{release['id']}").json()["draw_id"]
        draw_page = live.get(f"/draws/{draw_id}", headers={"Host": "evil.example"}).text
        assert f"fairslot verify-draw {base}/api/v1/draws/{draw_id}" in draw_page


def test_the_worker_refuses_to_start_without_a_public_url(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "worker", "--once"],
        env={
            **env,
            "FAIRSLOT_SECRET_KEY": TEST_SECRET,
            "FAIRSLOT_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "FAIRSLOT_PUBLIC_URL" in result.stderr


def test_production_refuses_to_serve_without_a_public_url_and_says_why(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAIRSLOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(_free_port())],
        env={**env, "FAIRSLOT_ENV": "production", "FAIRSLOT_SECRET_KEY": "x" * 48},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "FAIRSLOT_PUBLIC_URL must be set in production" in result.stderr
    assert "Traceback" not in result.stderr
