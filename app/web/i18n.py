"""Languages of the web pages: choice (query, cookie, Accept-Language), catalogs and locale formatting."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import (
    format_date,
    format_datetime,
    format_time,
    get_date_format,
    get_datetime_format,
    get_day_names,
    get_timezone_location,
)
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from starlette.requests import Request

from app.domain import languages
from app.domain.languages import Language

#: Every language of the applicant and public pages (``?lang=`` codes), in the switcher's order.
LANGUAGES: tuple[str, ...] = tuple(lang.value for lang in languages.LANGUAGES)
#: The languages the staff pages are written in; a reader of another reads them in English or French.
STAFF_LANGUAGES: tuple[str, ...] = tuple(lang.value for lang in languages.STAFF_LANGUAGES)
#: Paths of the staff pages (the pages under them too), and of the developer's tools (``/dev``), which are
#: written in French and English too.
STAFF_PATHS = ("/staff", "/desk", "/counter", "/claims", "/dev")
DEFAULT_LANGUAGE = languages.DEFAULT.value
#: The language of the msgids (English): its catalog may leave them untranslated.
SOURCE_LANGUAGE = languages.SOURCE.value
LANG_COOKIE = "fairslot_lang"
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"


def N_(message: str) -> str:  # noqa: N802 (the gettext convention for "mark for extraction only")
    """Mark ``message`` for extraction without translating it now (it is translated where shown)."""
    return message


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalog of ``lang`` (French when unknown)."""
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    return Translations.load(str(LOCALES_DIR), [lang], DOMAIN)


def direction(lang: str) -> str:
    """``rtl`` for a right-to-left language (Arabic), else ``ltr``."""
    found = Language.parse(lang)
    return found.direction if found else "ltr"


def native_name(lang: str) -> str:
    """The language's name in itself (``العربية``), for the switcher."""
    found = Language.parse(lang)
    return found.native_name if found else lang


def is_staff_path(path: str) -> bool:
    """Whether ``path`` is a staff page (French and English only)."""
    return any(path == prefix or path.startswith(prefix + "/") for prefix in STAFF_PATHS)


def from_accept_language(header: str, supported: tuple[str, ...] = LANGUAGES) -> str | None:
    """The first supported language of an Accept-Language header, by quality then order."""
    choices: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in supported and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def choose_language(request: Request) -> tuple[str, bool]:
    """The reader's language and whether it came from ``?lang=`` (then it is remembered in a cookie).

    On a staff page a language other than French or English gives way to the reader's next staff language
    (Accept-Language), else French; the remembered choice is kept for the applicant pages.
    """
    supported = STAFF_LANGUAGES if is_staff_path(request.url.path) else LANGUAGES
    asked = request.query_params.get("lang", "")
    if asked in supported:
        return asked, True
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in supported:
        return remembered, False
    header = request.headers.get("accept-language", "")
    return from_accept_language(header, supported) or DEFAULT_LANGUAGE, False


def _zone(timezone: str | None) -> ZoneInfo | None:
    return ZoneInfo(timezone) if timezone else None


#: The Babel locale each page language formats dates and numbers with: English is British English (day,
#: month, year: "3 December 2026", a 24-hour clock), as in the rest of Europe, not the American order.
_FORMAT_LOCALES = {"en": "en_GB"}

#: The weekday, day, month and year pattern of a language when Babel's ``full`` date is not the one wanted
#: ("Thursday 3 December 2026", without the comma British English's CLDR data puts after the weekday).
_LONG_DATE_PATTERNS = {"en": "EEEE d MMMM y"}

#: How a time names its zone, by the zone's city in the reader's language ("heure de Paris").
ZONE_TIME = N_("%(city)s time")


def format_locale(lang: str) -> str:
    """The Babel locale that formats dates and numbers for page language ``lang``."""
    return _FORMAT_LOCALES.get(lang, lang)


@cache
def zone_label(timezone: str, lang: str) -> str:
    """The zone of an office as a reader says it: ``heure de Paris``, ``Paris time``, ``توقيت باريس``."""
    city = get_timezone_location(ZoneInfo(timezone), locale=format_locale(lang), return_city=True)
    return translations(lang).gettext(ZONE_TIME) % {"city": city}


def _offset_label(moment: datetime) -> str:
    """A fixed offset's name, for a moment shown in its own offset (no office zone known)."""
    offset = moment.utcoffset()
    if not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours:02d}:{rest:02d}"


def _labelled(text: str, moment: datetime, lang: str, timezone: str | None) -> str:
    """``text`` with the zone it is written in: every time shown says whose clock it reads."""
    label = zone_label(timezone, lang) if timezone else _offset_label(moment)
    return f"{text} ({label})"


@cache
def _datetime_pattern(lang: str, short: bool) -> str:
    """A date and ``HH:mm`` joined as the language joins them (``jueves, 3 de diciembre de 2026, 09:00``)."""
    locale = format_locale(lang)
    day = (
        "d MMM y"
        if short
        else _LONG_DATE_PATTERNS.get(lang) or get_date_format("full", locale=locale).pattern
    )
    joiner = str(get_datetime_format("medium", locale=locale))
    return joiner.replace("{1}", day).replace("{0}", "HH:mm")


def fmt_datetime(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """A date and time in the reader's language, in ``timezone`` (the office's) when given, with its zone."""
    if moment is None:
        return ""
    pattern = _datetime_pattern(lang, short=False)
    zone = _zone(timezone)
    text = format_datetime(moment, pattern, tzinfo=zone or moment.tzinfo, locale=format_locale(lang))
    return _labelled(text, moment, lang, timezone)


def fmt_datetime_short(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """A compact date and time (tables), with its zone."""
    if moment is None:
        return ""
    pattern = _datetime_pattern(lang, short=True)
    zone = _zone(timezone)
    text = format_datetime(moment, pattern, tzinfo=zone or moment.tzinfo, locale=format_locale(lang))
    return _labelled(text, moment, lang, timezone)


def fmt_time(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """The time of day alone, with its zone."""
    if moment is None:
        return ""
    zone = _zone(timezone)
    text = format_time(moment, "HH:mm", tzinfo=zone or moment.tzinfo, locale=format_locale(lang))
    return _labelled(text, moment, lang, timezone)


def shared_zone(timezones: Iterable[str]) -> str | None:
    """The one zone all these offices share (times without an office are shown in it), else None (UTC)."""
    found = set(timezones)
    return found.pop() if len(found) == 1 else None


def fmt_date(day: date | None, lang: str) -> str:
    """A date in the reader's language."""
    if day is None:
        return ""
    return format_date(day, "long", locale=format_locale(lang))


def fmt_number(value: str | Decimal | int | float | None, lang: str) -> str:
    """A decimal in the reader's language (``1,5`` in French), as precise as given."""
    if value is None:
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    normalised = number.normalize()
    places = max(0, -int(normalised.as_tuple().exponent))
    pattern = "#,##0." + "#" * places if places else "#,##0"
    return format_decimal(normalised, format=pattern, locale=format_locale(lang))


def weekday_options(lang: str) -> list[tuple[str, str]]:
    """ISO weekday numbers (``"1"`` = Monday) with their names in the reader's language."""
    names = get_day_names("wide", locale=format_locale(lang))
    return [(str(index + 1), names[index].capitalize()) for index in range(7)]
