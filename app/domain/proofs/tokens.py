"""Booking tokens: signed, identity-bound, non-transferable (design rule 3).

A booking token is a compact JWS (a JWT) signed with Ed25519 (``alg: EdDSA``). It carries the booking and a
keyed digest of the holder's identity key, never the identity key or the document number, so the token
alone reveals nothing about the holder and is worthless without the matching document at the desk.

Signing keys are derived from the server secret with HKDF, one per key id (``kid``): every process holding
the secret derives the same key, nothing private is ever stored, and rotating means adding a new ``kid``.
Verification accepts any ``kid`` still in the keyring, so tokens signed before a rotation keep verifying
until they expire; a ``kid`` can be dropped from the keyring once its last token has expired.

joserfc 1.8 marks the polymorphic ``EdDSA`` name as deprecated by RFC 9864 (in favour of ``Ed25519``) and
warns on each use. ``EdDSA`` is kept because verifiers support it far more widely, and the deprecation
concern (which curve is meant) does not arise: every key in the keyring is Ed25519. The registry below
therefore knows this single algorithm and nothing else (no ``none``, no HMAC), and emits no warning.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jws, jwt
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwa import EdDSA, JWSAlgModel
from joserfc.jwk import KeyParameters, OKPKey

__all__ = [
    "ISSUER",
    "TOKEN_ALG",
    "TOKEN_USE",
    "BookingClaims",
    "TokenExpired",
    "TokenInvalid",
    "TokenKeyring",
    "derive_signing_key",
    "holder_digest",
    "holder_matches",
    "token_expiry",
]

TOKEN_ALG = "EdDSA"
ISSUER = "fairslot"
TOKEN_USE = "booking"

_KEY_INFO_PREFIX = b"fairslot-token-key:"
_HOLDER_CONTEXT = b"fairslot-holder-v1\x00"
_KID_PATTERN = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_ALLOWED_HEADER = frozenset({"alg", "kid", "typ"})
_MAX_TOKEN_LENGTH = 4096
#: Other signed documents (attestations list every draw entered) may be longer.
_MAX_DOCUMENT_LENGTH = 16_000


class TokenInvalid(Exception):
    """A booking token that must be refused; ``reason`` is a stable snake_case word for logs and metrics."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenExpired(TokenInvalid):
    """A genuine booking token whose ``exp`` has passed."""

    def __init__(self, reason: str = "expired") -> None:
        super().__init__(reason)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _to_unix(value: datetime, name: str) -> int:
    _require_aware(value, name)
    return int(value.timestamp())


def _from_unix(payload: Mapping[str, Any], claim: str) -> datetime:
    value = payload.get(claim)
    if not isinstance(value, int) or isinstance(value, bool):
        raise TokenInvalid("invalid_claims")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError) as error:
        raise TokenInvalid("invalid_claims") from error


def _text(payload: Mapping[str, Any], claim: str) -> str:
    value = payload.get(claim)
    if not isinstance(value, str) or not value:
        raise TokenInvalid("invalid_claims")
    return value


@dataclass(frozen=True, slots=True)
class BookingClaims:
    """What a booking token asserts; times are timezone-aware and carried with one-second precision."""

    booking_id: str
    office: str
    service: str
    starts_at: datetime
    ends_at: datetime
    holder: str
    issued_at: datetime
    expires_at: datetime

    def to_payload(self) -> dict[str, Any]:
        """The compact JWT claims set for this booking."""
        return {
            "iss": ISSUER,
            "use": TOKEN_USE,
            "sub": self.booking_id,
            "off": self.office,
            "svc": self.service,
            "start": _to_unix(self.starts_at, "starts_at"),
            "end": _to_unix(self.ends_at, "ends_at"),
            "hld": self.holder,
            "iat": _to_unix(self.issued_at, "issued_at"),
            "exp": _to_unix(self.expires_at, "expires_at"),
        }

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> BookingClaims:
        """Read a claims set, raising TokenInvalid when a claim is missing, mistyped or foreign."""
        if not isinstance(payload, Mapping):
            raise TokenInvalid("invalid_claims")
        if payload.get("iss") != ISSUER:
            raise TokenInvalid("wrong_issuer")
        if payload.get("use") != TOKEN_USE:
            raise TokenInvalid("wrong_use")
        return cls(
            booking_id=_text(payload, "sub"),
            office=_text(payload, "off"),
            service=_text(payload, "svc"),
            starts_at=_from_unix(payload, "start"),
            ends_at=_from_unix(payload, "end"),
            holder=_text(payload, "hld"),
            issued_at=_from_unix(payload, "iat"),
            expires_at=_from_unix(payload, "exp"),
        )


def holder_digest(identity_key: str, booking_id: str, secret: bytes) -> str:
    """Keyed HMAC-SHA256 of the identity key bound to one booking (64 hex characters, not reversible)."""
    if "\x00" in identity_key or "\x00" in booking_id:
        raise ValueError("identity key and booking id must not contain NUL")
    message = _HOLDER_CONTEXT + booking_id.encode("utf-8") + b"\x00" + identity_key.encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def holder_matches(claims: BookingClaims, identity_key: str, secret: bytes) -> bool:
    """Whether the token's holder digest is that of this identity key, compared in constant time."""
    try:
        expected = holder_digest(identity_key, claims.booking_id, secret)
    except ValueError:
        return False
    return hmac.compare_digest(claims.holder.encode("utf-8"), expected.encode("ascii"))


def derive_signing_key(secret: bytes, kid: str) -> Ed25519PrivateKey:
    """The Ed25519 key for ``kid``, derived from the secret with HKDF-SHA256 (same secret, same key)."""
    if not secret:
        raise ValueError("the signing secret must not be empty")
    seed = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=_KEY_INFO_PREFIX + kid.encode("utf-8"),
    ).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


def token_expiry(ends_at: datetime, grace: timedelta) -> datetime:
    """When a booking's token stops verifying: the end of its slot plus a grace period."""
    _require_aware(ends_at, "ends_at")
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    return ends_at + grace


class _EdDSAOnlyRegistry(jws.JWSRegistry):
    """A JWS registry that resolves EdDSA and refuses every other algorithm, ``none`` included."""

    def get_alg(self, name: str) -> JWSAlgModel:
        """The EdDSA model, or UnsupportedAlgorithmError for any other name."""
        if name != TOKEN_ALG:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return EdDSA


_REGISTRY = _EdDSAOnlyRegistry(algorithms=[TOKEN_ALG])


@dataclass(frozen=True, slots=True)
class _KeyEntry:
    kid: str
    created_at: datetime
    private: OKPKey
    public: OKPKey


class TokenKeyring:
    """The signing keys known to this deployment: the newest signs, every listed one verifies."""

    def __init__(self, entries: Iterable[tuple[str, datetime]], secret: bytes) -> None:
        keys: dict[str, _KeyEntry] = {}
        for kid, created_at in entries:
            if not isinstance(kid, str) or not _KID_PATTERN.fullmatch(kid):
                raise ValueError(f"invalid key id {kid!r}: 1-64 characters of [A-Za-z0-9._:-]")
            if kid in keys:
                raise ValueError(f"duplicate key id {kid!r}")
            _require_aware(created_at, "created_at")
            private_key = derive_signing_key(secret, kid)
            parameters: KeyParameters = {"kid": kid, "use": "sig", "alg": TOKEN_ALG}
            keys[kid] = _KeyEntry(
                kid=kid,
                created_at=created_at,
                private=OKPKey.import_key(private_key, parameters),
                public=OKPKey.import_key(private_key.public_key(), parameters),
            )
        if not keys:
            raise ValueError("a keyring needs at least one key")
        self._keys = keys
        self._current = max(keys.values(), key=lambda entry: (entry.created_at, entry.kid))

    @property
    def current(self) -> str:
        """The key id that signs new tokens (the newest key)."""
        return self._current.kid

    @property
    def kids(self) -> tuple[str, ...]:
        """Every key id that verifies, newest first."""
        ordered = sorted(self._keys.values(), key=lambda e: (e.created_at, e.kid), reverse=True)
        return tuple(entry.kid for entry in ordered)

    def sign(self, claims: BookingClaims) -> str:
        """A compact JWS of the claims, signed with the current key."""
        header = {"alg": TOKEN_ALG, "kid": self._current.kid, "typ": "JWT"}
        return jwt.encode(header, claims.to_payload(), self._current.private, registry=_REGISTRY)

    def verify(self, token: str, *, now: datetime) -> BookingClaims:
        """The claims of a genuine, unexpired token; raises TokenInvalid or TokenExpired otherwise."""
        _require_aware(now, "now")
        payload = self._verified_payload(
            token, typ="JWT", typ_required=False, wrong_typ="malformed", max_length=_MAX_TOKEN_LENGTH
        )
        claims = BookingClaims.from_payload(payload)
        if now >= claims.expires_at:
            raise TokenExpired()
        return claims

    def sign_document(self, payload: Mapping[str, Any], *, typ: str) -> str:
        """A compact JWS of another kind of signed document (its own ``typ``), with the current key.

        The ``typ`` header keeps kinds apart: a booking token (``JWT``) never verifies as another kind,
        nor another kind as a booking token.
        """
        if typ == "JWT":
            raise ValueError("booking tokens are signed with sign()")
        header = {"alg": TOKEN_ALG, "kid": self._current.kid, "typ": typ}
        body = json.dumps(dict(payload), ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return jws.serialize_compact(header, body.encode("utf-8"), self._current.private, registry=_REGISTRY)

    def verify_document(self, token: str, *, typ: str) -> dict[str, Any]:
        """The payload of a genuine document of kind ``typ``; TokenInvalid (``wrong_type`` for any other
        kind, a booking token included) otherwise."""
        return self._verified_payload(
            token, typ=typ, typ_required=True, wrong_typ="wrong_type", max_length=_MAX_DOCUMENT_LENGTH
        )

    def _verified_payload(
        self, token: str, *, typ: str, typ_required: bool, wrong_typ: str, max_length: int
    ) -> dict[str, Any]:
        if not isinstance(token, str):
            raise TokenInvalid("malformed")
        token = token.strip()
        if len(token) > max_length or token.count(".") != 2 or not token.isascii():
            raise TokenInvalid("malformed")
        try:
            signed = jws.extract_compact(token.encode("ascii"), registry=_REGISTRY)
            header = signed.headers()
        except Exception as error:  # any failure to parse untrusted input is a refusal
            raise TokenInvalid("malformed") from error
        if not isinstance(header, dict) or not set(header) <= _ALLOWED_HEADER:
            raise TokenInvalid("malformed")
        if header.get("alg") != TOKEN_ALG:
            raise TokenInvalid("unsupported_alg")
        found_typ = header.get("typ") if typ_required else header.get("typ", typ)
        if found_typ != typ:
            raise TokenInvalid(wrong_typ)
        kid = header.get("kid")
        entry = self._keys.get(kid) if isinstance(kid, str) else None
        if entry is None:
            raise TokenInvalid("unknown_kid")
        try:
            genuine = jws.validate_compact(signed, entry.public, registry=_REGISTRY)
        except Exception as error:  # a signature that cannot even be checked is a bad one
            raise TokenInvalid("bad_signature") from error
        if not genuine:
            raise TokenInvalid("bad_signature")
        try:
            payload = json.loads(signed.payload)
        except (TypeError, ValueError) as error:
            raise TokenInvalid("invalid_claims") from error
        if not isinstance(payload, dict):
            raise TokenInvalid("invalid_claims")
        return payload

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK set (no private parts) that verifies every token this keyring accepts."""
        keys: list[dict[str, Any]] = []
        for kid in self.kids:
            jwk = dict(self._keys[kid].public.as_dict(private=False))
            jwk.pop("d", None)
            keys.append(jwk)
        return {"keys": keys}
