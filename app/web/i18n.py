"""Languages of the web pages: choice (query, cookie, Accept-Language), catalogs and locale formatting."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time, get_day_names
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from starlette.requests import Request

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
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


def from_accept_language(header: str) -> str | None:
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
        if primary in LANGUAGES and quality > 0:
            choices.append((-quality, index, primary))
    return min(choices)[2] if choices else None


def choose_language(request: Request) -> tuple[str, bool]:
    """The reader's language and whether it came from ``?lang=`` (then it is remembered in a cookie)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered, False
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE, False


def _zone(timezone: str | None) -> ZoneInfo | None:
    return ZoneInfo(timezone) if timezone else None


def fmt_datetime(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """A date and time in the reader's language, in ``timezone`` (the office's) when given."""
    if moment is None:
        return ""
    return format_datetime(
        moment, "EEEE d MMMM y, HH:mm", tzinfo=_zone(timezone) or moment.tzinfo, locale=lang
    )


def fmt_datetime_short(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """A compact date and time (tables)."""
    if moment is None:
        return ""
    return format_datetime(moment, "d MMM y, HH:mm", tzinfo=_zone(timezone) or moment.tzinfo, locale=lang)


def fmt_time(moment: datetime | None, lang: str, timezone: str | None = None) -> str:
    """The time of day alone."""
    if moment is None:
        return ""
    return format_time(moment, "HH:mm", tzinfo=_zone(timezone) or moment.tzinfo, locale=lang)


def fmt_date(day: date | None, lang: str) -> str:
    """A date in the reader's language."""
    if day is None:
        return ""
    return format_date(day, "long", locale=lang)


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
    return format_decimal(normalised, format="#,##0." + "#" * places if places else "#,##0", locale=lang)


def weekday_options(lang: str) -> list[tuple[str, str]]:
    """ISO weekday numbers (``"1"`` = Monday) with their names in the reader's language."""
    names = get_day_names("wide", locale=lang)
    return [(str(index + 1), names[index].capitalize()) for index in range(7)]
