"""Web sessions of staff, kept on the server: the browser's cookie carries only an opaque random id.

Only the id's SHA-256 is stored. A session belongs to an account (signed in by password and TOTP, or
through OpenID Connect) or to an unowned key. It ends after ``SESSION_IDLE`` without a request and after
``SESSION_MAX`` in any case, and at once on sign-out, "sign out everywhere", an admin's order, or when the
account is disabled or the key revoked (checked on every request). A sign-in always makes a new id, and
ends the session the browser held before (no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db.models import StaffAccount, StaffKey, StaffSession
from app.domain.staff import accounts as staff_accounts
from app.domain.staff.accounts import AccountStatus, SessionEnd, SignInMethod
from app.domain.staff.actors import Via
from app.services import audit
from app.services.staff import keys as staff_keys
from app.services.staff.principal import StaffPrincipal, account_principal


def token_hash(token: str) -> str:
    """The stored form of a session id."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign_in_account(
    session: Session,
    account: StaffAccount,
    *,
    now: datetime,
    method: SignInMethod,
    replacing: str | None,
    **details: str,
) -> tuple[StaffPrincipal, str]:
    """An account whose factors were checked signs in: its session opens (the one ``replacing`` ends) and
    the audit log records ``staff.signed_in`` with ``details``; the principal and the session's id."""
    account.last_sign_in_at = now
    session.add(account)
    token = start(session, now=now, method=method, account_id=account.id, replacing=replacing)
    principal = account_principal(account, via=Via.WEB)
    audit.log(
        session,
        action="staff.signed_in",
        subject=f"staff_account:{account.id}",
        actor=principal.actor,
        method=method.value,
        **details,
    )
    return principal, token


def start(
    session: Session,
    *,
    now: datetime,
    method: SignInMethod,
    account_id: int | None = None,
    key_id: int | None = None,
    replacing: str | None = None,
) -> str:
    """Open a session; returns its new id, for the cookie (the session ``replacing`` ends)."""
    if replacing:
        end(session, replacing, now=now, reason=SessionEnd.REPLACED)
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            token_hash=token_hash(token),
            account_id=account_id,
            key_id=key_id,
            method=method.value,
            created_at=now,
            last_seen_at=now,
        )
    )
    session.flush()
    return token


def _live(session: Session, token: str) -> StaffSession | None:
    if not token or len(token) > 128:
        return None
    return session.exec(
        select(StaffSession).where(
            StaffSession.token_hash == token_hash(token), col(StaffSession.ended_at).is_(None)
        )
    ).first()


def principal_of(
    session: Session, token: str | None, *, now: datetime, via: Via = Via.WEB
) -> StaffPrincipal | None:
    """The staff member of a live session (its last-seen time refreshed), or None: unknown, ended, idle,
    too old, its account disabled or its key revoked."""
    row = _live(session, token or "")
    if row is None:
        return None
    if now >= staff_accounts.session_ends_at(row.created_at, row.last_seen_at):
        return None
    principal: StaffPrincipal | None = None
    if row.account_id is not None:
        account = session.get(StaffAccount, row.account_id)
        if account is not None and account.status != AccountStatus.DISABLED:
            principal = account_principal(account, via=via)
    elif row.key_id is not None:
        key = session.get(StaffKey, row.key_id)
        found = staff_keys.principal_of(session, key) if key is not None else None
        principal = (
            found.through(via) if found is not None and key is not None and key.account_id is None else None
        )
    if principal is None:
        return None
    if now - row.last_seen_at >= staff_accounts.SESSION_TOUCH:
        row.last_seen_at = now
        session.add(row)
        session.flush()
    return principal


def end(session: Session, token: str, *, now: datetime, reason: SessionEnd) -> int | None:
    """End one session (sign-out); returns its account id, if any."""
    row = _live(session, token)
    if row is None:
        return None
    row.ended_at = now
    row.end_reason = reason.value
    session.add(row)
    session.flush()
    return row.account_id


def end_all(session: Session, *, account_id: int, now: datetime, reason: SessionEnd) -> int:
    """End every live session of an account; returns how many ended."""
    result = session.execute(
        update(StaffSession)
        .where(col(StaffSession.account_id) == account_id, col(StaffSession.ended_at).is_(None))
        .values(ended_at=now, end_reason=reason.value)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class SessionView:
    """One session as its owner sees it on the account page."""

    id: int
    method: str
    created_at: datetime
    last_seen_at: datetime
    ends_at: datetime
    current: bool


def live_sessions(
    session: Session, *, account_id: int, now: datetime, current: str | None
) -> list[SessionView]:
    """An account's live sessions, newest first (the one of ``current`` marked)."""
    rows: Sequence[StaffSession] = session.exec(
        select(StaffSession)
        .where(StaffSession.account_id == account_id, col(StaffSession.ended_at).is_(None))
        .order_by(col(StaffSession.id).desc())
    ).all()
    mine = token_hash(current) if current else None
    views = []
    for row in rows:
        ends_at = staff_accounts.session_ends_at(row.created_at, row.last_seen_at)
        if ends_at <= now:
            continue
        assert row.id is not None
        views.append(
            SessionView(row.id, row.method, row.created_at, row.last_seen_at, ends_at, row.token_hash == mine)
        )
    return views


def filer_of(session: Session, token: str) -> str | None:
    """Who a session files requests as, for the per-filer intake budget (``account-N`` or ``key-N``)."""
    row = _live(session, token)
    if row is None:
        return None
    return f"account-{row.account_id}" if row.account_id is not None else f"key-{row.key_id}"
