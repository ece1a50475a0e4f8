"""The texts of the messages to applicants, e-mail and SMS, in the six languages of the pages.

The English texts below are the msgids of the Babel domain ``notifications`` (catalogs in
``app/services/messages/locales/<lang>/LC_MESSAGES/notifications.po``, compiled by ``make translations``). One text
per event serves both channels: the SMS is the text alone, short and with the link to the status page;
the e-mail adds a subject and the request's reference. No message ever carries an access code: the link
opens the status page, where the applicant types it. The one exception to "no code in a message" is the
one-time verification code (``phone_code``, SMS only), which proves the number and is useless without the
access code. Dates are the office's local time, in the
language's short format (digits only in Latin scripts, so French and English texts stay in GSM-7).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
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
BRING_DOCUMENT = N_("Bring the same identity document.")
BRING_EVIDENCE = N_("Bring the same identity document and proof of the situation you declared.")
EMAIL_REFERENCE = N_("Your request: {entry}")
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


def _when(value: Any, language: str) -> str:
    if not value:
        return "?"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    text = format_datetime(moment, "short", tzinfo=moment.tzinfo, locale=language)
    # CLDR puts narrow no-break spaces in some formats ("9:00 AM"): plain spaces keep GSM-7.
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _fields(language: str, context: dict[str, Any], link: str) -> _Blank:
    gettext = translations(language).gettext
    office = context.get("office") or "?"
    address = context.get("address")
    fields = _Blank(
        {k: v for k, v in context.items() if isinstance(v, str) and k not in ("starts_at", "expires_at")}
    )
    fields.update(
        office=office,
        when=_when(context.get("starts_at"), language),
        deadline=_when(context.get("expires_at"), language),
        confirm_by=_when(context.get("confirm_by"), language),
        place=f"{office}, {address}" if address else office,
        bring=gettext(BRING_EVIDENCE if context.get("evidence") else BRING_DOCUMENT),
        link=link,
    )
    return fields


def render_sms(kind: str, language: str, context: dict[str, Any], link: str) -> str:
    """The SMS text of a message."""
    language = _language(language)
    _subject, text = TEXTS[kind]
    return translations(language).gettext(text).format_map(_fields(language, context, link))


def render_email(kind: str, language: str, context: dict[str, Any], link: str) -> tuple[str, str]:
    """The subject and body of an e-mail."""
    language = _language(language)
    gettext = translations(language).gettext
    subject, text = TEXTS[kind]
    fields = _fields(language, context, link)
    body = "\n\n".join(
        (
            gettext(text).format_map(fields),
            gettext(EMAIL_REFERENCE).format_map(fields),
            gettext(EMAIL_WARNING),
        )
    )
    return gettext(subject), body
