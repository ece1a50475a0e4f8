"""Pages in Chromium for the browser suites: contexts whose CSP violations, failed assets and assets from
other sites are collected, and screenshots with the checks every page must pass on a phone."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Response
from playwright.sync_api import Error as PlaywrightError

from tests.web.helpers import PHONE

SHOTS = Path("screenshots")


class Screens:
    """Pages of one browser context, with their CSP violations collected."""

    def __init__(self, browser: Browser, base: str, name: str) -> None:
        self.base = base
        self.name = name
        #: CSP violations, failed assets and assets from other sites.
        self.violations: list[str] = []
        self.contexts: list[BrowserContext] = []

    def open(self, browser: Browser, viewport: dict[str, int], locale: str = "fr-FR") -> Page:
        """A new browser context (its own cookies) with one page."""
        context = browser.new_context(
            viewport=viewport, locale=locale, is_mobile=viewport == PHONE, has_touch=True
        )
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", self._console)
        page.on("response", self._response)
        return page

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.violations.append(message.text)

    def _response(self, response: Response) -> None:
        # Pages may answer 4xx (form errors, 404 pages); their assets must all load.
        if response.request.resource_type != "document" and response.status >= 400:
            self.violations.append(f"{response.status} {response.url}")
        if not response.url.startswith(self.base):
            self.violations.append(f"asset from another site: {response.url}")

    def shot(self, page: Page, label: str) -> None:
        """A full-page screenshot, and the checks every page must pass on a phone."""
        SHOTS.mkdir(exist_ok=True)
        for attempt in range(3):
            try:
                page.screenshot(path=str(SHOTS / f"{self.name}-{label}.png"), full_page=True)
                break
            except PlaywrightError as exc:
                # Headless Chromium on two loaded cores now and then has no frame to give yet ("Unable
                # to capture screenshot"); the picture is a record of the page, not what is tested.
                if "Unable to capture screenshot" not in str(exc) or attempt == 2:
                    raise
                page.wait_for_timeout(500)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{label}: the page is {overflow}px wider than the screen"
        assert page.locator("html").get_attribute("lang") in ("fr", "en")
        assert page.locator("h1").count() == 1, label

    def close(self) -> None:
        """Close every context."""
        for context in self.contexts:
            context.close()
