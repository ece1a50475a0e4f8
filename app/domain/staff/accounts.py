"""The rules of named staff accounts: their states, passwords, lockout, invitations and sessions.

A person is invited (a one-time link, valid ``INVITATION_HOURS``), enrols a password and a TOTP second
factor on the invitation page, and is then ``active``; an admin may disable the account (every session and
key it owns stops at once) and enable it again. ``LOCK_AFTER_FAILURES`` failed sign-ins in a row lock it for
``LOCK_MINUTES``. Server-side sessions end after ``SESSION_IDLE`` without a request, and after
``SESSION_MAX`` in any case. The numbers follow ANSSI's and OWASP ASVS level 2's floor for a password with a
second factor.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class AccountStatus(StrEnum):
    """Where an account stands."""

    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


class SignInMethod(StrEnum):
    """How a session was opened."""

    PASSWORD = "password"  # e-mail, password and TOTP code
    OIDC = "oidc"  # ProConnect or another OpenID Connect provider
    KEY = "key"  # an unowned staff key (machines, partner organisations)


class SessionEnd(StrEnum):
    """Why a session ended before its time."""

    SIGN_OUT = "sign_out"
    EVERYWHERE = "everywhere"  # "sign out everywhere" on the account page
    ADMIN = "admin"  # an admin ended the account's sessions
    DISABLED = "disabled"
    SECOND_FACTOR_RESET = "second_factor_reset"
    REPLACED = "replaced"  # a new sign-in on the same browser


PASSWORD_MIN_LENGTH = 12
#: Long passphrases are welcome; this only bounds the work of hashing what a client sends.
PASSWORD_MAX_LENGTH = 256
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
INVITATION_HOURS = 72
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=10)
#: A session's "last seen" is written at most this often (not on every page).
SESSION_TOUCH = timedelta(minutes=1)


def password_problem(password: str, *, common: bool) -> str | None:
    """Why ``password`` is refused (``password_too_short``, ``password_too_long``, ``password_common``), or None.

    ``common`` says whether it is among the shipped list of the most common passwords.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        return "password_too_short"
    if len(password) > PASSWORD_MAX_LENGTH:
        return "password_too_long"
    if common:
        return "password_common"
    return None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    """Whether an account is locked at ``now``."""
    return locked_until is not None and now < locked_until


def after_failure(failures: int, now: datetime) -> tuple[int, datetime | None]:
    """The failure count after one more failed sign-in, and the lock it brings (None: no lock yet).

    The count starts again once a lock is set, so the next five failures after it lock again.
    """
    failures += 1
    if failures >= LOCK_AFTER_FAILURES:
        return 0, now + timedelta(minutes=LOCK_MINUTES)
    return failures, None


def session_ends_at(created_at: datetime, last_seen_at: datetime) -> datetime:
    """When a session stops being valid: idle or maximum, whichever comes first."""
    return min(last_seen_at + SESSION_IDLE, created_at + SESSION_MAX)


def status_when_enabled(enrolled: bool) -> AccountStatus:
    """The status an account gets back when an admin enables it again."""
    return AccountStatus.ACTIVE if enrolled else AccountStatus.INVITED
