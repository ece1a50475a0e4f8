"""The desk's day in Chromium on a tablet (768 px): a keyboard-wedge scanner, the check-in by hand, an
absence, the downloads and the printed day sheet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, expect

from app.runtime import Runtime
from tests.desk import BIRTH, book, started, urgent
from tests.factories import World
from tests.web.screens import Screens

pytestmark = pytest.mark.browser

TABLET = {"width": 768, "height": 1024}
REFLOW = {"width": 320, "height": 640}
#: The WCAG 2.0 and 2.1 rules of levels A and AA, as the accessibility suite runs them.
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _accessible(page: Page, label: str) -> None:
    """axe-core finds nothing on the page as it stands, and it fits 320 CSS pixels (reflow)."""
    results = page.evaluate("options => axe.run(document, options)", {**RULES, "resultTypes": ["violations"]})
    found = [f"{v['id']} {[n['target'] for n in v['nodes']][:3]}" for v in results["violations"]]
    assert found == [], label
    page.set_viewport_size(REFLOW)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.set_viewport_size(TABLET)
    assert overflow <= 0, f"{label}: {overflow}px wider than 320"


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def _signed_in(screens: Screens, browser: Browser, world: World, locale: str) -> Page:
    page = screens.open(browser, TABLET, locale=locale)
    page.context.add_init_script(script=Axe().axe_script)
    page.goto(screens.base + "/desk")
    page.locator("input[name=key]").fill(world.desk)
    page.locator("input[name=key]").press("Enter")
    expect(page).to_have_url(screens.base + "/desk")
    return page


def test_a_tablet_desk_scans_with_a_keyboard_wedge_checks_in_by_hand_and_marks_an_absence(
    browser: Browser, screens: Screens, world: World, runtime: Runtime
) -> None:
    late, claimed, by_hand, scanned = book(
        world,
        [
            {"document": "LATE0001", "family": "Da Silva"},
            {"document": "CLAIM001", "family": "Nguyễn", **urgent()},
            {"document": "HAND0001", "family": "Müller"},
            {"document": "SCAN0001", "family": '=HYPERLINK("x")'},
        ],
    )
    first = min(started(b) for b in (late, claimed, by_hand, scanned))
    runtime.clock.set(first - timedelta(minutes=30))  # type: ignore[attr-defined]
    page = _signed_in(screens, browser, world, "en-GB")
    expect(page.locator(".day-row")).to_have_count(4)
    expect(page.locator("#desk-token")).to_be_focused()
    screens.shot(page, "desk-tablet")
    _accessible(page, "the day")

    # A keyboard-wedge scanner types the code and presses Enter: the code alone is read, nothing changes.
    page.keyboard.type(scanned["token"])
    page.keyboard.press("Enter")
    expect(page.locator("#scanned")).to_contain_text("=HYPERLINK")
    expect(page.locator("#desk-document_number")).to_be_focused()
    page.keyboard.type("SCAN0001")
    page.locator("#desk-birth_date").fill(BIRTH)
    page.locator("#desk-birth_date").press("Enter")
    expect(page.locator(".verdict--ok #verdict-name")).to_have_text('Samir =HYPERLINK("x")')
    expect(page.locator("#desk-token")).to_be_focused()
    expect(page.locator("#desk-token")).to_have_value("")

    # Claims are asked as soon as the code is read, before "Check in" is pressed.
    page.keyboard.type(claimed["token"])
    page.keyboard.press("Enter")
    expect(page.locator("#claims-to-judge")).to_be_visible()
    page.locator("#desk-document_number").fill("CLAIM001")
    page.locator("#desk-birth_date").fill(BIRTH)
    page.locator("#desk-claim_permit_expiry").get_by_label("The document confirms it").check()
    page.locator("#desk-claim_vulnerability").get_by_label("The document confirms it").check()
    screens.shot(page, "desk-tablet-claims")
    _accessible(page, "a code read, its claims asked")
    page.locator(".scan-form button[type=submit]").click()
    expect(page.locator(".verdict--ok #verdict-name")).to_have_text("Samir Nguyễn")

    # By hand, from the row: a mistyped birth date is refused, the reason on top and what was typed kept.
    row = page.locator(f"#booking-{by_hand['id']}")
    row.locator("summary").click()
    row.get_by_label("Number of the document shown").fill("HAND0001")
    row.get_by_label("Date of birth on the document").fill("1984-03-12")
    row.get_by_role("button", name="Check in").click()
    refusal = page.locator(".verdict--refused")
    expect(refusal).to_be_visible()
    expect(refusal).to_be_focused()
    expect(page.locator("#verdict-reason")).to_contain_text("Check the number and the date of birth")
    row = page.locator(f"#booking-{by_hand['id']}")
    expect(row.get_by_label("Number of the document shown")).to_have_value("HAND0001")
    expect(row.get_by_label("Date of birth on the document")).to_have_value("1984-03-12")
    screens.shot(page, "desk-tablet-refused")
    _accessible(page, "a refusal by hand")
    page.locator("#verdict-checks a").nth(1).click()
    expect(row.get_by_label("Date of birth on the document")).to_be_focused()
    row.get_by_label("Date of birth on the document").fill(BIRTH)
    row.get_by_role("button", name="Check in").click()
    expect(page.locator(".verdict--ok #verdict-name")).to_have_text("Samir Müller")

    # An absence, once its time has come, after a confirmation.
    runtime.clock.set(started(late) + timedelta(minutes=5))  # type: ignore[attr-defined]
    page = _signed_in(screens, browser, world, "en-GB")  # the web session ended while the clock moved
    row = page.locator(f"#booking-{late['id']}")
    row.get_by_role("button", name="Mark absent").click()
    expect(page.locator(f"#confirm-absent-{late['id']}")).to_be_visible()
    _accessible(page, "an absence to confirm")
    page.get_by_role("button", name="Yes, mark absent").click()
    expect(page.locator(".verdict--absent #verdict-name")).to_have_text("Samir Da Silva")
    expect(page.locator(f"#booking-{late['id']} .status-tag")).to_have_text("Absent")
    screens.shot(page, "desk-tablet-after")

    # The search, then the downloads of the rows it keeps.
    page.get_by_label("Family name or entry reference").fill("muller")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".day-row")).to_have_count(1)
    with page.expect_download() as csv_download:
        page.locator("#export-csv").click()
    assert csv_download.value.suggested_filename == f"fairslot-{world.office}-2026-12-03.csv"
    with page.expect_download() as xlsx_download:
        page.locator("#export-xlsx").click()
    assert xlsx_download.value.suggested_filename.endswith(".xlsx")

    # The day sheet, as printed: no header, no forms, a box per person.
    page.locator("#day-sheet").click()
    expect(page.locator("table.day-sheet tbody tr")).to_have_count(4)
    _accessible(page, "the day sheet")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    screens.shot(page, "day-sheet-print")


def test_the_desk_reads_in_french_on_a_tablet(
    browser: Browser, screens: Screens, world: World, runtime: Runtime
) -> None:
    first, _second = book(world, [{"document": "FRAN0001", **urgent()}, {"document": "FRAN0002"}])
    runtime.clock.set(started(first) - timedelta(hours=1))  # type: ignore[attr-defined]
    page = _signed_in(screens, browser, world, "fr-FR")
    expect(page.get_by_role("heading", name="Scanner le code QR")).to_be_visible()
    expect(page.locator("#day-title")).to_have_text("Rendez-vous du 3 décembre 2026")
    row = page.locator(f"#booking-{first['id']}")
    row.locator("summary").click()
    expect(row.locator(".claims-to-judge")).to_be_visible()
    screens.shot(page, "desk-tablet-fr")
    _accessible(page, "the day in French, a row open")
