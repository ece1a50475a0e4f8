"""The six catalogs are in step with the code: every message, the same placeholders, nothing left in English.

``app.web.catalog_check`` does the comparing (``python -m app.web.catalog_check`` lists what is left); these
tests hold it to the real catalogs, and show on a doctored copy that it catches what it should.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.domain.languages import LANGUAGES, Language
from app.runtime import Runtime
from app.services import scheduler
from app.web import catalog_check, i18n
from tests.factories import World
from tests.web.helpers import apply_data, csrf_of, text_of

Messages = dict[str, tuple[catalog_check.MessageId, set[str]]]


@pytest.fixture(scope="module")
def messages() -> Messages:
    """The messages of the code and templates, extracted once."""
    return catalog_check.extracted()


def _doctored(tmp_path: Path, lang: str, change: Callable[[Catalog], None]) -> Path:
    locales = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES_DIR / lang, locales / lang)
    po_path = locales / lang / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as f:
        po = read_po(f, locale=lang)
    change(po)
    with po_path.open("wb") as f:
        write_po(f, po)
    return locales


def test_there_is_a_catalog_for_each_language_and_the_domain_names_them() -> None:
    for lang in LANGUAGES:
        assert (i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "messages.po").is_file(), lang
        assert (i18n.LOCALES_DIR / lang / "LC_MESSAGES" / "messages.mo").is_file(), lang
    assert {lang.value for lang in LANGUAGES} == {"fr", "en", "ar", "es", "pt", "uk"}
    assert [lang for lang in LANGUAGES if lang.direction == "rtl"] == [Language.AR]
    assert Language.AR.native_name == "العربية"
    assert Language.UK.native_name == "Українська"


def test_the_check_reports_a_message_a_catalog_lacks(tmp_path: Path, messages: Messages) -> None:
    assert catalog_check.problems("fr", messages) == []
    locales = _doctored(tmp_path, "fr", lambda po: po.delete("Your request is received"))
    found = catalog_check.problems("fr", messages, locales)
    assert found == [catalog_check.Problem("fr", "missing", "Your request is received")]


def test_the_check_reports_a_placeholder_that_differs_from_the_source(
    tmp_path: Path, messages: Messages
) -> None:
    def rename(po: Catalog) -> None:
        po["Answer before %(deadline)s."].string = "Répondez avant le %(date)s."

    found = catalog_check.problems("fr", messages, _doctored(tmp_path, "fr", rename))
    assert found == [catalog_check.Problem("fr", "placeholders", "Answer before %(deadline)s.")]


def test_the_check_reports_fuzzy_empty_and_english_left_in_a_translation(
    tmp_path: Path, messages: Messages
) -> None:
    def spoil(po: Catalog) -> None:
        po["Your request is received"].flags.add("fuzzy")
        po["Write down these two codes now"].string = ""
        po["My request"].string = "My request"

    found = catalog_check.problems("fr", messages, _doctored(tmp_path, "fr", spoil))
    assert sorted(p.msgid for p in found if p.kind == "untranslated") == [
        "My request",
        "Write down these two codes now",
        "Your request is received",
    ]


def test_a_single_word_shared_with_english_is_a_translation(messages: Messages) -> None:
    french = catalog_check.catalog("fr")
    assert french["Date"].string == "Date"
    assert catalog_check.problems("fr", messages) == []


def test_staff_messages_need_only_french_and_english(messages: Messages) -> None:
    staff_only = {
        key for key, (_id, files) in messages.items() if all(map(catalog_check.is_staff_source, files))
    }
    assert "Publish a release" in staff_only
    assert "Apply for an appointment" not in staff_only
    assert "Skip to main content" not in staff_only
    for lang in ("fr", "en"):
        assert not [p for p in catalog_check.problems(lang, messages) if p.msgid in staff_only]


# Rendered pages: no English left on a page of another language ------------------------------------------

_TAG = re.compile(r"<[^>]+>")
#: Public pages a deployment may leave out, checked whenever the app serves them.
LATER_PUBLIC_PAGES = ("/stats", "/check", "/partner")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _visible_text(html: str) -> str:
    body = html.split("<body", 1)[1]
    return " ".join(unescape(_TAG.sub(" ", body)).split())


def _english_phrases(messages: Messages) -> set[str]:
    """Runs of three words or more of every message of the applicant pages, as written in English."""
    phrases: set[str] = set()
    for _key, (message_id, files) in messages.items():
        if all(map(catalog_check.is_staff_source, files)):
            continue
        for text in (message_id,) if isinstance(message_id, str) else message_id:
            for part in _PLACEHOLDER.split(text):
                part = " ".join(part.split())
                if len(part.split()) >= 3:
                    phrases.add(part)
    return phrases


def _applicant_journey(client: TestClient, world: World, runtime: Runtime, lang: str) -> dict[str, str]:
    """Every applicant and public page, the error states and confirmations, in ``lang``."""
    pages = {"home": client.get(f"/?lang={lang}").text}  # the choice is remembered from here on
    pages["apply"] = client.get("/apply").text
    token = csrf_of(pages["apply"])
    pages["apply-errors"] = client.post("/apply", data={"csrf_token": token, "email": "x"}).text
    world.release()
    confirmation = client.post(
        "/apply", data={"csrf_token": token, **apply_data(world.service, world.office, language=lang)}
    )
    assert confirmation.status_code == 201, confirmation.text
    pages["confirmation"] = confirmation.text
    request_id, code = text_of(confirmation.text, "request-id"), text_of(confirmation.text, "access-code")
    pages["status-lookup"] = client.get("/status").text
    pages["status-not-found"] = client.post(
        "/status", data={"csrf_token": token, "request_id": request_id, "access_code": "wrong"}
    ).text
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(hours=2))
    draw_id = scheduler.tick(runtime).draws[-1]
    credentials = {"csrf_token": token, "request_id": request_id, "access_code": code}
    pages["status-offer"] = client.post("/status", data=credentials).text
    pages["status-booked"] = client.post("/status/accept", data=credentials).text
    pages["status-no-offer"] = client.post("/status/accept", data=credentials).text
    pages["print"] = client.post("/status/print", data=credentials).text
    pages["cancel-confirm"] = client.post("/status/cancel", data=credentials).text
    pages["draw"] = client.get(f"/draws/{draw_id}").text
    pages["accessibility"] = client.get("/accessibility").text
    pages["not-found"] = client.get("/draws/424242").text
    for path in LATER_PUBLIC_PAGES:  # other branches' pages, once merged
        answer = client.get(path)
        if answer.headers.get("content-type", "").startswith("text/html"):
            pages[path] = answer.text
    return pages


@pytest.mark.parametrize("lang", [lang.value for lang in LANGUAGES if lang != Language.EN])
def test_no_english_is_left_on_a_page_in_another_language(
    client: TestClient, runtime: Runtime, messages: Messages, lang: str
) -> None:
    world = World(client, runtime)
    phrases = _english_phrases(messages)
    assert "Skip to main content" in phrases
    pages = _applicant_journey(client, world, runtime, lang)
    direction = "rtl" if lang == "ar" else "ltr"
    for name, html in pages.items():
        assert f'<html lang="{lang}" dir="{direction}">' in html, name
        text = _visible_text(html)
        left = sorted(p for p in phrases if p in text)
        assert left == [], f"{lang} {name}: English left: {left[:5]}"


def test_the_english_journey_shows_the_phrases_the_check_looks_for(
    client: TestClient, runtime: Runtime, messages: Messages
) -> None:
    pages = _applicant_journey(client, World(client, runtime), runtime, "en")
    text = " ".join(_visible_text(html) for html in pages.values())
    shown = {p for p in _english_phrases(messages) if p in text}
    assert len(shown) > 120, "the journey must reach most messages, or the check above proves little"
    assert "Write down these two codes now" in shown
    assert "There is a problem" in shown


@pytest.mark.parametrize("lang", ["ar", "es", "pt", "uk"])
def test_machine_made_catalogs_say_so_until_a_native_speaker_reviews_them(lang: str) -> None:
    po = catalog_check.catalog(lang)
    assert "MACHINE-MADE TRANSLATION, AWAITING REVIEW BY A NATIVE SPEAKER" in po.header_comment
    assert not [m.id for m in po if m.id and m.fuzzy], "fuzzy entries are skipped by gettext"


def test_examples_of_codes_stay_left_to_right_inside_arabic_text() -> None:
    arabic = catalog_check.catalog("ar")
    for msgid in (
        "Enter a phone number with digits only, for example +33 6 12 34 56 78.",
        "Enter an e-mail address like name@example.org.",
        "For example 0b7c4f3e-1d2a-4c5b-9e8f-123456789abc.",
    ):
        translated = arabic[msgid].string
        assert "\u2066" in translated and "\u2069" in translated, msgid  # left-to-right isolate


def test_what_is_left_exports_for_a_translator_and_imports_back(tmp_path: Path, messages: Messages) -> None:
    def forget(po: Catalog) -> None:
        po["Your request is received"].string = ""
        po["permit expires in %(num)d day"].string = ("", "", "")

    locales = _doctored(tmp_path, "uk", forget)
    todo = catalog_check.export_todo(("uk",), locales)
    assert set(todo["uk"]) == {"Your request is received", "permit expires in %(num)d day"}
    plural = todo["uk"]["permit expires in %(num)d day"]
    assert plural["english"] == ["permit expires in %(num)d day", "permit expires in %(num)d days"]
    assert plural["french"][0] == "le titre expire dans %(num)d jour"
    assert todo["uk"]["Your request is received"]["french"] == "Votre demande est enregistrée"

    todo["uk"]["Your request is received"]["translation"] = "Вашу заявку отримано"
    plural["translation"] = ["через %(num)d день", "через %(num)d дні", "через %(num)d днів"]
    assert catalog_check.import_translations(todo, locales) == 2
    assert catalog_check.problems("uk", messages, locales) == []
    assert (
        catalog_check.catalog("uk", locales)["permit expires in %(num)d day"].string[2]
        == "через %(num)d днів"
    )
