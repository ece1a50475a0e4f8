"""Helpers shared by the page tests: CSRF tokens, form bodies, signing in, a live server, the browser's settings."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest
from app.main import create_app
from app.runtime import Runtime

#: Debian's Chromium, driven by Playwright (never downloaded: ``.ci/browser-deps`` installs the package).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the first form of a page."""
    match = _CSRF.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)


def token_for(client: TestClient, path: str = "/apply") -> str:
    """This client's CSRF token, read from a page."""
    return csrf_of(client.get(path).text)


def text_of(html: str, element_id: str) -> str:
    """The text of the element with ``id`` (no nested tags)."""
    match = re.search(rf'id="{re.escape(element_id)}"[^>]*>([^<]*)<', html)
    assert match, f"no element #{element_id}"
    return match.group(1).strip()


def apply_data(service: str, office: str, **overrides: Any) -> dict[str, Any]:
    """A valid request form."""
    data: dict[str, Any] = {
        "service": service,
        "office_1": office,
        "document_type": "passport",
        "document_number": "P 0123-4567",
        "family_name": "Diallo",
        "given_names": "Aïcha",
        "birth_date": "1990-04-12",
        "email": "aicha@example.org",
        "language": "fr",
    }
    data.update(overrides)
    return data


def request_count(runtime: Runtime) -> int:
    """How many requests the database holds."""
    with session_scope(runtime.engine) as session:
        return int(session.execute(select(func.count()).select_from(AppointmentRequest)).scalar_one())


def apply(client: TestClient, service: str, office: str, **overrides: Any) -> tuple[str, str, str]:
    """Submit the form; returns the request id, the access code and the CSRF token."""
    token = token_for(client)
    response = client.post("/apply", data={"csrf_token": token, **apply_data(service, office, **overrides)})
    assert response.status_code == 201, response.text
    return text_of(response.text, "request-id"), text_of(response.text, "access-code"), token


def sign_in(client: TestClient, key: str, next_page: str = "") -> str:
    """Sign a staff key in; returns the session's new CSRF token."""
    token = token_for(client, "/staff")
    response = client.post("/staff/sign-in", data={"csrf_token": token, "key": key, "next": next_page})
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


@contextmanager
def live_server(runtime: Runtime) -> Iterator[str]:
    """A real uvicorn server on ``runtime`` in a thread, on a free 127.0.0.1 port; yields its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
    )
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(timeout=10)
