"""Staff passwords: at least 12 characters, not among the 10,000 most common, hashed with Argon2id.

The list of common passwords ships with the project (``common_passwords.txt``, its origin in
``common_passwords.NOTICE``) and is compared lower-case, as it is written. Hashing uses argon2-cffi's
defaults (Argon2id, RFC 9106's low-memory profile); a hash made with older parameters is rehashed at the
next successful sign-in.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.domain.errors import InvalidInput
from app.domain.staff import accounts as staff_accounts

COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
_HASHER = PasswordHasher()
#: Verified against when an e-mail is unknown, so a sign-in takes as long whether the account exists or not.
_DECOY = _HASHER.hash("a decoy to spend the time of a real verification")

MESSAGES = {
    "password_too_short": f"at least {staff_accounts.PASSWORD_MIN_LENGTH} characters are needed",
    "password_too_long": f"at most {staff_accounts.PASSWORD_MAX_LENGTH} characters",
    "password_common": "this password is among the 10,000 most common: choose another",
    "password_mismatch": "the two passwords differ",
}


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, read once."""
    return frozenset(
        line.strip() for line in COMMON_PASSWORDS.read_text("utf-8").splitlines() if line.strip()
    )


def is_common(password: str) -> bool:
    """Whether ``password`` is on the list (compared lower-case)."""
    return password.lower() in common_passwords()


def problem(password: str) -> str | None:
    """Why ``password`` is refused, or None (``password_too_short``, ``password_too_long``, ``password_common``)."""
    return staff_accounts.password_problem(password, common=is_common(password))


def check(password: str) -> None:
    """Refuse a password the policy does not accept (422 naming ``password``, with its ``type``)."""
    found = problem(password)
    if found is not None:
        raise InvalidInput(
            f"password: {MESSAGES[found]}",
            errors=[{"path": "password", "message": MESSAGES[found], "type": found}],
        )


def hash_password(password: str) -> str:
    """The Argon2id hash to store."""
    return _HASHER.hash(password)


def verify(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (a decoy is verified when there is none, to take as long)."""
    try:
        return _HASHER.verify(stored or _DECOY, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` was made with older parameters."""
    return _HASHER.check_needs_rehash(stored)
