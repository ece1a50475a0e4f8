"""A release's seed, encrypted at rest with the service secret until its draw reveals it.

Whoever reads the database alone (an administrator, a backup, a leaked dump) learns nothing of a future draw
from it: the seed is stored as AES-256-GCM ciphertext under a key derived (HKDF-SHA256) from the server
secret, bound to the release's public commitment, and only the draw opens it and publishes it in clear.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

PREFIX = "aesgcm1:"
_INFO = b"fairslot release seed sealing v1"


def _key(secret: bytes) -> AESGCM:
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret))


def seal(secret: bytes, seed: bytes, commitment: str) -> str:
    """The seed as text to store: ``aesgcm1:`` + base64url(nonce || ciphertext), bound to ``commitment``."""
    nonce = os.urandom(12)
    sealed = _key(secret).encrypt(nonce, seed, commitment.encode("ascii"))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def open_sealed(secret: bytes, text: str, commitment: str) -> bytes:
    """The seed back; ``ValueError`` when the text was not sealed with this secret for this commitment."""
    if not text.startswith(PREFIX):
        raise ValueError("not a sealed seed")
    raw = base64.urlsafe_b64decode(text[len(PREFIX) :].encode("ascii"))
    try:
        return _key(secret).decrypt(raw[:12], raw[12:], commitment.encode("ascii"))
    except InvalidTag as exc:
        raise ValueError("the sealed seed does not open with this secret") from exc
