"""``/docs`` renders under the service's own Content-Security-Policy, from its own assets."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser

from tests.web.helpers import DESKTOP
from tests.web.screens import Screens

CSP = "script-src 'self'"


def test_the_docs_page_loads_only_its_own_scripts(client: TestClient) -> None:
    page = client.get("/docs")
    asset = client.get("/docs/assets/swagger-ui-bundle.js")
    start = client.get("/docs/start.js")

    assert page.status_code == 200
    assert CSP in page.headers["content-security-policy"]
    assert "cdn." not in page.text and "<script>" not in page.text  # no third party, no inline script
    assert asset.status_code == 200 and start.status_code == 200
    assert "SwaggerUIBundle" in start.text


@pytest.mark.browser
def test_swagger_ui_renders_the_api_under_the_csp(browser: Browser, server: str) -> None:
    screens = Screens(browser, server, "docs")
    try:
        page = screens.open(browser, DESKTOP, locale="en-GB")
        page.goto(f"{server}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
        title = page.locator(".swagger-ui .info .title").inner_text()
        operations = page.locator(".opblock").count()
    finally:
        screens.close()

    assert "Fairslot" in title
    assert operations > 10
    assert screens.violations == []
