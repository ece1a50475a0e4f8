"""An Arabic receipt keeps its URLs whole and left to right inside its right-to-left sentences, and every
receipt names the zone of its times."""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.factories import World, auth


def _text(world: World, lang: str) -> str:
    request = world.applicant(language=lang)
    pdf = world.client.get(
        f"/api/v1/requests/{request['id']}/receipt.pdf", headers=auth(request["access_code"])
    )
    assert pdf.status_code == 200, pdf.text
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)


def test_the_arabic_receipt_prints_its_check_and_key_urls_whole(client, runtime):
    world = World(client, runtime)
    base = runtime.settings.public_url

    text = _text(world, "ar")

    assert f"{base}/api/v1/token-keys" in text
    assert f"{base}/check\u061b" in text  # the URL, then the Arabic semicolon that ends its clause
    assert "://http" not in text and "/http" not in text


def test_receipt_times_name_the_offices_zone(client, runtime):
    world = World(client, runtime)

    assert "(heure de Paris)" in _text(world, "fr")
    assert "1 December 2026, 09:00 (Paris time)" in _text(world, "en")
