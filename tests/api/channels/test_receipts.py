"""The printable receipt: one page, the statement in the request's language (Arabic right to left), no code."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest
from bidi import get_display
from pypdf import PdfReader

from app.services.channels.receipt_texts import TEXTS
from tests.factories import World, auth, create_key, create_office, request_body


@pytest.fixture
def world(client, runtime) -> World:
    return World(client, runtime)


def _pdf_text(content: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(content))
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


def _plain(text: str) -> str:
    """Extracted text compared loosely: presentation forms folded (NFKC), whitespace squeezed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def _arabic_found(needle: str, text: str) -> bool:
    """Whether Arabic ``needle`` is in extracted ``text``, in logical or in visual (bidi) order."""
    plain = _plain(text)
    return any(_plain(form) in plain for form in (needle, get_display(needle)))


def _receipt(world: World, request: dict, key: str | None = None, **params) -> bytes:
    response = world.client.get(
        f"/api/v1/requests/{request['id']}/receipt.pdf",
        params=params,
        headers=auth(key or request["access_code"]),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def test_the_french_receipt_is_one_page_with_the_statement_and_how_to_check_and_no_access_code(world):
    request = world.applicant()
    pages, text = _pdf_text(_receipt(world, request))
    assert pages == 1
    plain = _plain(text)
    for expected in (
        TEXTS["fr"]["title"],
        "Diallo",
        "Aïcha",
        "en ligne",
        "en attente d'un tirage",
        "/check?d=",
    ):
        assert _plain(expected) in plain, expected
    assert request["access_code"] not in plain
    assert request["access_code"].replace("-", "") not in plain.replace("-", "")
    assert request["entry"] not in plain


def test_the_arabic_receipt_reads_right_to_left_with_the_statement(world):
    request = world.applicant(
        identity={
            "document_type": "passport",
            "document_number": "AR1234567",
            "family_name": "العلي",
            "given_names": "فاطمة",
            "birth_date": "1988-02-03",
        },
    )
    pages, text = _pdf_text(_receipt(world, request, lang="ar"))
    assert pages == 1
    for expected in (TEXTS["ar"]["title"], "العلي", "فاطمة", "عبر الإنترنت", "في انتظار القرعة"):
        assert _arabic_found(expected, text), expected
    assert request["access_code"] not in text


@pytest.mark.parametrize(
    ("lang", "status"),
    [("es", "a la espera de un sorteo"), ("pt", "a aguardar um sorteio"), ("uk", "очікує на жеребкування")],
)
def test_the_receipt_is_printed_in_each_language_of_the_applicant_pages(world, lang, status):
    request = world.applicant(language=lang)
    pages, text = _pdf_text(_receipt(world, request))
    assert pages == 1
    assert TEXTS[lang]["title"] in _plain(text)
    assert status in _plain(text)
    assert request["access_code"] not in text


def test_the_receipt_is_in_the_requests_language_by_default(world):
    request = world.applicant(language="en")
    _pages, text = _pdf_text(_receipt(world, request))
    assert TEXTS["en"]["title"] in _plain(text)


def test_the_filing_partner_and_an_agent_of_the_first_office_print_it_others_get_404(world, runtime):
    other = create_office(world.client, world.admin)["code"]
    partner = create_key(runtime, "partner", [world.office])
    agent_here = create_key(runtime, "agent", [world.office])
    agent_elsewhere = create_key(runtime, "agent", [other])
    filed = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner)
    ).json()
    assert _receipt(world, filed, partner)[:5] == b"%PDF-"
    assert _receipt(world, filed, agent_here)[:5] == b"%PDF-"
    for key in (agent_elsewhere, world.desk, world.planner):
        response = world.client.get(f"/api/v1/requests/{filed['id']}/receipt.pdf", headers=auth(key))
        assert response.status_code == 404


def test_a_long_history_still_fits_on_one_page(world, clock):
    from datetime import timedelta

    from app.services import scheduler

    # Available on Sundays only: every weekday draw is a loss (no compatible slot), so the request keeps
    # entering draws.
    request = world.applicant(availability={"weekdays": [7]})
    for _ in range(24):
        world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    got = world.client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    ).json()
    assert len(got["statement"]["draws"]) == 24
    assert len(got["attestation"]) > 3000  # longer than any booking token may be, and still genuine
    verdict = world.client.post("/api/v1/attestations/verify", json={"attestation": got["attestation"]})
    assert verdict.json()["valid"] is True
    for lang in ("fr", "ar"):
        pages, text = _pdf_text(_receipt(world, request, lang=lang))
        assert pages == 1, lang
    assert "16" in _plain(text)  # "... and 16 earlier draws"


def test_markup_in_a_name_is_printed_as_text_not_rendered(world):
    request = world.applicant(
        identity={
            "document_type": "passport",
            "document_number": "HT1234567",
            "family_name": '<img src="http://127.0.0.1:9/x.png">Ben',
            "given_names": "<b>Sam</b>",
            "birth_date": "1988-02-03",
        },
    )
    _pages, text = _pdf_text(_receipt(world, request))
    assert "<b>Sam</b>" in text
    assert '<img src="http://127.0.0.1:9/x.png">Ben' in text
