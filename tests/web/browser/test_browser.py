"""The pages in real headless Chromium (Debian's package, driven by Playwright): journeys, errors, CSRF.

A real uvicorn server runs in a thread on a free 127.0.0.1 port against the test database; the frozen clock
is moved and the scheduler ticked by the test. Screenshots of every page go to the git-ignored
``screenshots/`` folder.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import (
    Browser,
    expect,
)

from app.clock import FrozenClock
from app.runtime import Runtime
from app.services import scheduler
from tests.factories import World
from tests.web.helpers import DESKTOP, PHONE, request_count
from tests.web.screens import Screens

pytestmark = pytest.mark.browser


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    """An office, a service, staff keys and a release drawn in an hour."""
    world = World(client, runtime)
    world.release()
    return world


def _advance_and_draw(runtime: Runtime) -> int:
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(hours=2))
    report = scheduler.tick(runtime)
    assert report.draws
    return report.draws[-1]


def test_applicant_journey_and_desk_check_in(
    browser: Browser, screens: Screens, world: World, runtime: Runtime
) -> None:
    base = screens.base
    phone = screens.open(browser, PHONE)
    phone.goto(base + "/")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    screens.shot(phone, "01-home-fr")
    phone.get_by_role("link", name="English").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("fair draw")
    screens.shot(phone, "02-home-en")

    phone.get_by_role("link", name="Apply for an appointment").click()
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    screens.shot(phone, "03-apply")
    phone.get_by_label("Service").select_option(world.service)
    phone.get_by_label("First choice of office").select_option(world.office)
    phone.get_by_label("Type of document").select_option("passport")
    phone.get_by_label("Document number").fill("P 0123-4567")
    phone.get_by_label("Family name").fill("Diallo")
    phone.get_by_label("Given names").fill("Aïcha")
    phone.get_by_label("Date of birth").fill("1990-04-12")
    phone.get_by_label("Expiry date of your current permit").fill("2026-12-20")
    phone.get_by_label("Pregnancy").check()
    phone.get_by_label("E-mail address").fill("aicha@example.org")
    phone.get_by_role("button", name="Send my request").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("Your request is received")
    request_id = phone.locator("#request-id").inner_text().strip()
    access_code = phone.locator("#access-code").inner_text().strip()
    assert len(access_code.replace("-", "")) >= 16  # 80 bits in Crockford symbols
    expect(phone.get_by_text("permit expires in 19 days (30 days or less)")).to_be_visible()
    screens.shot(phone, "04-confirmation")

    draw_id = _advance_and_draw(runtime)

    phone.get_by_role("link", name="Follow my request").click()
    expect(phone.get_by_label("Request number")).to_have_value(request_id)
    assert access_code not in phone.url
    screens.shot(phone, "05-status-lookup")
    phone.get_by_label("Access code").fill(access_code)
    phone.get_by_role("button", name="Show my request").click()
    expect(phone.get_by_role("heading", name="An appointment is offered to you")).to_be_visible()
    expect(phone.get_by_text("Answer before")).to_be_visible()
    expect(phone.get_by_text("Thursday 3 December 2026, 09:00").first).to_be_visible()
    screens.shot(phone, "06-status-offer")

    phone.get_by_role("button", name="Accept this appointment").click()
    expect(phone.locator("#request-status")).to_have_text("Appointment booked")
    qr = phone.get_by_role("img", name="QR code of your appointment")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert access_code not in phone.url
    screens.shot(phone, "07-status-booked")
    booking_token = phone.locator("#booking-token").text_content()
    assert booking_token
    phone.emulate_media(media="print")
    expect(phone.locator(".site-header")).to_be_hidden()
    expect(qr).to_be_visible()
    phone.emulate_media(media="screen")

    phone.get_by_role("button", name="Printable version").click()
    expect(phone.get_by_role("img", name="QR code of your appointment")).to_be_visible()
    screens.shot(phone, "08-print")

    phone.goto(f"{base}/draws/{draw_id}")
    expect(phone.get_by_role("heading", level=1)).to_have_text(f"Draw {draw_id}")
    expect(phone.locator("#seed")).not_to_be_empty()
    screens.shot(phone, "09-draw")

    desk = screens.open(browser, DESKTOP)
    desk.goto(base + "/desk?lang=en")
    screens.shot(desk, "10-desk-sign-in")
    desk.get_by_label("Staff key").fill(world.desk)
    desk.get_by_role("button", name="Sign in with the key").click()
    expect(desk).to_have_url(base + "/desk")
    screens.shot(desk, "11-desk")
    desk.get_by_label("Booking code").fill(booking_token.strip())
    desk.get_by_label("Number of the document shown").fill("P01234567")
    desk.get_by_label("Date of birth on the document").fill("1990-04-12")
    desk.get_by_role("button", name="Check in").click()
    # The weight rested on the declared expiry and pregnancy: the desk judges each against the document.
    expect(desk.locator("#claims-to-judge")).to_be_visible()
    screens.shot(desk, "11b-desk-claims")
    desk.locator("#claim-permit_expiry").get_by_label("The document confirms it").check()
    desk.locator("#claim-vulnerability").get_by_label("The document confirms it").check()
    desk.get_by_role("button", name="Check in").click()
    expect(desk.locator(".verdict--ok")).to_be_visible()
    expect(desk.locator("#verdict-name")).to_have_text("Aïcha Diallo")
    expect(desk.get_by_text("Appointment: Thursday 3 December 2026, 09:00")).to_be_visible()
    screens.shot(desk, "12-desk-checked-in")
    expect(desk.get_by_label("Booking code")).to_be_focused()

    desk.get_by_label("Booking code").fill(booking_token.strip())
    desk.get_by_label("Number of the document shown").fill("P01234567")
    desk.get_by_label("Date of birth on the document").fill("1990-04-12")
    desk.get_by_role("button", name="Check in").click()
    expect(desk.locator(".verdict--refused")).to_be_visible()
    expect(desk.locator("#verdict-reason")).to_have_text("This booking has already been checked in.")
    screens.shot(desk, "13-desk-refused")

    phone.goto(base + "/status")
    phone.get_by_label("Request number").fill(request_id)
    phone.get_by_label("Access code").fill(access_code)
    phone.get_by_role("button", name="Show my request").click()
    expect(phone.locator("#request-status")).to_have_text("Appointment attended")


def test_form_errors_are_shown_inline(
    browser: Browser, screens: Screens, world: World, runtime: Runtime
) -> None:
    page = screens.open(browser, PHONE)
    page.goto(screens.base + "/apply")
    page.get_by_label("Prestation").select_option(world.service)
    page.get_by_label("Numéro du document").fill("12")
    page.get_by_label("Nom", exact=True).fill("<script>alert(1)</script>")
    page.get_by_label("Date de naissance").fill("1990-04-12")
    page.get_by_label("Adresse e-mail").fill("pas-une-adresse")
    page.get_by_role("button", name="Envoyer ma demande").click()

    expect(page).to_have_title("Erreur\u00a0: Demander un rendez-vous · Fairslot")
    expect(page.get_by_role("alert")).to_contain_text("Il y a un problème")
    number = page.get_by_label("Numéro du document")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#f-document_number-error")).to_contain_text("4 à 32 lettres ou chiffres")
    expect(page.locator("#f-email-error")).to_be_visible()
    expect(page.locator("#f-office_1-error")).to_contain_text("Choisissez au moins un lieu.")
    expect(page.get_by_label("Nom", exact=True)).to_have_value("<script>alert(1)</script>")
    expect(page.get_by_label("Prestation")).to_have_value(world.service)
    screens.shot(page, "01-apply-errors")
    page.locator(".error-summary a", has_text="au moins un lieu").click()
    assert page.url.endswith("#f-office_1")
    assert request_count(runtime) == 0

    page.goto(screens.base + "/status")
    page.get_by_label("Numéro de demande").fill("00000000-0000-0000-0000-000000000000")
    page.get_by_label("Code d'accès").fill("wrong")
    page.get_by_role("button", name="Afficher ma demande").click()
    expect(page.get_by_role("alert")).to_contain_text("Aucune demande ne correspond")
    screens.shot(page, "02-status-not-found")


def test_post_without_csrf_token_is_refused(
    browser: Browser, screens: Screens, world: World, runtime: Runtime
) -> None:
    page = screens.open(browser, PHONE)
    page.goto(screens.base + "/apply?lang=en")
    page.get_by_label("Service").select_option(world.service)
    page.get_by_label("First choice of office").select_option(world.office)
    page.get_by_label("Type of document").select_option("passport")
    page.get_by_label("Document number").fill("P01234567")
    page.get_by_label("Family name").fill("Diallo")
    page.get_by_label("Given names").fill("Aïcha")
    page.get_by_label("Date of birth").fill("1990-04-12")
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    with page.expect_response(lambda r: r.url.endswith("/apply") and r.request.method == "POST") as answer:
        page.get_by_role("button", name="Send my request").click()
    assert answer.value.status == 403
    expect(page.get_by_role("heading", level=1)).to_have_text("This form was refused")
    screens.shot(page, "01-csrf-refused")
    assert request_count(runtime) == 0

    forged = page.request.post(
        screens.base + "/apply", form={"service": world.service, "csrf_token": "forged"}
    )
    assert forged.status == 403
    assert request_count(runtime) == 0


def test_staff_pages(browser: Browser, screens: Screens, world: World, runtime: Runtime) -> None:
    page = screens.open(browser, PHONE, locale="en-GB")
    page.goto(screens.base + "/staff")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    screens.shot(page, "01-staff-sign-in")
    page.get_by_label("Staff key").fill(world.planner)
    page.get_by_role("button", name="Sign in with the key").click()
    expect(page.get_by_role("heading", name="Publish a release")).to_be_visible()
    page.get_by_label("Office").select_option(world.office)
    page.get_by_label("Service").select_option(world.service)
    page.get_by_label("Draw time").fill("2026-12-01T18:00")
    page.get_by_label("First day of the slots").fill("2026-12-14")
    page.get_by_label("Last day of the slots").fill("2026-12-18")
    page.get_by_label("Times of day").fill("09:00 10:00")
    page.get_by_role("button", name="Publish").click()
    expect(page.get_by_role("status")).to_contain_text("is published: 10 slots")
    screens.shot(page, "02-staff-home")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("Staff key")).to_be_visible()

    admin = screens.open(browser, DESKTOP, locale="fr-FR")
    admin.goto(screens.base + "/staff")
    admin.get_by_label("Clé agent").fill(world.admin)
    admin.get_by_role("button", name="Se connecter avec la clé").click()
    expect(admin.get_by_role("heading", name="Administration")).to_be_visible()
    screens.shot(admin, "03-staff-admin")
    admin.goto(screens.base + "/nowhere-to-be-found/draws")
    admin.goto(screens.base + "/draws/424242")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Page introuvable")
    screens.shot(admin, "04-not-found")
