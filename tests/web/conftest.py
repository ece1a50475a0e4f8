"""The fixtures every page test shares (the helpers that build forms and read pages are in ``helpers.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.runtime import Runtime
from tests.factories import World


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
