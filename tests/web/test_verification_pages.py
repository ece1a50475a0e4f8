"""The pages ask for the code with plain forms (no JavaScript), say what is missing, and offer the counter or
a partner to people without a mobile phone; the same service as the API writes the same rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, PhoneCode
from app.services import scheduler
from tests.factories import World
from tests.verified import MOBILE, phone_world, sealed_code, wrong
from tests.web.helpers import apply_data, csrf_of, token_for


@pytest.fixture
def world(client, runtime) -> World:
    return phone_world(client, runtime)


def _apply(client, world: World, **fields) -> tuple[str, dict[str, str]]:
    data = {**apply_data(world.service, world.office, phone="06 12 34 56 78"), **fields}
    page = client.post("/apply", data={**data, "csrf_token": token_for(client)})
    return page.text, {"status": page.status_code}


def _credentials(html: str) -> dict[str, str]:
    request_id = re.search(r'name="request_id" value="([^"]+)"', html).group(1)
    access_code = re.search(r'name="access_code" value="([^"]+)"', html).group(1)
    return {"request_id": request_id, "access_code": access_code, "csrf_token": csrf_of(html)}


def test_apply_without_a_mobile_says_so_on_the_phone_field_and_names_the_counter(client, world, runtime):
    html, meta = _apply(client, world, phone="")
    assert meta["status"] == 422
    assert "guichet" in html and "La Cimade" in html  # the page is in French
    assert 'id="f-phone"' in html
    with session_scope(runtime.engine) as session:
        assert session.exec(select(AppointmentRequest)).first() is None


def test_the_confirmation_sends_a_code_and_a_plain_form_takes_it(client, world, runtime):
    html, meta = _apply(client, world)
    assert meta["status"] == 201
    assert 'id="verification"' in html and 'action="/status/phone-verification"' in html
    assert "<script" not in html.split('id="verification"')[1].split("</section>")[0]
    assert "+33 6 •• •• •• 78" in html
    credentials = _credentials(html)
    code = sealed_code(runtime, credentials["request_id"])
    assert code not in html
    wrong_page = client.post("/status/phone-verification", data={**credentials, "code": wrong(code)})
    assert wrong_page.status_code == 422
    assert "4" in wrong_page.text  # tries left
    shaped = client.post("/status/phone-verification", data={**credentials, "code": "12ab"})
    assert shaped.status_code == 422
    with session_scope(runtime.engine) as session:
        assert session.exec(select(PhoneCode)).one().failures == 1  # a malformed code costs nothing
    done = client.post("/status/phone-verification", data={**credentials, "code": code})
    assert done.status_code == 200, done.text
    assert 'id="verification"' not in done.text
    with session_scope(runtime.engine) as session:
        row = session.exec(select(AppointmentRequest)).one()
    assert row.verification_status == "verified" and row.verification_method == "phone"


def test_the_status_page_asks_for_the_code_again_and_limits_new_codes(client, world, runtime, clock):
    html, _meta = _apply(client, world)
    credentials = _credentials(html)
    status = client.post("/status", data=credentials)
    assert 'action="/status/phone-code"' in status.text and 'id="no-mobile"' in status.text
    too_soon = client.post("/status/phone-code", data=credentials)
    assert too_soon.status_code == 429
    clock.advance(timedelta(minutes=1))
    sent = client.post("/status/phone-code", data=credentials)
    assert sent.status_code == 200 and "+33 6 •• •• •• 78" in sent.text


def test_a_lapsed_request_says_plainly_why_it_is_closed(client, world, runtime, clock):
    html, _meta = _apply(client, world)
    credentials = _credentials(html)
    clock.advance(timedelta(days=8))
    scheduler.tick(runtime)
    page = client.post("/status", data=credentials)
    assert page.status_code == 200
    assert 'id="verification-title"' in page.text
    assert "status--lapsed" in page.text


def test_under_none_the_pages_show_no_code_form(client, runtime):
    world = World(client, runtime)
    html, meta = _apply(client, world, phone=MOBILE)
    assert meta["status"] == 201
    assert 'id="verification"' not in html


@pytest.mark.parametrize("lang", ["fr", "en", "ar", "es", "pt", "uk"])
def test_the_code_form_is_translated(client, world, lang):
    client.cookies.set("lang", lang)
    html, meta = _apply(client, world, language=lang)
    assert meta["status"] == 201
    panel = html.split('id="verification"')[1].split("</section>")[0]
    if lang != "en":
        assert "One step left" not in panel and "Confirm my number" not in panel
