"""Signing in on the staff pages: e-mail, password and TOTP code; or an unowned key; and signing out.

Whatever fails (an unknown e-mail, a wrong password, a wrong or reused code, a locked or disabled account),
the answer is the same ``401 sign_in_refused``, and an unknown e-mail costs the same Argon2 verification as
a known one, so nothing tells whether an account exists. ``LOCK_AFTER_FAILURES`` failures in a row lock the
account for ``LOCK_MINUTES`` (the count is committed with the refusal); per-address limits apply on top
(``app.http.ratelimit``). A TOTP step is accepted once: the account row is locked while the code is checked,
so two sign-ins racing with one code cannot both pass.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from app.db.models import StaffAccount
from app.domain.errors import KeyOwned, SignInRefused, Unauthorized
from app.domain.staff import accounts as staff_accounts
from app.domain.staff import second_factor as totp
from app.domain.staff.accounts import AccountStatus, SessionEnd, SignInMethod
from app.domain.staff.actors import Via
from app.services import audit
from app.services.staff import keys as staff_keys
from app.services.staff import passwords, second_factor, sessions
from app.services.staff.principal import StaffPrincipal

REFUSED = "the e-mail, password or code is not right, or the account is locked or disabled"
MAX_EMAIL_CHARS = 254


def _refuse() -> SignInRefused:
    # keep_changes: the failure count (and a lock) is committed with the refusal.
    return SignInRefused(REFUSED, keep_changes=True)


def with_password(
    *,
    session: Session,
    email: str,
    password: str,
    code: str,
    now: datetime,
    secret: bytes,
    replacing: str | None = None,
) -> tuple[StaffPrincipal, str]:
    """Sign an account in; returns its principal and the new session id (401 ``sign_in_refused``)."""
    address = email.strip().lower()[:MAX_EMAIL_CHARS]
    account = session.exec(
        select(StaffAccount).where(StaffAccount.email == address).with_for_update()
    ).first()
    if account is None or password == "" or len(password) > staff_accounts.PASSWORD_MAX_LENGTH:
        passwords.verify(None, password[: staff_accounts.PASSWORD_MAX_LENGTH])  # the same time as a real one
        raise _refuse()
    assert account.id is not None
    password_ok = passwords.verify(account.password_hash, password)
    step = None
    if account.totp_sealed is not None:
        totp_secret = second_factor.open_secret(secret, account.totp_sealed, account.id)
        step = totp.matching_step(totp_secret, code, now, account.totp_last_step)
    usable = account.status == AccountStatus.ACTIVE and not staff_accounts.is_locked(
        account.locked_until, now
    )
    if not (usable and password_ok and step is not None):
        if account.status != AccountStatus.DISABLED and not staff_accounts.is_locked(
            account.locked_until, now
        ):
            account.failed_sign_ins, lock = staff_accounts.after_failure(account.failed_sign_ins, now)
            if lock is not None:
                account.locked_until = lock
                audit.log(
                    session,
                    action="staff_account.locked",
                    subject=f"staff_account:{account.id}",
                    actor="sign-in",
                    until=lock.isoformat(),
                )
            session.add(account)
            session.flush()
        raise _refuse()
    assert account.password_hash is not None
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.totp_last_step = step
    account.failed_sign_ins = 0
    account.locked_until = None
    return sessions.sign_in_account(
        session, account, now=now, method=SignInMethod.PASSWORD, replacing=replacing
    )


def with_key(
    *, session: Session, key: str, now: datetime, replacing: str | None = None
) -> tuple[StaffPrincipal, str]:
    """Sign an unowned key in (machines, partner organisations); an owned key answers 401 ``key_owned``."""
    row = staff_keys.find(session, key.strip())
    principal = staff_keys.principal_of(session, row) if row is not None else None
    if row is None or principal is None:
        raise Unauthorized("unknown or revoked staff key")
    if row.account_id is not None:
        raise KeyOwned("this key belongs to a named account: sign in with its e-mail, password and code")
    token = sessions.start(session, now=now, method=SignInMethod.KEY, key_id=row.id, replacing=replacing)
    audit.log(
        session,
        action="staff.signed_in",
        subject=f"staff_key:{row.id}",
        actor=principal.through(Via.WEB).actor,
        method="key",
    )
    return principal, token


def sign_out(
    *, session: Session, token: str | None, now: datetime, reason: SessionEnd = SessionEnd.SIGN_OUT
) -> None:
    """End this browser's session on the server (a copy of its cookie stops working too)."""
    if token:
        sessions.end(session, token, now=now, reason=reason)


def sign_out_everywhere(*, session: Session, staff: StaffPrincipal, now: datetime) -> int:
    """End every session of the signed-in account ("sign out everywhere"); returns how many ended."""
    if staff.account_id is None:
        return 0
    ended = sessions.end_all(session, account_id=staff.account_id, now=now, reason=SessionEnd.EVERYWHERE)
    audit.log(
        session,
        action="staff_account.sessions_ended",
        subject=f"staff_account:{staff.account_id}",
        actor=staff.actor,
        ended=ended,
        everywhere=True,
    )
    return ended
