"""``/stats`` in real headless Chromium on a phone: charts load as images, no script, no CSP violation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World, days_from
from tests.web.helpers import PHONE
from tests.web.screens import Screens

pytestmark = pytest.mark.browser


def test_the_stats_page_draws_its_charts_on_a_phone_without_javascript(
    browser: Browser,
    screens: Screens,
    client,
    runtime: Runtime,
) -> None:
    world = World(client, runtime)
    for i in range(12):
        world.applicant(**({"permit_expires_on": days_from(world.now.date(), 10)} if i % 2 else {}))
    world.release(slots=6)
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    scheduler.tick(runtime)

    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    screens.contexts.append(context)
    phone = context.new_page()
    phone.on("response", screens._response)
    phone.goto(screens.base + "/stats?lang=en")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("Statistics")
    expect(phone.get_by_role("heading", name="Test office · Test service")).to_be_visible()
    charts = phone.locator("figure.chart img")
    expect(charts).to_have_count(3)
    for i in range(3):
        chart = charts.nth(i)
        chart.scroll_into_view_if_needed()
        expect(chart).to_be_visible()
        assert chart.evaluate("img => img.complete && img.naturalWidth") > 0  # decoded: a real SVG image
        box = chart.bounding_box()
        assert box is not None and 300 < box["width"] <= PHONE["width"]
    loaded = [
        r
        for r in ("urgency", "months", "offices")
        if phone.request.get(screens.base + f"/stats/charts/{r}.svg").ok
    ]
    assert loaded == ["urgency", "months", "offices"]
    screens.shot(phone, "stats-phone")

    phone.goto(screens.base + "/stats?lang=en&since=2026-13")
    expect(phone.locator("#stats-error")).to_contain_text("YYYY-MM")
    screens.shot(phone, "stats-bad-month")
