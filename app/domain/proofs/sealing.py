"""Sealing a short secret for storage: AES-256-GCM under a key derived (HKDF-SHA256) from the server secret.

Each use names its own ``purpose`` (the HKDF info, so one use's key opens nothing of another's) and binds
the sealed text to a public value (the associated data: a release's commitment, a request id), so a sealed
value copied onto another row does not open. The text is ``aesgcm1:`` + base64url(nonce || ciphertext).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "aesgcm1:"
NONCE_BYTES = 12


def _key(secret: bytes, purpose: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret))


def seal(secret: bytes, purpose: bytes, plaintext: bytes, bound_to: str) -> str:
    """``plaintext`` as text to store, bound to ``bound_to``."""
    nonce = os.urandom(NONCE_BYTES)
    sealed = _key(secret, purpose).encrypt(nonce, plaintext, bound_to.encode("ascii"))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(secret: bytes, purpose: bytes, text: str, bound_to: str, *, what: str) -> bytes:
    """The plaintext back; ``ValueError`` (naming ``what``) when ``text`` was not sealed with this secret,
    for this purpose and bound to ``bound_to``."""
    if not text.startswith(PREFIX):
        raise ValueError(f"not a sealed {what}")
    raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    try:
        return _key(secret, purpose).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode("ascii"))
    except InvalidTag as exc:
        raise ValueError(f"the sealed {what} does not open with this secret") from exc
