"""The message texts in the six languages: every event, both channels, short, with the status link and
never an access code; the SMS encoding rule holds whatever the language."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from app.services.messages import sms_encoding, texts
from app.services.messages.texts import LANGUAGES, TEXTS

CONTEXT = {
    "entry": "FS-7KQ3M-2XDPA",
    "request_id": "5f0e7a52-3c1f-4f7e-9a39-0d7c1d2b9e11",
    "office": "Préfecture de Mayotte",
    "address": "Place Mariage, 97600 Mamoudzou",
    "starts_at": "2026-12-14T09:30:00+03:00",
    "expires_at": "2026-12-03T18:00:00+03:00",
    "confirm_by": "2026-12-12T09:30:00+03:00",
    "evidence": True,
    "reason": "Grève",  # why the office cancels an appointment or withdraws an offer
}
LINK = "https://rdv.example.fr/status?id=5f0e7a52-3c1f-4f7e-9a39-0d7c1d2b9e11"
ACCESS_CODE = "q3J8t0m9u2wY7xZ1aB4cD6eF8gH0iJ2k"
#: What the design asks for, and the older notices.
EVENTS = {
    "request_received",
    "offer_made",
    "offer_expiring",
    "booking_confirmed",
    "confirm_window_open",
    "confirm_due_tomorrow",
    "released",
    "forfeited",
    "appointment_tomorrow",
}


def test_every_event_of_the_design_has_a_text():
    assert set(TEXTS) >= EVENTS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_each_text_renders_in_each_language_with_the_link_and_no_access_code(kind, language):
    context = {**CONTEXT, "code": "123456"} if kind == "phone_code" else CONTEXT
    text = texts.render_sms(kind, language, {**context, "access_code": ACCESS_CODE}, LINK)
    subject, body = texts.render_email(kind, language, context, LINK)
    for rendered in (text, body):
        # The one-time code's SMS carries no link on purpose: a code next to a link is what phishing
        # texts look like, and the applicant types it on the page they already have open.
        assert (LINK in rendered) != (kind == "phone_code")
        assert ACCESS_CODE not in rendered
        assert "{" not in rendered and "?" not in rendered.replace(LINK, "")  # every placeholder filled
    assert subject.startswith("Fairslot")
    # Short enough for SMS: at most four segments even in UCS-2 (the status link alone is ~70 characters).
    assert len(sms_encoding.segments(text, 0)) <= 4


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_french_and_english_texts_fit_gsm7(kind, language):
    text = texts.render_sms(kind, language, CONTEXT, LINK)
    assert sms_encoding.fits_gsm7(text), [ch for ch in text if not sms_encoding.fits_gsm7(ch)]


@pytest.mark.parametrize("language", ["ar", "uk"])
def test_arabic_and_ukrainian_texts_go_in_ucs2(language):
    text = texts.render_sms("offer_made", language, CONTEXT, LINK)
    (first, *rest) = sms_encoding.segments(text, 9)
    assert first.data_coding == sms_encoding.UCS2
    assert rest  # too long for one UCS-2 message: concatenated


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_text_is_translated_and_keeps_its_placeholders(language):
    path = texts.LOCALES / language / "LC_MESSAGES" / "notifications.po"
    with path.open("rb") as f:
        catalog = read_po(f)
    placeholder = re.compile(r"\{(\w+)\}")
    expected = {t for pair in TEXTS.values() for t in pair} | {
        texts.BRING_DOCUMENT,
        texts.BRING_EVIDENCE,
        texts.EMAIL_REFERENCE,
        texts.EMAIL_WARNING,
        texts.ZONE_TIME,
        *texts.PLACE_TEXTS,
        *texts.NEWS_TEXTS,
    }
    found = {m.id: m.string for m in catalog if m.id}
    assert set(found) == expected
    for msgid, msgstr in found.items():
        assert msgstr, msgid
        assert set(placeholder.findall(msgstr)) == set(placeholder.findall(msgid)), msgid


def test_the_day_before_reminder_says_what_to_bring():
    with_claims = texts.render_sms("appointment_tomorrow", "en", CONTEXT, LINK)
    without = texts.render_sms("appointment_tomorrow", "en", {**CONTEXT, "evidence": False}, LINK)
    assert "Place Mariage, 97600 Mamoudzou" in with_claims
    assert "proof of the situation you declared" in with_claims
    assert without.count("Bring the same identity document.") == 1


def test_an_unknown_language_falls_back_to_french():
    assert texts.render_sms("offer_made", "de", CONTEXT, LINK) == texts.render_sms(
        "offer_made", "fr", CONTEXT, LINK
    )
