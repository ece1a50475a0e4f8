"""A release's seed, encrypted at rest with the service secret until its draw reveals it.

Whoever reads the database alone (an administrator, a backup, a leaked dump) learns nothing of a future draw
from it: the seed is sealed (:mod:`app.domain.proofs.sealing`: AES-256-GCM under a key derived from the server
secret), bound to the release's public commitment, and only the draw opens it and publishes it in clear.
"""

from __future__ import annotations

from app.domain.proofs import sealing

PURPOSE = b"fairslot release seed sealing v1"


def seal(secret: bytes, seed: bytes, commitment: str) -> str:
    """The seed as text to store, bound to ``commitment``."""
    return sealing.seal(secret, PURPOSE, seed, commitment)


def open_sealed(secret: bytes, text: str, commitment: str) -> bytes:
    """The seed back; ``ValueError`` when the text was not sealed with this secret for this commitment."""
    return sealing.open_sealed(secret, PURPOSE, text, commitment, what="seed")
