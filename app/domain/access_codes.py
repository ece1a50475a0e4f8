"""Codes a person can read aloud and copy onto paper: access codes and entry references.

An access code opens one request. New codes are 16 symbols of Crockford's base32 (80 random bits) in four
groups, ``7KQ3-M2XD-PA9F-4HNT``: no I, L, O or U, so nothing reads as something else over a phone line.
Typing is forgiving: case, spaces and dashes are ignored and the look-alikes ``I``/``L`` (one) and ``O``
(zero) are read as Crockford says. Only the SHA-256 of the canonical form is stored. Codes issued before
this rule (URL-safe base64, case-sensitive) keep working: they are checked as typed.

The entry reference (``FS-XXXXX-XXXXX``, the draw record's opaque entry) is accepted wherever a request id
is, so a counter agent or an association can follow a request without a 36-character UUID.
"""

from __future__ import annotations

import hashlib
import re
import secrets

__all__ = [
    "ACCESS_CODE_SYMBOLS",
    "CROCKFORD",
    "canonical_access_code",
    "canonical_entry",
    "code_hashes",
    "hash_code",
    "new_access_code",
    "stored_hash",
]

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ACCESS_CODE_SYMBOLS = 16  # x 5 bits = 80 bits
_GROUP = 4
_LOOK_ALIKES = str.maketrans({"I": "1", "L": "1", "O": "0"})
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015]+")
_ENTRY_ALPHABET = frozenset("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
_ENTRY_TYPED = re.compile(r"^FS([A-Z0-9]{5})([A-Z0-9]{5})$")


def new_access_code() -> str:
    """A fresh access code: 80 random bits as four groups of four Crockford symbols."""
    symbols = "".join(secrets.choice(CROCKFORD) for _ in range(ACCESS_CODE_SYMBOLS))
    return "-".join(symbols[i : i + _GROUP] for i in range(0, ACCESS_CODE_SYMBOLS, _GROUP))


def canonical_access_code(typed: str) -> str | None:
    """The 16 symbols a typed code stands for (case, spaces, dashes and look-alikes forgiven), else None."""
    squeezed = _SEPARATORS.sub("", typed).upper().translate(_LOOK_ALIKES)
    if len(squeezed) != ACCESS_CODE_SYMBOLS or any(ch not in CROCKFORD for ch in squeezed):
        return None
    return squeezed


def hash_code(code: str) -> str:
    """SHA-256 of a code as stored (codes carry 80 to 192 random bits: no slow hash is needed)."""
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def stored_hash(code: str) -> str:
    """The stored form of a code just issued (its canonical symbols)."""
    canonical = canonical_access_code(code)
    return hash_code(canonical if canonical is not None else code)


def code_hashes(typed: str) -> tuple[str, ...]:
    """Every stored form ``typed`` may match: the canonical symbols, and the text as typed (older codes)."""
    canonical = canonical_access_code(typed)
    as_typed = hash_code(typed)
    return (hash_code(canonical), as_typed) if canonical is not None else (as_typed,)


def canonical_entry(typed: str) -> str | None:
    """``FS-XXXXX-XXXXX`` for a typed entry reference (case, spaces and dashes forgiven), else None."""
    squeezed = _SEPARATORS.sub("", typed).upper()
    match = _ENTRY_TYPED.match(squeezed)
    if match is None or any(ch not in _ENTRY_ALPHABET for ch in match[1] + match[2]):
        return None
    return f"FS-{match[1]}-{match[2]}"
