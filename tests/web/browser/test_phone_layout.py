"""On a phone (390 px wide) the header stays small and the status page puts what to do next first: the
booking at the top, the history folded below. Screenshots: screenshots/*-status-phone.png, *-stats-phone.png."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, expect

from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World, auth, days_from
from tests.web.helpers import PHONE
from tests.web.screens import Screens

pytestmark = pytest.mark.browser


def _booked_after_three_draws(world: World, runtime: Runtime) -> dict:
    """An applicant in three draws whose slots did not fit their dates, then offered and booked."""
    today = world.now.date()
    applicant = world.applicant(
        permit_expires_on=days_from(today, 20),
        availability={"earliest": days_from(today, 9), "latest": None, "weekdays": None},
        contact={"email": "aicha@example.org", "phone": "+33612345678"},
    )
    for _ in range(3):  # slots two days ahead: before the applicant's first possible date
        world.release(slots=2, draw_in=timedelta(hours=1))
        runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
        scheduler.tick(runtime)
    starts = (world.now + timedelta(days=10)).isoformat()
    release = world.client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": (world.now + timedelta(hours=1)).isoformat(),
            "slots": [{"starts_at": starts}],
        },
        headers=auth(world.planner),
    )
    assert release.status_code == 201, release.text
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    scheduler.tick(runtime)
    accepted = world.client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    assert len(accepted.json()["draws"]) == 4
    return applicant


def test_a_booked_applicant_sees_the_booking_first_on_a_phone_with_a_compact_header(
    browser: Browser, screens: Screens, client, runtime: Runtime
) -> None:
    world = World(client, runtime)
    applicant = _booked_after_three_draws(world, runtime)

    phone = screens.open(browser, PHONE, locale="en-GB")
    phone.goto(screens.base + f"/status?lang=en&id={applicant['id']}")
    phone.get_by_label("Access code").fill(applicant["access_code"])
    phone.get_by_role("button", name="Show my request").click()
    expect(phone.get_by_role("heading", name="Your appointment")).to_be_visible()
    screens.shot(phone, "status-phone")

    header = phone.locator(".site-header").bounding_box()
    booking = phone.get_by_role("heading", name="Your appointment").bounding_box()
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert header is not None and booking is not None
    assert header["height"] <= PHONE["height"] * 0.15, header
    assert booking["y"] < PHONE["height"] * 0.5, booking  # on the first screen, near its top
    assert height < 2600, height
    history = phone.locator("details.history")
    assert history.count() >= 3
    for i in range(history.count()):
        assert history.nth(i).get_attribute("open") is None  # folded until asked
    phone.get_by_role("heading", name="Draws entered (4)").click()
    expect(phone.locator("#draws-table")).to_be_visible()


def test_the_stats_page_on_a_phone_keeps_its_header_small(
    browser: Browser, screens: Screens, client, runtime
):
    world = World(client, runtime)
    for i in range(12):
        world.applicant(**({"permit_expires_on": days_from(world.now.date(), 10)} if i % 2 else {}))
    world.release(slots=6)
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    scheduler.tick(runtime)

    phone = screens.open(browser, PHONE, locale="en-GB")
    phone.goto(screens.base + "/stats?lang=en")
    expect(phone.locator("figure.chart img").first).to_be_visible()
    screens.shot(phone, "stats-phone")

    header = phone.locator(".site-header").bounding_box()
    assert header is not None and header["height"] <= PHONE["height"] * 0.15, header
