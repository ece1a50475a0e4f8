"""Phone numbers as applicants type them, to E.164, with the French overseas departments included.

A number in international form (``+262 692 12 34 56``, ``0033 6…``) is taken as written. A national
number (``06 12 34 56 78``) is read with the French numbering plan; the overseas departments share that
plan with their own country codes (Réunion and Mayotte +262, Guadeloupe, Saint-Martin and
Saint-Barthélemy +590, Martinique +596, Guyane +594, Saint-Pierre-et-Miquelon +508), so ``0692…`` is
Réunion and ``0269…`` Mayotte, never a metropolitan number. The parsing is libphonenumber's.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "FR"
#: Regions whose national numbers are written like metropolitan ones (a leading 0, then nine digits).
OVERSEAS_REGIONS = ("RE", "YT", "GP", "MQ", "GF", "PM", "BL", "MF")


class InvalidPhone(ValueError):
    """Not a phone number that can exist."""


def to_e164(text: str, region: str = DEFAULT_REGION) -> str:
    """``text`` as an E.164 number (``+33612345678``); ``InvalidPhone`` when no such number can exist."""
    raw = text.strip()
    candidates: list[phonenumbers.PhoneNumber] = []
    try:
        if raw.startswith(("+", "00")):
            candidates.append(phonenumbers.parse(raw, region))
        else:
            for overseas in OVERSEAS_REGIONS if region == DEFAULT_REGION else ():
                candidates.append(phonenumbers.parse(raw, overseas))
            candidates.append(phonenumbers.parse(raw, region))
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone("not a phone number") from exc
    for number in candidates:
        if phonenumbers.is_valid_number(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhone("not a valid phone number (for example 06 12 34 56 78 or +262 692 12 34 56)")
