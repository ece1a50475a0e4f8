"""Invitations: a one-time link (72 hours) on which a person sets a password and enrols a TOTP second factor.

An admin's invitation (of a new account, or re-sent: the way to reset a forgotten password or a second
factor) replaces every earlier link of that account. Only the link's SHA-256 is stored; the link is shown
once to the admin and e-mailed through the outbox (sealed until sent). The TOTP secret the page shows is
made with the invitation and sealed with it, so the page shows the same QR code until the first code
confirms it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from app.db.models import StaffAccount, StaffInvitation
from app.domain.errors import InvalidInput, InvitationInvalid
from app.domain.staff import accounts as staff_accounts
from app.domain.staff import second_factor as totp
from app.domain.staff.accounts import AccountStatus
from app.schemas.staff import InvitationIssued
from app.services import audit
from app.services.messages import outbox
from app.services.staff import passwords, second_factor
from app.services.staff.second_factor import Enrolment

KIND = "staff_invitation"
MAX_TOKEN_CHARS = 128


def token_hash(token: str) -> str:
    """The stored form of an invitation token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def invitation_url(public_url: str, token: str) -> str:
    """The page a link opens."""
    return f"{public_url.rstrip('/')}/staff/invitations/{token}"


def issue(
    session: Session, *, account: StaffAccount, actor: str, now: datetime, public_url: str, secret: bytes
) -> InvitationIssued:
    """A new link for ``account`` (earlier ones stop working), e-mailed and returned to show once."""
    assert account.id is not None
    for earlier in session.exec(
        select(StaffInvitation).where(
            StaffInvitation.account_id == account.id, col(StaffInvitation.used_at).is_(None)
        )
    ).all():
        earlier.used_at = now
        session.add(earlier)
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(hours=staff_accounts.INVITATION_HOURS)
    session.add(
        StaffInvitation(
            account_id=account.id,
            token_hash=token_hash(token),
            totp_sealed=second_factor.seal(secret, totp.new_secret(), account.id),
            created_at=now,
            expires_at=expires_at,
        )
    )
    url = invitation_url(public_url, token)
    outbox.enqueue_staff_mail(
        session,
        kind=KIND,
        account_id=account.id,
        email=account.email,
        link=url,
        secret=secret,
        now=now,
        name=account.display_name,
        until=expires_at,
    )
    session.flush()
    audit.log(
        session,
        action="staff_account.invited",
        subject=f"staff_account:{account.id}",
        actor=actor,
        expires_at=expires_at.isoformat(),
    )
    return InvitationIssued(account_id=account.id, invitation_url=url, invitation_expires_at=expires_at)


def _valid(
    session: Session, token: str, now: datetime, *, lock: bool = False
) -> tuple[StaffInvitation, StaffAccount]:
    if not token or len(token) > MAX_TOKEN_CHARS:
        raise InvitationInvalid("no such invitation")
    query = select(StaffInvitation).where(StaffInvitation.token_hash == token_hash(token))
    row = session.exec(query.with_for_update() if lock else query).first()
    if row is None or row.used_at is not None or now >= row.expires_at:
        raise InvitationInvalid("this invitation link is unknown, used, replaced or expired")
    account = session.get(StaffAccount, row.account_id, with_for_update=lock)
    if account is None or account.status == AccountStatus.DISABLED:
        raise InvitationInvalid("this account is disabled")
    return row, account


@dataclass(frozen=True)
class InvitationView:
    """What the invitation page shows."""

    email: str
    display_name: str
    expires_at: datetime
    enrolment: Enrolment


def view(session: Session, *, token: str, now: datetime, secret: bytes) -> InvitationView:
    """The invitation behind ``token`` with its enrolment QR code (410 ``invitation_invalid`` otherwise)."""
    row, account = _valid(session, token, now)
    assert account.id is not None
    totp_secret = second_factor.open_secret(secret, row.totp_sealed, account.id)
    return InvitationView(
        account.email,
        account.display_name,
        row.expires_at,
        second_factor.enrolment(totp_secret, account.email),
    )


def accept(
    session: Session,
    *,
    token: str,
    password: str,
    password_again: str,
    code: str,
    now: datetime,
    secret: bytes,
) -> StaffAccount:
    """Set the password and the second factor (confirmed by a first code); the account is then active.

    422 naming ``password`` (too short, too common, the two differ) or ``code`` (not the app's code now);
    410 ``invitation_invalid`` for a link used, replaced or expired. Nothing changes on a refusal.
    """
    row, account = _valid(session, token, now, lock=True)
    assert account.id is not None
    errors = []
    found = passwords.problem(password)
    if found is None and password != password_again:
        found = "password_mismatch"
    if found is not None:
        errors.append({"path": "password", "message": passwords.MESSAGES[found], "type": found})
    totp_secret = second_factor.open_secret(secret, row.totp_sealed, account.id)
    step = totp.matching_step(totp_secret, code, now, None)
    if step is None:
        errors.append({"path": "code", "message": "not the code the app shows now", "type": "code_wrong"})
    if errors:
        raise InvalidInput("; ".join(f"{e['path']}: {e['message']}" for e in errors), errors=errors)
    account.password_hash = passwords.hash_password(password)
    account.totp_sealed = row.totp_sealed
    account.totp_last_step = step
    account.status = AccountStatus.ACTIVE.value
    account.enrolled_at = now
    account.failed_sign_ins = 0
    account.locked_until = None
    row.used_at = now
    session.add(account)
    session.add(row)
    session.flush()
    audit.log(
        session,
        action="staff_account.enrolled",
        subject=f"staff_account:{account.id}",
        actor=f"account:{account.id}",
    )
    return account
