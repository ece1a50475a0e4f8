"""The catalogs: every message extracted, translated into French, compiled; reasons and formats localised."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from hypothesis import given

from app.domain.weights import Factor, WeightPolicy, compute_weight
from app.schemas.requests import FactorPublic
from app.web import i18n
from app.web.reasons import factor_reason
from tests.strategies import accept_language_headers

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "app" / "web" / "locales"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _po(lang: str) -> Catalog:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def _mo(lang: str) -> Catalog:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.mo").open("rb") as f:
        return read_mo(f)


def _strings(message_string: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if message_string is None:
        return ("",)
    return (message_string,) if isinstance(message_string, str) else tuple(message_string)


def _ids(message_id: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (message_id,) if isinstance(message_id, str) else tuple(message_id)


def test_every_french_message_is_translated() -> None:
    catalog = _po("fr")
    assert len(catalog) > 300
    untranslated = [
        m.id for m in catalog if m.id and (m.fuzzy or not all(s.strip() for s in _strings(m.string)))
    ]
    assert untranslated == []


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_compiled_catalog_is_up_to_date(lang: str) -> None:
    expected: dict[tuple[str, ...], tuple[str, ...]] = {}
    for message in _po(lang):
        if not message.id or message.fuzzy:
            continue
        ids, strings = _ids(message.id), _strings(message.string)
        if any(strings):
            expected[ids] = strings
        elif len(ids) > 1 and lang == i18n.SOURCE_LANGUAGE:  # an untranslated English plural: its msgids
            expected[ids] = ids
    compiled = {_ids(m.id): _strings(m.string) for m in _mo(lang) if m.id}
    # an untranslated plural of another language is compiled as its msgids, one per plural form
    compiled = {k: v for k, v in compiled.items() if k in expected or not set(v) <= set(k)}
    assert compiled == expected, "run `make translations` and commit the .po and .mo files"


def test_catalogs_hold_every_message_of_the_code_and_templates() -> None:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    extracted = {
        message
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords
        )
    }
    extracted_ids = {m if isinstance(m, str) else m[0] for m in extracted}
    assert len(extracted_ids) > 300
    for lang in ("fr", "en"):
        catalog_ids = {_ids(m.id)[0] for m in _po(lang) if m.id}
        assert extracted_ids <= catalog_ids, f"missing in {lang}: {sorted(extracted_ids - catalog_ids)[:5]}"


def test_translations_keep_their_placeholders() -> None:
    for message in _po("fr"):
        if not message.id:
            continue
        expected = set(PLACEHOLDER.findall(" ".join(_ids(message.id))))
        for text in _strings(message.string):
            assert set(PLACEHOLDER.findall(text)) <= expected | {"num"}, message.id
            assert set(PLACEHOLDER.findall(text)) >= expected - {"num"}, message.id


@pytest.mark.parametrize(
    ("expires", "vulnerable", "lost", "no_show"),
    [
        (None, [], 0, None),
        (date(2026, 12, 10), ["pregnancy"], 1, None),
        (date(2026, 11, 1), ["elderly", "disability"], 2, date(2026, 10, 1)),
        (date(2027, 1, 20), [], 12, None),
        (date(2027, 6, 1), [], 3, None),
        (date(2026, 12, 2), [], 0, date(2026, 11, 30)),
        (date(2026, 11, 30), [], 0, None),
    ],
)
def test_every_weight_reason_is_translated(
    expires: date | None, vulnerable: list[str], lost: int, no_show: date | None
) -> None:
    weight = compute_weight(
        policy=WeightPolicy(),
        on=date(2026, 12, 1),
        permit_expires_on=expires,
        vulnerabilities=vulnerable,
        draws_lost=lost,
        last_no_show_on=no_show,
    )
    french = i18n.translations("fr")
    for factor in weight.factors:
        translated = factor_reason(_public(factor), french, "fr")
        assert translated != factor.reason, factor.reason
        assert not re.search(r"\b(permit|draws?|missed|declared|within)\b", translated), translated


def _public(factor: Factor) -> FactorPublic:
    return FactorPublic(
        name=factor.name,
        value=str(factor.value),
        reason=factor.reason,
        code=factor.code,
        params=dict(factor.params),
    )


def _factor(code: str, reason: str = "", **params: object) -> FactorPublic:
    return FactorPublic(name="expiry", value="1", reason=reason, code=code, params=params)


def test_english_reasons_read_naturally() -> None:
    english = i18n.translations("en")
    assert factor_reason(_factor("permit_expires_within", days=1, within_days=30), english, "en") == (
        "permit expires in 1 day (30 days or less)"
    )
    assert factor_reason(_factor("draw_days_lost", days=3, capped=True), english, "en") == (
        "3 days of draws entered without a win (maximum reached)"
    )
    assert factor_reason(_factor("something_new", "something new"), english, "en") == "something new"


def test_accept_language_choice() -> None:
    assert i18n.from_accept_language("en-US,en;q=0.9") == "en"
    assert i18n.from_accept_language("de-DE, en;q=0.5, fr;q=0.8") == "fr"
    assert i18n.from_accept_language("fr;q=0, en;q=0.1") == "en"
    assert i18n.from_accept_language("de, es") == "es"
    assert i18n.from_accept_language("de, it") is None
    assert i18n.from_accept_language("en;q=bogus, fr") == "fr"
    assert i18n.from_accept_language("") is None


def test_locale_formats() -> None:
    moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert i18n.fmt_datetime(moment, "fr", "Europe/Paris") == "jeudi 3 décembre 2026, 09:00"
    assert i18n.fmt_datetime(moment, "en", "Indian/Reunion") == "Thursday 3 December 2026, 12:00"
    assert i18n.fmt_number("1.5000", "fr") == "1,5"
    assert i18n.fmt_number("6.0000", "en") == "6"
    assert i18n.fmt_number("1234.25", "en") == "1,234.25"
    assert i18n.weekday_options("fr")[0] == ("1", "Lundi")
    assert i18n.weekday_options("en")[6] == ("7", "Sunday")


def test_dates_numbers_and_weekdays_follow_each_language() -> None:
    moment = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    assert i18n.fmt_datetime(moment, "es", "Europe/Paris") == "jueves, 3 de diciembre de 2026, 09:00"
    assert i18n.fmt_datetime(moment, "pt", "Europe/Paris") == "quinta-feira, 3 de dezembro de 2026 09:00"
    assert i18n.fmt_datetime(moment, "uk", "Europe/Paris") == "четвер, 3 грудня 2026\u202fр., 09:00"  # noqa: RUF001
    assert i18n.fmt_datetime(moment, "ar", "Europe/Paris") == "الخميس، 3 ديسمبر 2026، 09:00"
    assert i18n.fmt_number("1234.5", "es") == "1.234,5"
    assert i18n.fmt_number("1234.5", "uk") == "1\u00a0234,5"
    assert i18n.weekday_options("ar")[0] == ("1", "الاثنين")
    assert i18n.weekday_options("uk")[6] == ("7", "Неділя")
    assert i18n.weekday_options("pt")[2] == ("3", "Quarta-feira")


@pytest.mark.parametrize(
    ("lang", "direction"),
    [("fr", "ltr"), ("en", "ltr"), ("ar", "rtl"), ("es", "ltr"), ("pt", "ltr"), ("uk", "ltr")],
)
def test_each_language_sets_lang_and_direction_and_the_switcher_names_each_in_itself(
    client: TestClient, lang: str, direction: str
) -> None:
    page = client.get("/?lang=" + lang)
    assert page.status_code == 200
    assert f'<html lang="{lang}" dir="{direction}">' in page.text
    for name, code in [
        ("Français", "fr"),
        ("English", "en"),
        ("العربية", "ar"),
        ("Español", "es"),
        ("Português", "pt"),
        ("Українська", "uk"),
    ]:
        assert f'lang="{code}"' in page.text
        assert f">{name}</a>" in page.text
    assert client.get("/apply").text.startswith(f'<!doctype html>\n<html lang="{lang}"'), "remembered"


def test_staff_pages_speak_french_or_english_only(client: TestClient) -> None:
    assert '<html lang="fr" dir="ltr">' in client.get("/staff?lang=ar").text
    english = client.get("/desk?lang=uk", headers={"Accept-Language": "uk, en;q=0.8"})
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Українська" not in english.text
    client.get("/?lang=ar")
    assert '<html lang="ar" dir="rtl">' in client.get("/status").text
    assert '<html lang="fr" dir="ltr">' in client.get("/staff").text


def test_codes_dates_and_addresses_stay_left_to_right_on_an_arabic_page(client: TestClient) -> None:
    form = client.get("/apply?lang=ar").text
    for name in ("document_number", "birth_date", "email", "phone"):
        field = re.search(rf'<input[^>]* name="{name}"[^>]*>', form)
        assert field, name
        assert 'dir="ltr"' in field.group(0), name
    lookup = client.get("/status?lang=ar").text
    assert re.search(r'<input[^>]* name="request_id"[^>]* dir="ltr"', lookup)


@given(header=accept_language_headers())
def test_any_accept_language_header_gives_a_supported_language_or_none(header: str) -> None:
    chosen = i18n.from_accept_language(header)
    assert chosen is None or chosen in i18n.LANGUAGES
    staff = i18n.from_accept_language(header, i18n.STAFF_LANGUAGES)
    assert staff is None or staff in ("fr", "en")


def test_the_best_quality_wins_then_the_first_listed() -> None:
    assert i18n.from_accept_language("ar;q=0.5, uk;q=0.9, es") == "es"
    assert i18n.from_accept_language("ar;q=0.5, uk;q=0.9") == "uk"
    assert i18n.from_accept_language("ar-MA, fr-FR") == "ar"
    assert i18n.from_accept_language("ar-MA, fr-FR", i18n.STAFF_LANGUAGES) == "fr"
    assert i18n.from_accept_language("pt-BR;q=0") is None
