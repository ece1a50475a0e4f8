"""The counter, partner and check screens in real headless Chromium, at phone and desktop widths."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from app.runtime import Runtime
from tests.factories import World, auth, create_key
from tests.web.helpers import DESKTOP, PHONE
from tests.web.screens import Screens

pytestmark = pytest.mark.browser
WIDTHS = [pytest.param(PHONE, id="phone"), pytest.param(DESKTOP, id="desktop")]


@pytest.fixture
def world(client, runtime: Runtime) -> World:
    return World(client, runtime)


def _sign_in(page: Page, base: str, path: str, key: str) -> None:
    page.goto(base + path)
    page.get_by_label("Staff key").fill(key)
    page.get_by_role("button", name="Sign in with the key").click()


def _fill_person(screen: Page, world: World, document: str) -> None:
    page = screen.locator('form[action$="/requests"]')
    page.get_by_label("Service").select_option(world.service)
    page.get_by_label("First choice of office").select_option(world.office)
    page.get_by_label("Type of document").select_option("passport")
    page.get_by_label("Document number").fill(document)
    page.get_by_label("Family name").fill("Haddad")
    page.get_by_label("Given names").fill("Yasmine")
    page.get_by_label("Date of birth", exact=True).fill("1985-07-30")
    page.get_by_role("button", name="File the request").click()


@pytest.mark.parametrize("viewport", WIDTHS)
def test_an_agent_files_at_the_counter_and_gets_the_code_and_the_receipt(
    browser: Browser,
    screens: Screens,
    world: World,
    runtime: Runtime,
    viewport: dict[str, int],
) -> None:
    agent = create_key(runtime, "agent", [world.office])
    page = screens.open(browser, viewport, locale="en-GB")
    _sign_in(page, screens.base, "/counter", agent)
    expect(page.get_by_role("heading", level=1)).to_have_text("Counter intake")
    screens.shot(page, "01-counter")
    _fill_person(page, world, "CT 445566")
    expect(page.locator("#filed-title")).to_contain_text("Yasmine Haddad")
    code = page.locator("#filed-access-code").inner_text().strip()
    assert len(code.replace("-", "")) == 16
    screens.shot(page, "02-filed")
    href = page.locator("#filed-receipt").get_attribute("href")
    assert href is not None
    pdf = page.request.get(screens.base + href)
    assert pdf.status == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.body()[:5] == b"%PDF-"


@pytest.mark.parametrize("viewport", WIDTHS)
def test_a_partner_files_finds_it_in_its_list_and_opens_it(
    browser: Browser,
    screens: Screens,
    world: World,
    runtime: Runtime,
    viewport: dict[str, int],
) -> None:
    partner = create_key(runtime, "partner", [world.office])
    page = screens.open(browser, viewport, locale="en-GB")
    _sign_in(page, screens.base, "/partner", partner)
    expect(page.get_by_text("You have not filed any request yet.")).to_be_visible()
    screens.shot(page, "01-partner-empty")
    _fill_person(page, world, "PT 778899")
    entry = page.locator("#filed-entry").inner_text().strip()
    expect(page.locator("#partner-requests")).to_contain_text(entry)
    screens.shot(page, "02-partner-filed")
    page.get_by_role("link", name="Open the request").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Yasmine Haddad")
    expect(page.locator("#request-status")).to_have_text("Waiting for a draw")
    screens.shot(page, "03-partner-request")


@pytest.mark.parametrize("viewport", WIDTHS)
def test_anyone_checks_an_attestation_from_its_link_or_by_pasting_it(
    browser: Browser,
    screens: Screens,
    world: World,
    client,
    viewport: dict[str, int],
) -> None:
    request = world.applicant()
    got = client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    ).json()
    link = got["check_url"].split("/check", 1)[1]
    page = screens.open(browser, viewport, locale="en-GB")
    page.goto(screens.base + "/check" + link)
    expect(page.locator("#verdict-title")).to_contain_text("Genuine")
    expect(page.locator("#statement-name")).to_contain_text("Aïcha Diallo")  # the factory adds a suffix
    screens.shot(page, "01-check-genuine")
    forged = got["attestation"].replace(".", ".x", 1)
    page.get_by_label("Signed attestation").fill(forged)
    page.get_by_role("button", name="Check", exact=True).click()
    expect(page.locator("#verdict-title")).to_contain_text("Not genuine")
    screens.shot(page, "02-check-forged")
    french = screens.open(browser, viewport)
    french.goto(screens.base + "/check" + link)
    expect(french.locator("#verdict-title")).to_contain_text("Authentique")
