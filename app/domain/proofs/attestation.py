"""Signed attestations: proof, for an employer, a lawyer or a court, that a person asked and when.

An attestation is a compact JWS signed with the booking-token keyring (Ed25519, ``alg: EdDSA``, a ``kid``
of ``/api/v1/token-keys``), header ``typ: fairslot-attestation+jwt``. Its payload is the statement: who
asked (names), for what service and offices, through which channel, when, the request's status, and every
draw entered with its outcome. It carries no entry reference and no weight: draw records are public and
show weights, which would reveal declared vulnerabilities. A booking token is never accepted as an
attestation (its ``typ`` is ``JWT``), nor an attestation as a booking token.

The receipt's QR code carries a short ``/check`` link, not the whole JWS: the link holds a 128-bit secret
taken from the attestation's own digest. The service stores only a digest of that secret and the
attestation sealed (AES-GCM) under a key derived from it, so whoever holds the receipt can open and check
it, and a purged request's names are not readable from the store without the receipt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.domain.proofs.tokens import TokenInvalid, TokenKeyring

__all__ = [
    "ATTESTATION_TYP",
    "REASONS",
    "DrawOutcome",
    "Verdict",
    "build_statement",
    "link_code",
    "lookup_of",
    "seal",
    "sign",
    "unseal",
    "verify",
]

ATTESTATION_TYP = "fairslot-attestation+jwt"
MAX_LENGTH = 16_000
#: Why an attestation is refused: stable words for the API, the page and the logs.
REASONS = ("malformed", "not_an_attestation", "unknown_key", "tampered", "invalid_statement")
_REASON_OF = {
    "malformed": "malformed",
    "unsupported_alg": "malformed",
    "wrong_type": "not_an_attestation",
    "unknown_kid": "unknown_key",
    "bad_signature": "tampered",
    "invalid_claims": "invalid_statement",
}
_FIELDS = {
    "iss": str,
    "iat": int,
    "request_id": str,
    "family_name": str,
    "given_names": str,
    "service": str,
    "offices": list,
    "channel": str,
    "submitted_at": str,
    "status": str,
    "draws": list,
}
_DRAW_FIELDS = {"draw_id": int, "office": str, "drawn_at": str, "outcome": str}
_LINK_BYTES = 16
_LINK_CONTEXT = b"fairslot-attestation-link-v1\x00"


@dataclass(frozen=True)
class DrawOutcome:
    """One draw the request entered, as the attestation states it."""

    draw_id: int
    office: str
    drawn_at: datetime
    outcome: str


@dataclass(frozen=True)
class Verdict:
    """Genuine (with its statement) or not (with the reason)."""

    valid: bool
    statement: dict[str, Any] | None = None
    reason: str | None = None


def build_statement(
    *,
    issuer: str,
    issued_at: datetime,
    request_id: str,
    family_name: str,
    given_names: str,
    service: str,
    offices: Sequence[str],
    channel: str,
    submitted_at: datetime,
    status: str,
    draws: Sequence[DrawOutcome],
) -> dict[str, Any]:
    """The statement an attestation signs (times RFC 3339 in UTC, ``iat`` in Unix seconds)."""
    return {
        "iss": issuer,
        "iat": int(issued_at.timestamp()),
        "request_id": request_id,
        "family_name": family_name,
        "given_names": given_names,
        "service": service,
        "offices": list(offices),
        "channel": channel,
        "submitted_at": submitted_at.isoformat(),
        "status": status,
        "draws": [
            {
                "draw_id": d.draw_id,
                "office": d.office,
                "drawn_at": d.drawn_at.isoformat(),
                "outcome": d.outcome,
            }
            for d in draws
        ],
    }


def sign(ring: TokenKeyring, statement: dict[str, Any]) -> str:
    """The compact JWS of ``statement``, signed with the keyring's current key."""
    if not _well_formed(statement):
        raise ValueError("not a statement")
    return ring.sign_document(statement, typ=ATTESTATION_TYP)


def verify(ring: TokenKeyring, token: object) -> Verdict:
    """Whether ``token`` is a genuine attestation of this keyring; never raises on any input."""
    if not isinstance(token, str) or len(token) > MAX_LENGTH:
        return Verdict(False, reason="malformed")
    try:
        payload = ring.verify_document(token.strip(), typ=ATTESTATION_TYP)
    except TokenInvalid as refusal:
        return Verdict(False, reason=_REASON_OF.get(refusal.reason, "malformed"))
    if not _well_formed(payload):
        return Verdict(False, reason="invalid_statement")
    return Verdict(True, statement=payload)


def _well_formed(payload: dict[str, Any]) -> bool:
    if set(payload) != set(_FIELDS):
        return False
    if any(
        not isinstance(payload[name], kind) or isinstance(payload[name], bool)
        for name, kind in _FIELDS.items()
    ):
        return False
    if not all(isinstance(code, str) for code in payload["offices"]):
        return False
    for draw in payload["draws"]:
        if not isinstance(draw, dict) or set(draw) != set(_DRAW_FIELDS):
            return False
        if any(not isinstance(draw[n], k) or isinstance(draw[n], bool) for n, k in _DRAW_FIELDS.items()):
            return False
    return True


# The short link


def _link_secret(token: str) -> bytes:
    return hashlib.sha256(_LINK_CONTEXT + token.encode("ascii")).digest()[:_LINK_BYTES]


def link_code(token: str) -> str:
    """The short code of an attestation's ``/check`` link (26 base32 characters, 128 bits)."""
    return base64.b32encode(_link_secret(token)).decode("ascii").rstrip("=").lower()


def _secret_of(code: str) -> bytes | None:
    code = code.strip().upper()
    if len(code) != 26:
        return None
    try:
        secret = base64.b32decode(code + "=" * 6)
    except (binascii.Error, ValueError):
        return None
    return secret if len(secret) == _LINK_BYTES else None


def lookup_of(code: str) -> str | None:
    """What the store keeps of a link code (a digest; None for a code that is not one)."""
    secret = _secret_of(code)
    return hashlib.sha256(b"lookup\x00" + secret).hexdigest() if secret is not None else None


def _key(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fairslot-attestation-seal-v1").derive(
        secret
    )


def seal(token: str, code: str) -> str:
    """The attestation sealed under its link code (AES-GCM, random nonce), as base64 text."""
    secret = _secret_of(code)
    if secret is None:
        raise ValueError("not a link code")
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret)).encrypt(nonce, token.encode("ascii"), b"fairslot-attestation")
    return base64.b64encode(nonce + sealed).decode("ascii")


def unseal(sealed: str, code: str) -> str | None:
    """The attestation a link code opens, or None."""
    secret = _secret_of(code)
    if secret is None:
        return None
    try:
        raw = base64.b64decode(sealed)
        return AESGCM(_key(secret)).decrypt(raw[:12], raw[12:], b"fairslot-attestation").decode("ascii")
    except (InvalidTag, ValueError, binascii.Error):
        return None
