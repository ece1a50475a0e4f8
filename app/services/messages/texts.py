"""The texts of the messages to applicants, e-mail and SMS, in the six languages of the pages.

The English texts below are the msgids of the Babel domain ``notifications`` (catalogs in
``app/services/messages/locales/<lang>/LC_MESSAGES/notifications.po``, compiled by ``make translations``). One text
per event serves both channels: the SMS is the text alone, short and with the link to the status page;
the e-mail adds a subject and the request's reference. No message ever carries an access code: the link
opens the status page, where the applicant types it. The one exception to "no code in a message" is the
one-time verification code (``phone_code``, SMS only), which proves the number and is useless without the
access code. Dates are the office's local time (the message's ``timezone``), in the language's short format
(digits only in Latin scripts, so French and English texts stay in GSM-7; English is British, day first),
labelled with the zone ("heure de Paris").
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, get_timezone_location
from babel.support import NullTranslations, Translations

DOMAIN = "notifications"
LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("fr", "en", "ar", "es", "pt", "uk")
FALLBACK = "fr"


def N_(text: str) -> str:  # noqa: N802 (the gettext convention, for pybabel -k N_)
    """Mark a msgid for extraction (translated when rendered)."""
    return text


#: kind -> (e-mail subject, text). Every event of the design's list, and the older notices.
TEXTS: dict[str, tuple[str, str]] = {
    "request_received": (
        N_("Fairslot: request received"),
        N_(
            "Fairslot: your request {entry} is registered. We will tell you when a draw offers you an "
            "appointment. Status: {link}"
        ),
    ),
    "offer_made": (
        N_("Fairslot: an appointment is offered to you"),
        N_(
            "Fairslot: the draw offers you an appointment, {office}, {when}. Accept it before {deadline}, "
            "or it goes back to the draw: {link}"
        ),
    ),
    "offer_expiring": (
        N_("Fairslot: your offer expires soon"),
        N_("Fairslot: your offer ({office}, {when}) expires at {deadline}. Accept or decline it: {link}"),
    ),
    "booking_confirmed": (
        N_("Fairslot: appointment confirmed"),
        N_(
            "Fairslot: appointment booked, {office}, {when}. It is personal: bring the same identity "
            "document. {link}"
        ),
    ),
    "booking_cancelled": (
        N_("Fairslot: appointment cancelled"),
        N_(
            "Fairslot: your appointment ({office}, {when}) is cancelled; the slot goes back to the draw. {link}"
        ),
    ),
    "not_selected": (
        N_("Fairslot: not drawn this time, still in the queue"),
        N_(
            "Fairslot: the last draw did not select your request {entry}. It stays in the queue and its "
            "waiting time counts. {next} {link}"
        ),
    ),
    "booking_given_back": (
        N_("Fairslot: appointment given back"),
        N_(
            "Fairslot: you gave back your appointment ({office}, {when}). Your request is back in the next "
            "draws and keeps its waiting time: {link}"
        ),
    ),
    "booking_cancelled_by_office": (
        N_("Fairslot: the office cancels your appointment"),
        N_(
            "Fairslot: the office cancels your appointment ({office}, {when}): {reason}. Your request is back "
            "in the next draws, ahead of others, and keeps its waiting time: {link}"
        ),
    ),
    "offer_withdrawn_by_office": (
        N_("Fairslot: the office withdraws its offer"),
        N_(
            "Fairslot: the office withdraws the appointment offered to you ({office}, {when}): {reason}. Your "
            "request is back in the next draws, ahead of others: {link}"
        ),
    ),
    "slot_freed": (
        N_("Fairslot: offer expired"),
        N_(
            "Fairslot: the offer ({office}, {when}) expired without an answer. Your request stays in the "
            "next draws: {link}"
        ),
    ),
    "confirm_window_open": (
        N_("Fairslot: please confirm your appointment"),
        N_(
            "Fairslot: confirm your appointment ({office}, {when}) before {confirm_by}, or it will be "
            "released: {link}"
        ),
    ),
    "confirm_due_tomorrow": (
        N_("Fairslot: last day to confirm your appointment"),
        N_(
            "Fairslot: last day to confirm your appointment ({office}, {when}): before {confirm_by}, or "
            "it will be released. {link}"
        ),
    ),
    "released": (
        N_("Fairslot: appointment released"),
        N_(
            "Fairslot: your appointment ({office}, {when}) was not confirmed and is released. You may "
            "request again at once: {link}"
        ),
    ),
    "forfeited": (
        N_("Fairslot: appointment forfeited"),
        N_(
            "Fairslot: your appointment ({office}, {when}) is forfeited: a situation you declared was "
            "refuted at the desk. {link}"
        ),
    ),
    "phone_code": (
        N_("Fairslot: your verification code"),
        N_("Fairslot: your code is {code}. It is valid 15 minutes. Never give it to anyone."),
    ),
    "request_lapsed": (
        N_("Fairslot: request closed, not verified"),
        N_(
            "Fairslot: your request {entry} was not verified in time and is closed; it entered no draw. "
            "You may request again, or ask an office counter or a partner association: {link}"
        ),
    ),
    "appointment_tomorrow": (
        N_("Fairslot: your appointment is tomorrow"),
        N_("Fairslot: your appointment is tomorrow, {when}, {place}. {bring} {link}"),
    ),
}
#: A time's zone, by its city in the applicant's language ("heure de Paris").
ZONE_TIME = N_("{city} time")
#: The Babel locale of a message language's dates: English is British English (day, month, year).
FORMAT_LOCALES = {"en": "en_GB"}
BRING_DOCUMENT = N_("Bring the same identity document.")
BRING_EVIDENCE = N_("Bring the same identity document and proof of the situation you declared.")
EMAIL_REFERENCE = N_("Your request: {entry}")
#: The kinds that name an appointment to come: they say where to go and what to bring.
WITH_PLACE = frozenset(
    {
        "offer_made",
        "offer_expiring",
        "booking_confirmed",
        "confirm_window_open",
        "confirm_due_tomorrow",
        "appointment_tomorrow",
    }
)
SMS_ADDRESS = N_("Address: {address}")
PLACE_WHERE = N_("Where: {place}")
PLACE_PHONE = N_("Office phone: {office_phone}")
PLACE_ACCESS = N_("Access: {access_notes}")
PLACE_BRING = N_("What to bring:")
PLACE_TEXTS = (SMS_ADDRESS, PLACE_WHERE, PLACE_PHONE, PLACE_ACCESS, PLACE_BRING)
#: The news after a draw: the next draw of the request's offices and its estimated chance there.
NEXT_DRAW = N_("Next draw: {next_when}, {next_office}; estimated chance: {chance}.")
NO_NEXT_DRAW = N_("No next draw is scheduled yet at your offices.")
CHANCE_ABOUT = N_("about {percent} in 100")
CHANCE_LOW = N_("less than 1 in 100")
CHANCE_UNKNOWN = N_("not estimated yet")
NEWS_TEXTS = (NEXT_DRAW, NO_NEXT_DRAW, CHANCE_ABOUT, CHANCE_LOW, CHANCE_UNKNOWN)
EMAIL_WARNING = N_("Fairslot never asks for your access code: never give it to anyone.")


@cache
def translations(language: str) -> NullTranslations:
    """The compiled catalog of ``language`` (English msgids are their own text)."""
    return Translations.load(str(LOCALES), [language], domain=DOMAIN)


def _language(language: str) -> str:
    return language if language in LANGUAGES else FALLBACK


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _when(value: Any, language: str, timezone: str | None = None) -> str:
    if not value:
        return "?"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    locale = FORMAT_LOCALES.get(language, language)
    zone = ZoneInfo(timezone) if timezone else moment.tzinfo
    text = format_datetime(moment, "short", tzinfo=zone, locale=locale)
    if timezone:
        city = get_timezone_location(ZoneInfo(timezone), locale=locale, return_city=True)
        text += " (" + translations(language).gettext(ZONE_TIME).format(city=city) + ")"
    # CLDR puts narrow no-break spaces in some formats ("9:00 AM"): plain spaces keep GSM-7.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _fields(language: str, context: dict[str, Any], link: str) -> _Blank:
    gettext = translations(language).gettext
    office = context.get("office") or "?"
    address = context.get("address")
    fields = _Blank(
        {k: v for k, v in context.items() if isinstance(v, str) and k not in ("starts_at", "expires_at")}
    )
    zone = context.get("timezone")
    fields.update(
        office=office,
        when=_when(context.get("starts_at"), language, zone),
        deadline=_when(context.get("expires_at"), language, zone),
        confirm_by=_when(context.get("confirm_by"), language, zone),
        place=f"{office}, {address}" if address else office,
        bring=gettext(BRING_EVIDENCE if context.get("evidence") else BRING_DOCUMENT),
        link=link,
    )
    fields["next"] = _next_draw(language, context)
    return fields


def _next_draw(language: str, context: dict[str, Any]) -> str:
    """The next draw and the estimated chance there, as the status page shows them."""
    gettext = translations(language).gettext
    if not context.get("next_office"):
        return gettext(NO_NEXT_DRAW)
    chance = context.get("chance")
    if chance is None:
        said = gettext(CHANCE_UNKNOWN)
    elif chance < 0.01:
        said = gettext(CHANCE_LOW)
    else:
        said = gettext(CHANCE_ABOUT).format(percent=round(chance * 100))
    when = _when(context.get("next_at"), language, context.get("next_timezone"))
    return gettext(NEXT_DRAW).format(next_when=when, next_office=context["next_office"], chance=said)


def _documents(context: dict[str, Any], language: str) -> list[str]:
    documents = context.get("documents") or {}
    if not isinstance(documents, dict):
        return []
    return [str(item) for item in documents.get(language) or documents.get(FALLBACK) or []]


def place_text(language: str, context: dict[str, Any]) -> str:
    """Where to go and what to bring, in ``language``, from a message context (as a calendar file says it)."""
    language = _language(language)
    return _place_block("appointment", language, context, _fields(language, context, "")) or ""


def _place_block(kind: str, language: str, context: dict[str, Any], fields: _Blank) -> str | None:
    """Where to go and what to bring, for an e-mail about an appointment to come (none otherwise)."""
    if kind not in WITH_PLACE and kind != "appointment":
        return None
    gettext = translations(language).gettext
    lines = [gettext(PLACE_WHERE).format_map(fields)]
    if context.get("office_phone"):
        lines.append(gettext(PLACE_PHONE).format_map(fields))
    if context.get("access_notes"):
        lines.append(gettext(PLACE_ACCESS).format_map(fields))
    documents = _documents(context, language)
    if documents:
        lines.append(gettext(PLACE_BRING))
        lines.extend(f"- {item}" for item in documents)
    if kind != "appointment_tomorrow":  # its text already says it
        lines.append(fields["bring"])
    return "\n".join(lines)


def render_sms(kind: str, language: str, context: dict[str, Any], link: str) -> str:
    """The SMS text of a message (about an appointment to come: with the office's address)."""
    language = _language(language)
    _subject, text = TEXTS[kind]
    fields = _fields(language, context, link)
    sms = translations(language).gettext(text).format_map(fields)
    if kind in WITH_PLACE and kind != "appointment_tomorrow" and context.get("address"):
        sms += " " + translations(language).gettext(SMS_ADDRESS).format_map(fields)
    return sms


def render_email(kind: str, language: str, context: dict[str, Any], link: str) -> tuple[str, str]:
    """The subject and body of an e-mail."""
    language = _language(language)
    gettext = translations(language).gettext
    subject, text = TEXTS[kind]
    fields = _fields(language, context, link)
    parts = [gettext(text).format_map(fields), _place_block(kind, language, context, fields)]
    parts += [gettext(EMAIL_REFERENCE).format_map(fields), gettext(EMAIL_WARNING)]
    return gettext(subject), "\n\n".join(part for part in parts if part)
