"""Accessibility audited by a tool: axe-core in headless Chromium on every page, in every language, at two widths.

axe-core is the copy bundled by the ``axe-playwright-python`` package (a dev dependency), injected into each
page; only the WCAG 2.0 and 2.1 rules of levels A and AA run (``RULES``), and the suite allows no violation.
Public and applicant pages are audited in French and Arabic on a phone (390 x 844) and a desktop (1280 x 900),
in English, Spanish, Portuguese and Ukrainian on a phone; staff pages in French (both widths) and English
(phone). Every form is audited in its error state, and each confirmation page too; every page must also fit
320 CSS pixels with no sideways scroll (WCAG 1.4.10, reflow). One Chromium serves the run, and each test
audits from one browser context that is resized, never relaunched.

A keyboard-only journey fills and sends ``/apply`` and accepts the offer on ``/status`` with Tab, Space and
Enter (and typing), checking at every stop that the focus is visible; the error summary takes the focus and
its links lead to their fields. Screenshots of ``/apply`` in Arabic (phone and desktop) and of every audited
page in Arabic on a phone land in the git-ignored ``screenshots/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, BrowserContext, Page, expect

from app.clock import FrozenClock
from app.domain.languages import LANGUAGES, STAFF_LANGUAGES, Language
from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World, named_for
from tests.web.helpers import DESKTOP, PHONE
from tests.web.screens import SHOTS

pytestmark = pytest.mark.browser

REFLOW = {"width": 320, "height": 640}
#: French and Arabic (left to right and right to left) at both widths, the others on a phone.
BOTH_WIDTHS = (Language.FR, Language.AR)
RULES = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
#: Pages a deployment may leave out: audited whenever the app serves them.
LATER_PUBLIC_PAGES = ("/stats", "/check", "/partner")
LATER_STAFF_PAGES = ("/counter", "/claims")


@pytest.fixture(scope="module")
def axe() -> Axe:
    """The axe-core engine (its script is read once)."""
    return Axe()


@pytest.fixture
def context(browser: Browser, axe: Axe) -> Iterator[BrowserContext]:
    """One browser context for the test, resized as it goes; axe-core is loaded into every page it opens."""
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    context.add_init_script(script=axe.axe_script)
    yield context
    context.close()


def widths(lang: str) -> list[dict[str, int]]:
    """The screen sizes a page in ``lang`` is audited at."""
    return [PHONE, DESKTOP] if lang in BOTH_WIDTHS else [PHONE]


@dataclass
class Audit:
    """axe-core runs over many pages; the violations found, by page, language and width."""

    violations: list[str] = field(default_factory=list)
    audited: list[str] = field(default_factory=list)

    def check(self, page: Page, label: str, lang: str) -> None:
        """Audit ``page`` as it stands at each width of ``lang``; note overflow on a phone too."""
        for size in widths(lang):
            page.set_viewport_size(size)
            where = f"{label} [{lang} {size['width']}]"
            self.audited.append(where)
            results = page.evaluate(
                "options => axe.run(document, options)", {**RULES, "resultTypes": ["violations"]}
            )
            for violation in results["violations"]:
                targets = [" ".join(node["target"]) for node in violation["nodes"]][:3]
                self.violations.append(f"{where}: {violation['id']} ({violation['impact']}) {targets}")
            if lang == Language.AR and size == PHONE:  # right to left is worth a look by a person
                SHOTS.mkdir(exist_ok=True)
                name = "".join(c if c.isalnum() else "-" for c in label)
                page.screenshot(path=str(SHOTS / f"ar-phone-{name}.png"), full_page=True)
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if overflow > 0:
                self.violations.append(f"{where}: the page is {overflow}px wider than the screen")
        # WCAG 1.4.10 (reflow): content fits 320 CSS pixels wide with no sideways scroll
        page.set_viewport_size(REFLOW)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            self.violations.append(f"{label} [{lang} 320]: the page is {overflow}px wider than the screen")
        page.set_viewport_size(PHONE)


def _served(client: TestClient, paths: tuple[str, ...]) -> list[str]:
    """Those of ``paths`` the app has a page for (an unknown path answers a JSON problem)."""
    return [p for p in paths if client.get(p).headers.get("content-type", "").startswith("text/html")]


def _draw(runtime: Runtime) -> int:
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(hours=2))
    report = scheduler.tick(runtime)
    assert report.draws
    return report.draws[-1]


def _fill_apply(page: Page, world: World, number: int, lang: str) -> None:
    page.locator("select[name=service]").select_option(world.service)
    page.locator("select[name=office_1]").select_option(world.office)
    page.locator("select[name=document_type]").select_option("passport")
    page.locator("input[name=document_number]").fill(f"P{number:08d}")
    page.locator("input[name=family_name]").fill(named_for("Diallo", f"P{number:08d}"))  # a person each
    page.locator("input[name=given_names]").fill("Aïcha")
    page.locator("input[name=birth_date]").fill("1990-04-12")
    page.locator("input[name=email]").fill("aicha@example.org")
    page.locator("select[name=language]").select_option(lang)


def _open_status(page: Page, server: str, applicant: Applicant) -> None:
    page.goto(f"{server}/status?lang={applicant.lang}&id={applicant.request_id}")
    page.locator("input[name=access_code]").fill(applicant.access_code)
    _submit(page)


def _submit(page: Page) -> None:
    page.locator("main form button[type=submit]").last.click()


@dataclass
class Applicant:
    """One request made through the pages."""

    lang: str
    request_id: str
    access_code: str


def test_every_applicant_and_public_page_passes_axe_in_every_language(
    context: BrowserContext, server: str, client: TestClient, runtime: Runtime
) -> None:
    world = World(client, runtime)
    world.release(slots=len(LANGUAGES))
    audit = Audit()
    page = context.new_page()
    applicants: list[Applicant] = []
    for number, lang in enumerate(LANGUAGES):
        page.goto(f"{server}/?lang={lang}")
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.locator("html")).to_have_attribute("dir", lang.direction)
        audit.check(page, "home", lang)
        page.goto(server + "/apply")
        audit.check(page, "apply", lang)
        if lang == Language.AR:
            SHOTS.mkdir(exist_ok=True)
            for size, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
                page.set_viewport_size(size)
                page.screenshot(path=str(SHOTS / f"apply-ar-{name}.png"), full_page=True)
            page.set_viewport_size(PHONE)
        _submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "apply, errors", lang)
        _fill_apply(page, world, number, lang)
        _submit(page)
        expect(page.locator("#access-code")).to_be_visible()
        audit.check(page, "confirmation", lang)
        applicants.append(
            Applicant(
                lang,
                page.locator("#request-id").inner_text().strip(),
                page.locator("#access-code").inner_text().strip(),
            )
        )
        page.goto(server + "/status")
        audit.check(page, "status lookup", lang)
        page.locator("input[name=request_id]").fill(applicants[-1].request_id)
        page.locator("input[name=access_code]").fill("wrong")
        _submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "status lookup, error", lang)
        page.goto(server + "/accessibility")
        audit.check(page, "accessibility", lang)
        page.goto(server + "/draws/424242")
        audit.check(page, "not found", lang)
        for path in _served(client, LATER_PUBLIC_PAGES):
            page.goto(server + path)
            audit.check(page, path, lang)

    draw_id = _draw(runtime)
    for applicant in applicants:
        lang = applicant.lang
        _open_status(page, server, applicant)
        expect(page.locator("#offer-title")).to_be_visible()
        audit.check(page, "status, offer", lang)
        page.locator("form[action='/status/accept'] button").click()
        expect(page.locator("#booking-qr")).to_be_visible()
        audit.check(page, "status, booked", lang)
        page.locator("form[action='/status/print'] button").click()
        expect(page.locator("img.qr")).to_be_visible()
        audit.check(page, "print", lang)
        _open_status(page, server, applicant)
        page.locator("form[action='/status/cancel'] button").click()
        audit.check(page, "cancel, confirm", lang)
        page.goto(f"{server}/draws/{draw_id}")
        audit.check(page, "draw", lang)

    assert len(audit.audited) > 100
    assert audit.violations == []


def test_staff_pages_pass_axe_in_french_and_english(
    context: BrowserContext, server: str, client: TestClient, runtime: Runtime
) -> None:
    assert _served(client, ("/accessibility", "/nowhere")) == ["/accessibility"]
    world = World(client, runtime)
    world.release()
    audit = Audit()
    page = context.new_page()
    for lang in STAFF_LANGUAGES:
        page.goto(f"{server}/staff?lang={lang}")
        audit.check(page, "staff sign-in", lang)
        for path in _served(client, LATER_STAFF_PAGES):
            page.goto(server + path)
            audit.check(page, path, lang)
        page.goto(f"{server}/staff?lang={lang}")  # sign in from the staff page, not the last one audited
        page.locator("input[name=key]").fill("fsk_wrong")
        _submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "staff sign-in, error", lang)
        page.locator("input[name=key]").fill(world.planner)
        _submit(page)
        expect(page.locator("#release-draw_at")).to_be_visible()
        audit.check(page, "staff home", lang)
        page.locator("form[action='/staff/releases'] button[type=submit]").click()
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "staff, release errors", lang)
        page.goto(f"{server}/staff/calendar?lang={lang}")
        expect(page.locator("#week")).to_be_visible()
        audit.check(page, "staff calendar", lang)
        page.goto(f"{server}/staff/schedules?lang={lang}")
        audit.check(page, "staff schedules", lang)
        page.goto(f"{server}/staff?lang={lang}")
        _sign_out(page)
        page.goto(server + "/staff")
        page.locator("input[name=key]").fill(world.admin)
        _submit(page)
        audit.check(page, "staff, admin", lang)
        _sign_out(page)
        page.goto(server + "/desk")
        page.locator("input[name=key]").fill(world.desk)
        _submit(page)
        expect(page.locator("#desk-token")).to_be_visible()
        audit.check(page, "desk", lang)
        page.locator("button.button--large").click()
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "desk, errors", lang)
        page.locator("#desk-token").fill("not-a-token")
        page.locator("#desk-document_number").fill("P01234567")
        page.locator("#desk-birth_date").fill("1990-04-12")
        page.locator("button.button--large").click()
        expect(page.locator(".verdict--refused")).to_be_visible()
        audit.check(page, "desk, refused", lang)
        _sign_out(page)

    assert audit.violations == []


def test_staff_account_pages_pass_axe_in_french_and_english(
    context: BrowserContext, server: str, client: TestClient, runtime: Runtime
) -> None:
    """The invitation page, the sign-in with a password and code, one's account, the admins' account pages
    and the audit log."""
    from tests.staff_accounts import code, invitation_path, invite

    world = World(client, runtime)
    world.release()
    audit = Audit()
    page = context.new_page()
    for number, lang in enumerate(STAFF_LANGUAGES):
        email = f"admin{number}@example.org"
        created = invite(client, world.admin, email, [{"role": "admin", "offices": []}], name="Ada Admin")
        page.goto(f"{server}{invitation_path(created['invitation_url'])}?lang={lang}")
        audit.check(page, "invitation", lang)
        _submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "invitation, errors", lang)
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.locator("#invitation-password").fill("a long enough passphrase")
        page.locator("#invitation-password_again").fill("a long enough passphrase")
        page.locator("#invitation-code").fill(code(secret, runtime.clock.now()))
        _submit(page)
        expect(page.locator(".staff-bar")).to_be_visible()
        _sign_out(page)
        page.goto(f"{server}/staff/sign-in?lang={lang}")
        page.locator("#person-email").fill(email)
        page.locator("#person-password").fill("wrong")
        page.locator("#person-code").fill("000000")
        page.locator("form[action='/staff/sign-in'] button[type=submit]").first.click()
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "staff sign-in, refused", lang)
        runtime.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
        page.locator("#person-password").fill("a long enough passphrase")
        page.locator("#person-code").fill(code(secret, runtime.clock.now()))
        page.locator("form[action='/staff/sign-in'] button[type=submit]").first.click()
        expect(page.locator(".staff-bar")).to_be_visible()
        for path in ("/staff/account", "/staff/accounts", f"/staff/accounts/{created['id']}", "/staff/audit"):
            page.goto(f"{server}{path}?lang={lang}")
            audit.check(page, path, lang)
        page.goto(f"{server}/staff/accounts?lang={lang}")
        _submit(page)
        expect(page.locator(".error-summary")).to_be_visible()
        audit.check(page, "staff accounts, errors", lang)
        page.goto(f"{server}/staff/audit?lang={lang}&from=soon")
        audit.check(page, "audit, errors", lang)
        _sign_out(page)

    assert audit.violations == []


def _sign_out(page: Page) -> None:
    page.locator("form[action='/staff/sign-out'] button").first.click()


# Keyboard only -------------------------------------------------------------------------------------------

#: Whether the focused element shows it: an outline of at least 2px drawn around it.
_FOCUS_SHOWN = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return "nothing focused";
  const s = getComputedStyle(e);
  const drawn = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2;
  return drawn ? "" : `${e.tagName}#${e.id} shows no focus`;
}"""
_MAX_TABS = 120


def _focused(page: Page, selector: str) -> bool:
    return bool(page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector))


def _tab_to(page: Page, selector: str) -> None:
    """Press Tab until ``selector`` has the focus, checking at every stop that the focus is visible."""
    for _ in range(_MAX_TABS):
        page.keyboard.press("Tab")
        assert page.evaluate(_FOCUS_SHOWN) == ""
        if _focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _type_into(page: Page, selector: str, text: str) -> None:
    _tab_to(page, selector)
    page.keyboard.type(text)


def _choose(page: Page, selector: str, option_text: str) -> None:
    """Pick an option of a focused select by typing its first letters, as a keyboard user does."""
    _tab_to(page, selector)
    page.keyboard.type(option_text)


def test_a_keyboard_alone_applies_and_accepts_an_offer_with_the_focus_always_visible(
    context: BrowserContext, server: str, client: TestClient, runtime: Runtime
) -> None:
    world = World(client, runtime)
    world.release()
    page = context.new_page()
    page.goto(server + "/apply?lang=en")

    # A first try with a missing answer: the summary takes the focus and its links lead to the fields.
    _type_into(page, "#f-document_number", "P 0123-4567")
    page.keyboard.press("Enter")
    expect(page.locator(".error-summary")).to_be_focused()
    _tab_to(page, ".error-summary a[href='#f-service']")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#f-service$"))  # waits for the jump, as a person would
    expect(page.locator("#f-service")).to_be_focused()

    service = page.locator("#f-service option").nth(1).inner_text()
    office = page.locator("#f-office_1 option").nth(1).inner_text()
    page.keyboard.type(service)
    _choose(page, "#f-office_1", office)
    _choose(page, "#f-document_type", "Passport")
    _type_into(page, "#f-family_name", "Diallo")
    _type_into(page, "#f-given_names", "Aïcha")
    _type_into(page, "#f-birth_date", "04121990")  # the date field takes the digits in its own order
    _tab_to(page, "#f-vulnerabilities-pregnancy")
    page.keyboard.press("Space")
    _type_into(page, "#f-email", "aicha@example.org")
    _tab_to(page, "main form button[type=submit]")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text("Your request is received")
    expect(page.get_by_text("Pregnancy", exact=False).first).to_be_visible()
    request_id = page.locator("#request-id").inner_text().strip()
    access_code = page.locator("#access-code").inner_text().strip()
    _draw(runtime)

    _tab_to(page, "a[href^='/status?id=']")
    page.keyboard.press("Enter")
    expect(page.locator("#f-request_id")).to_have_value(request_id)
    _type_into(page, "#f-access_code", access_code)
    page.keyboard.press("Enter")
    expect(page.locator("#offer-title")).to_be_visible()
    _tab_to(page, "form[action='/status/accept'] button")
    page.keyboard.press("Space")
    expect(page.locator("#request-status")).to_have_text("Appointment booked")
    expect(page.locator("#booking-qr")).to_be_visible()
