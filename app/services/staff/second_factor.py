"""The TOTP secret of an account, sealed at rest with the server secret, and what the enrolment page shows.

The secret is sealed (``app.domain.proofs.sealing``) and bound to its account, so a sealed secret copied
onto another account's row does not open; the rule for codes (the current step or the one before, each step
once) is the domain's (``app.domain.staff.second_factor``).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.proofs import sealing
from app.domain.proofs.qr import qr_svg
from app.domain.staff import second_factor

PURPOSE = b"fairslot staff totp v1"


def _bound(account_id: int) -> str:
    return f"staff-account:{account_id}"


def seal(secret: bytes, totp_secret: str, account_id: int) -> str:
    """The TOTP secret as stored."""
    return sealing.seal(secret, PURPOSE, totp_secret.encode("ascii"), _bound(account_id))


def open_secret(secret: bytes, sealed: str, account_id: int) -> str:
    """The TOTP secret back (``ValueError`` when it does not open for this account)."""
    return sealing.open_sealed(secret, PURPOSE, sealed, _bound(account_id), what="TOTP secret").decode(
        "ascii"
    )


@dataclass(frozen=True)
class Enrolment:
    """What the invitation page shows to enrol an authenticator app."""

    secret: str
    spaced: str
    uri: str
    qr_svg: str


def enrolment(totp_secret: str, email: str) -> Enrolment:
    """The QR code (an ``otpauth://`` URI) and the secret written out, for manual entry."""
    uri = second_factor.provisioning_uri(totp_secret, email)
    return Enrolment(totp_secret, second_factor.spaced(totp_secret), uri, qr_svg(uri))
