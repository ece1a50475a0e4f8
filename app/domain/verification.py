"""Verified entries: the rules that make a fake identity cost something.

A lottery stops bots from capturing slots, not from diluting the draw: an invented document number and
birth date make a valid request. Under ``entry_verification: "phone"`` an online request enters draws only
once its applicant typed back a one-time code sent by SMS to the French mobile number they gave; a request an
agent or a partner filed is verified by its channel, and one a registry import matched by its identity.

The code rules, all here and nowhere else: 6 digits, valid 15 minutes, 5 wrong tries, a new code at most
once a minute and 5 in 24 hours per request, 10 in 24 hours per number (an SMS-pumping bot pays the SMS but
gains nothing). Only ``HMAC-SHA256(secret, request id | code)`` is stored, compared in constant time; the
code travels to the SMSC sealed (:mod:`app.domain.proofs.sealing`, under a key derived from the server secret)
and the outbox forgets it once sent. Numbers are counted through ``HMAC-SHA256(pepper, E.164)``: the rule "a number
verifies at most ``max_requests_per_phone`` active requests of a service" needs no clear number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import date, timedelta
from enum import StrEnum

import phonenumbers

from app.domain.phones import DEFAULT_REGION, OVERSEAS_REGIONS
from app.domain.proofs import sealing

CODE_DIGITS = 6
CODE_VALIDITY = timedelta(minutes=15)
MAX_TRIES = 5
RESEND_AFTER = timedelta(minutes=1)
CODES_PER_REQUEST_DAY = 5
CODES_PER_NUMBER_DAY = 10
#: Texts other than codes a number receives a day until it has verified a code: naming a number at intake
#: proves nothing, so anyone could otherwise make the service text any mobile (one-time codes have their
#: own budget, ``CODES_PER_NUMBER_DAY``).
TEXTS_PER_UNVERIFIED_NUMBER_DAY = 3
#: "A day" of the code budgets: the last 24 hours (a rolling window, so midnight resets nothing).
DAY = timedelta(hours=24)
DEFAULT_MAX_REQUESTS_PER_PHONE = 3
DEFAULT_VERIFY_WITHIN_DAYS = 7
#: Under ``entry_verification: "registry"``: days before an unmatched request lapses (an import a month).
REGISTRY_VERIFY_WITHIN_DAYS = 35
#: How long an import keeps the keyed digests of its rows, to verify requests filed after it at once.
REGISTRY_RETENTION_DAYS = 90
#: The regions whose mobile numbers may receive a code: metropolitan France and the overseas departments.
FRENCH_REGIONS = frozenset((DEFAULT_REGION, *OVERSEAS_REGIONS))


class EntryVerification(StrEnum):
    """What a service asks before an online request enters its draws."""

    PHONE = "phone"
    #: Only identities matched to the permit registry import (or filed at a counter or by a partner) enter.
    REGISTRY = "registry"
    NONE = "none"


class VerificationStatus(StrEnum):
    """Whether a request counts for draws and for "one person, one chance"."""

    VERIFIED = "verified"
    UNVERIFIED = "unverified"


class VerificationMethod(StrEnum):
    """How a request was verified."""

    PHONE = "phone"
    COUNTER = "counter"
    PARTNER = "partner"
    REGISTRY = "registry"
    #: The service asks nothing (``entry_verification: "none"``): every request counts as verified.
    NONE = "none"


#: The channel that files a request and the method that verifies it there.
METHOD_OF_CHANNEL = {"counter": VerificationMethod.COUNTER, "partner": VerificationMethod.PARTNER}


def new_code() -> str:
    """A fresh one-time code: 6 decimal digits, uniformly drawn."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def is_code_shaped(typed: str) -> bool:
    """Whether ``typed`` (spaces ignored) is 6 ASCII digits."""
    squeezed = typed.replace(" ", "")
    return len(squeezed) == CODE_DIGITS and squeezed.isascii() and squeezed.isdigit()


def code_digest(secret: bytes, request_id: str, code: str) -> str:
    """What is stored of a code: ``HMAC-SHA256(secret, request id | code)`` (a leaked row is no code)."""
    message = f"{request_id}|{code.replace(' ', '')}".encode()
    return hmac.new(secret, b"fairslot phone code v1|" + message, hashlib.sha256).hexdigest()


def code_matches(secret: bytes, request_id: str, typed: str, stored: str) -> bool:
    """Whether ``typed`` is the code behind ``stored``, compared in constant time."""
    return hmac.compare_digest(code_digest(secret, request_id, typed), stored)


def recovery_digest(pepper: bytes, entry: str, birth_date: date) -> str:
    """What a lost-code recovery is counted by: ``HMAC(pepper, entry | birth date)``, whether or not a
    request matches (so that a stranger's tries and a holder's are counted, and answered, alike)."""
    return hmac.new(pepper, f"recovery|{entry}|{birth_date.isoformat()}".encode(), hashlib.sha256).hexdigest()


def phone_digest(pepper: bytes, e164: str) -> str:
    """The keyed digest a number is counted by (64 hex characters)."""
    return hmac.new(pepper, f"phone|{e164}".encode(), hashlib.sha256).hexdigest()


def is_french_mobile(e164: str | None) -> bool:
    """Whether an E.164 number is a mobile of metropolitan France or an overseas department."""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    kind = phonenumbers.number_type(number)
    mobile = kind in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
    return mobile and phonenumbers.region_code_for_number(number) in FRENCH_REGIONS


def masked(e164: str) -> str:
    """A number as shown back to its owner: ``+33 6 •• •• •• 78`` (the country code, the first digit of
    the national number and the last two digits)."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "•• " + e164[-2:]
    national = str(number.national_number)
    hidden = len(national) - 3
    groups = " ".join(["••"] * max(hidden // 2, 1))
    return f"+{number.country_code} {national[0]} {groups} {national[-2:]}"


#: The HKDF purpose of the codes the outbox carries (:mod:`app.domain.proofs.sealing`).
CODE_PURPOSE = b"fairslot phone code sealing v1"


def seal_code(secret: bytes, code: str, request_id: str) -> str:
    """The code as the outbox carries it, sealed and bound to the request (a sealed code moved to another
    request's message does not open)."""
    return sealing.seal(secret, CODE_PURPOSE, code.encode("ascii"), request_id)


def open_code(secret: bytes, text: str, request_id: str) -> str:
    """The code back; ``ValueError`` when it was not sealed with this secret for this request."""
    return sealing.open_sealed(secret, CODE_PURPOSE, text, request_id, what="code").decode("ascii")
