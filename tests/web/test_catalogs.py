"""The six catalogs are in step with the code: every message, the same placeholders, nothing left in English.

``app.web.catalog_check`` does the comparing (``python -m app.web.catalog_check`` lists what is left); these
tests hold it to the real catalogs, and show on a doctored copy that it catches what it should.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from app.domain.languages import LANGUAGES, Language
from app.web import catalog_check, i18n

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
