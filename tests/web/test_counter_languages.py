"""The counter files a request in any of the six languages of the person's messages, and prints the receipt
in the person's language (the staff page itself is French or English)."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader

from app.services.channels.receipt_texts import TEXTS
from tests.factories import World, create_key
from tests.verified import request_row
from tests.web.helpers import apply_data, sign_in, text_of


@pytest.fixture
def world(client, runtime) -> World:
    client.headers["Accept-Language"] = "en"
    return World(client, runtime)


def _language_options(html: str) -> list[str]:
    select = re.search(r'<select class="input" id="counter-language".*?</select>', html, re.S)
    assert select, "no language field"
    return re.findall(r'<option value="(\w+)"', select.group(0))


def _pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return unicodedata.normalize("NFKC", " ".join(page.extract_text() or "" for page in reader.pages))


def test_the_counter_offers_the_six_languages_of_the_partner_form(client, world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    sign_in(client, agent, "counter")
    counter = client.get("/counter?lang=fr").text
    partner_key = create_key(runtime, "partner", [world.office])
    sign_in(client, partner_key, "partner")
    partner = client.get("/partner?lang=fr").text.replace('id="partner-language"', 'id="counter-language"')

    assert _language_options(counter) == ["fr", "en", "ar", "es", "pt", "uk"]
    assert _language_options(counter) == _language_options(partner)


def test_a_request_filed_in_spanish_has_its_messages_and_receipt_in_spanish(client, world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")

    filed = client.post(
        "/counter/requests?lang=en",
        data={"csrf_token": token, **apply_data(world.service, world.office, language="es")},
    )

    assert filed.status_code == 201, filed.text
    request_id = text_of(filed.text, "filed-id")
    assert request_row(runtime, request_id).language == "es"  # its messages are written in Spanish
    primary = re.search(r'id="filed-receipt" href="([^"]+)"[^>]*>([^<]*)\(<span lang="(\w+)"', filed.text)
    assert primary, "no receipt button"
    assert primary.group(1) == f"/counter/requests/{request_id}/receipt.pdf?lang=es"
    assert primary.group(3) == "es"
    assert "Receipt in Arabic" not in filed.text
    others = re.search(r'id="filed-receipt-languages">(.*?)</p>', filed.text, re.S)
    assert others
    assert re.findall(r"\?lang=(\w+)", others.group(1)) == ["fr", "en", "ar", "pt", "uk"]
    receipt = client.get(primary.group(1))
    assert TEXTS["es"]["title"] in _pdf_text(receipt.content)


def test_an_earlier_receipt_is_reprinted_in_the_language_asked_for_or_the_requests(client, world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")
    filed = client.post(
        "/counter/requests",
        data={"csrf_token": token, **apply_data(world.service, world.office, language="uk")},
    )
    entry = text_of(filed.text, "filed-entry")

    in_its_language = client.get("/counter/receipt", params={"reference": entry, "lang": ""})
    in_portuguese = client.get("/counter/receipt", params={"reference": entry, "lang": "pt"})

    assert 'id="reprint-lang"' in client.get("/counter").text
    assert TEXTS["uk"]["title"] in _pdf_text(in_its_language.content)
    assert TEXTS["pt"]["title"] in _pdf_text(in_portuguese.content)
