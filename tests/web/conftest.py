"""The fixtures every page test shares (the helpers that build forms and read pages are in ``helpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, sync_playwright

from app.main import create_app
from app.runtime import Runtime
from tests.factories import World
from tests.web.helpers import CHROMIUM, CHROMIUM_ARGS, live_server
from tests.web.screens import Screens


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the browser suites of this package (not the session: Playwright's sync
    API runs an event loop in the main thread until it stops, which later ``anyio.run`` calls would meet)."""
    assert CHROMIUM.exists(), "chromium is not installed: run .ci/browser-deps (make test does)"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def server(runtime: Runtime) -> Iterator[str]:
    """A real uvicorn server on the test runtime, in a thread; its base URL."""
    with live_server(runtime) as base:
        yield base


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    """An office, a service and staff keys."""
    return World(client, runtime)


@pytest.fixture
def other_browser(runtime: Runtime) -> Iterator[TestClient]:
    """A second browser on the same app: its own cookies, so its own web session and CSRF token."""
    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        browser.get("/")
        yield browser


@pytest.fixture
def screens(browser: Browser, server: str, request: pytest.FixtureRequest) -> Iterator[Screens]:
    """Screens named after the test."""
    screens = Screens(browser, server, request.node.name.replace("[", "-").rstrip("]"))
    yield screens
    screens.close()
    assert screens.violations == []
