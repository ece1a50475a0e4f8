"""Each text says what its reader needs, once, in words meant for that reader: a number that does not exist is
not a typing slip, a wait is given once, and an agent or a partner filing for a person reads "the person",
never "you"."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from app.main import create_app
from tests.api.bookings.test_confirm_window import release_and_draw
from tests.api.channels.test_attestation_current_state import _attest
from tests.conftest import test_settings
from tests.factories import World, create_key, request_body
from tests.verified import phone_world
from tests.web.helpers import apply_data, csrf_of, sign_in, token_for


def _apply(client, world: World, **fields):
    data = {**apply_data(world.service, world.office), **fields}
    return client.post("/apply?lang=en", data={**data, "csrf_token": token_for(client)})


def test_a_number_in_no_allocated_range_is_not_a_valid_french_mobile_and_letters_ask_for_digits(
    client, runtime
):
    world = World(client, runtime)

    unallocated = _apply(client, world, phone="07 00 00 00 00")
    lettered = _apply(client, world, phone="06 12 AB 34 56")

    assert unallocated.status_code == 422
    assert "This is not a valid French mobile number" in unallocated.text
    assert "digits only" not in unallocated.text
    assert lettered.status_code == 422
    assert "Enter a phone number with digits only" in lettered.text


def test_a_code_asked_too_soon_gives_the_wait_once(client, runtime):
    world = phone_world(client, runtime)
    filed = _apply(client, world, phone="06 12 34 56 78")
    credentials = {
        "request_id": re.search(r'name="request_id" value="([^"]+)"', filed.text).group(1),
        "access_code": re.search(r'name="access_code" value="([^"]+)"', filed.text).group(1),
        "csrf_token": csrf_of(filed.text),
    }

    too_soon = client.post("/status/phone-code?lang=en", data=credentials)

    assert too_soon.status_code == 429
    assert too_soon.text.count("Try again") == 1
    assert re.search(r"Try again in \d+ seconds\.", too_soon.text)
    assert "Try again later" not in too_soon.text


def test_the_rate_limit_page_speaks_the_visitors_language_once(client, runtime):
    applicant = World(client, runtime).applicant()
    settings = test_settings(runtime.settings.database_url, rate_limits="on")
    with TestClient(
        create_app(replace(runtime, settings=settings)), raise_server_exceptions=False
    ) as limited:
        limited.headers["Accept-Language"] = "es"
        token = token_for(limited, "/status")
        form = {"csrf_token": token, "request_id": applicant["id"]}
        for i in range(5):
            limited.post("/status", data={**form, "access_code": f"guess-{i}"})
        refused = limited.post("/status", data={**form, "access_code": applicant["access_code"]})

    assert refused.status_code == 429
    assert '<html lang="es"' in refused.text
    assert "<h1>Demasiadas peticiones</h1>" in refused.text
    assert refused.text.count("vuelva a intentarlo") == 1
    assert "Too many" not in refused.text and "Réessayez" not in refused.text
    assert int(refused.headers["retry-after"]) >= 1


def test_the_counter_form_speaks_of_the_person_and_never_autofills_the_agents_own_name(client, runtime):
    world = World(client, runtime)
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")

    form = client.get("/counter?lang=en").text
    missing = client.post(
        "/counter/requests?lang=en",
        data={"csrf_token": token, **apply_data(world.service, world.office, family_name="")},
    )

    fields = html.unescape(form[form.index('action="/counter/requests"') :])
    assert "The person's identity document" in fields and "How to reach the person" in fields
    assert not re.search(r"\b(you|your)\b", re.sub(r"<[^>]+>", " ", fields.split("</form>")[0]), re.I)
    assert 'autocomplete="family-name"' not in form and 'autocomplete="bday"' not in form
    assert missing.status_code == 422
    assert "Enter the person's family name." in html.unescape(missing.text)
    assert "Enter your family name." not in html.unescape(missing.text)


def test_a_partner_filing_for_someone_already_active_reads_about_the_person(client, runtime):
    world = World(client, runtime)
    partner = create_key(runtime, "partner", [world.office])
    client.post("/api/v1/requests", json=request_body(world.service, [world.office], 7))
    token = sign_in(client, partner, "partner")
    same = request_body(world.service, [world.office], 7)["identity"]

    again = client.post(
        "/partner/requests?lang=en",
        data={"csrf_token": token, **apply_data(world.service, world.office, **same)},
    )

    assert again.status_code == 409
    assert "The person already has an active request for this service" in html.unescape(again.text)
    assert "You already have an active request" not in again.text


def test_a_third_party_checking_an_offered_request_is_not_told_it_is_offered_to_them(client, runtime, clock):
    world = World(client, runtime)
    applicant = world.applicant()
    release_and_draw(world, clock, days_ahead=3)
    attested = _attest(world, applicant)
    code = parse_qs(urlparse(attested["check_url"]).query)["d"][0]

    page = html.unescape(client.get("/check", params={"d": code, "lang": "en"}).text)

    assert attested["statement"]["status"] == "offered"
    assert 'id="statement-status">Appointment offered' in page
    assert "offered to you" not in page


def test_english_pages_write_dates_day_first(client, runtime):
    world = World(client, runtime)
    filed = _apply(client, world, permit_expires_on="2026-12-20", language="en")
    credentials = {
        "request_id": re.search(r'name="request_id" value="([^"]+)"', filed.text).group(1),
        "access_code": re.search(r'name="access_code" value="([^"]+)"', filed.text).group(1),
        "csrf_token": csrf_of(filed.text),
    }

    status = client.post("/status?lang=en", data=credentials).text

    assert "20 December 2026" in status  # the declared expiry
    assert "Tuesday 1 December 2026, 09:00 (Paris time)" in status  # when it was sent
    assert "December 20, 2026" not in status and "December 1, 2026" not in status
