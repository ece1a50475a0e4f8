"""The TOTP second factor (RFC 6238, 30-second steps, 6 digits, SHA-1: what every authenticator app reads).

A code is checked against the current step and the one before (a code typed as the step turns), and each
step is accepted once: a sign-in records the step it used, and a code of that step or an earlier one is
refused afterwards, so a code seen over a shoulder or replayed from a log is worth nothing.
"""

from __future__ import annotations

import re
from datetime import datetime

import pyotp

STEP_SECONDS = 30
DIGITS = 6
ISSUER = "Fairslot"
_CODE = re.compile(r"^\d{6}$")


def new_secret() -> str:
    """A new random base32 secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def spaced(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, email: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def step_of(moment: datetime) -> int:
    """The time step a moment falls in."""
    return int(moment.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime, last_used: int | None) -> int | None:
    """The step ``code`` belongs to (the current one or the previous one) if it is valid and not used yet."""
    typed = code.strip().replace(" ", "")
    if not _CODE.match(typed):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = step_of(now)
    for step in (current, current - 1):
        if last_used is not None and step <= last_used:
            continue
        if pyotp.utils.strings_equal(totp.generate_otp(step), typed):
            return step
    return None


def code_at(secret: str, moment: datetime) -> str:
    """The code of ``moment``'s step (what an authenticator app shows then)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step_of(moment))
