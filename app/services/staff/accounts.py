"""Named staff accounts, as admins manage them: invite, change roles, disable and enable, keys for an
account, a new invitation (also how a forgotten password is reset), a second factor reset, ending sessions.

Disabling an account ends every session and revokes every key it owns at once; taking a role away revokes
the keys that held it. Every act is audit-logged with the admin who did it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import StaffAccount, StaffKey
from app.domain.access import Access, Action, Role
from app.domain.errors import AlreadyExists, InvalidInput, NotFound
from app.domain.staff import accounts as staff_accounts
from app.domain.staff.accounts import AccountStatus, SessionEnd
from app.schemas.staff import (
    InvitationIssued,
    RoleGrant,
    RoleGrantPublic,
    StaffAccountCreate,
    StaffAccountPublic,
    StaffAccountUpdate,
    StaffKeyCreate,
)
from app.services import audit
from app.services.staff import invitations, passwords, second_factor, sessions
from app.services.staff import keys as staff_keys
from app.services.staff.principal import StaffPrincipal, access_of


def public(account: StaffAccount) -> StaffAccountPublic:
    """An account as admins see it."""
    assert account.id is not None
    return StaffAccountPublic(
        id=account.id,
        email=account.email,
        display_name=account.display_name,
        roles=[RoleGrantPublic(role=g["role"], offices=list(g.get("offices") or [])) for g in account.roles],
        status=account.status,
        second_factor=account.totp_sealed is not None,
        created_at=account.created_at,
        last_sign_in_at=account.last_sign_in_at,
        locked_until=account.locked_until,
    )


def _roles(session: Session, grants: Sequence[RoleGrant]) -> list[dict[str, Any]]:
    """The stored roles, in the access table's order, each role once, its offices known (422 otherwise)."""
    seen: dict[str, list[str]] = {}
    for i, grant in enumerate(grants):
        if grant.role in seen:
            raise InvalidInput(
                f"the role {grant.role} is given twice",
                errors=[{"path": f"roles.{i}.role", "message": "each role once, with all its offices"}],
            )
        try:
            seen[grant.role] = staff_keys.checked_offices(session, grant.role, grant.offices)
        except InvalidInput as exc:
            errors = [{**e, "path": f"roles.{i}.{e['path']}"} for e in exc.extra.get("errors", [])]
            raise InvalidInput(exc.detail, errors=errors) from exc
    return [{"role": role.value, "offices": seen[role.value]} for role in Role if role.value in seen]


def _get(session: Session, account_id: int, *, lock: bool = True) -> StaffAccount:
    account = session.get(StaffAccount, account_id, with_for_update=lock)
    if account is None:
        raise NotFound(f"no staff account {account_id}")
    return account


def list_accounts(*, session: Session, staff: StaffPrincipal) -> list[StaffAccountPublic]:
    """Every account, by e-mail (admin)."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    rows = session.exec(select(StaffAccount).order_by(col(StaffAccount.email))).all()
    return [public(row) for row in rows]


def get_account(*, session: Session, staff: StaffPrincipal, account_id: int) -> StaffAccountPublic:
    """One account (admin)."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    return public(_get(session, account_id, lock=False))


def create_account(
    *,
    session: Session,
    staff: StaffPrincipal,
    data: StaffAccountCreate,
    now: datetime,
    public_url: str,
    secret: bytes,
) -> tuple[StaffAccountPublic, InvitationIssued]:
    """Invite a new member of staff (admin); 409 ``already_exists`` when the e-mail has an account."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    roles = _roles(session, data.roles)
    if session.exec(select(StaffAccount.id).where(StaffAccount.email == data.email)).first() is not None:
        raise AlreadyExists(f"an account with the e-mail {data.email} exists", field="email")
    account = StaffAccount(
        email=data.email,
        display_name=data.display_name,
        roles=roles,
        status=AccountStatus.INVITED.value,
        created_at=now,
    )
    session.add(account)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # the same e-mail invited at the same moment by another admin
        raise AlreadyExists(f"an account with the e-mail {data.email} exists", field="email") from exc
    audit.log(
        session,
        action="staff_account.created",
        subject=f"staff_account:{account.id}",
        actor=staff.actor,
        roles=roles,
    )
    issued = invitations.issue(
        session, account=account, actor=staff.actor, now=now, public_url=public_url, secret=secret
    )
    return public(account), issued


def update_account(
    *, session: Session, staff: StaffPrincipal, account_id: int, data: StaffAccountUpdate, now: datetime
) -> StaffAccountPublic:
    """Change an account's name, roles or status (admin); disabling stops its sessions and keys at once."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    account = _get(session, account_id)
    changes: dict[str, Any] = {}
    if data.display_name is not None and data.display_name != account.display_name:
        account.display_name = data.display_name
        changes["display_name"] = data.display_name
    if data.roles is not None:
        roles = _roles(session, data.roles)
        if roles != account.roles:
            account.roles = roles
            changes["roles"] = roles
            staff_keys.revoke_owned(
                session,
                account_id=account_id,
                keep=access_of(roles),
                reason="roles changed",
                actor=staff.actor,
            )
    if data.status == AccountStatus.DISABLED and account.status != AccountStatus.DISABLED:
        account.status = AccountStatus.DISABLED.value
        account.disabled_at = now
        changes["status"] = account.status
        sessions.end_all(session, account_id=account_id, now=now, reason=SessionEnd.DISABLED)
        staff_keys.revoke_owned(
            session, account_id=account_id, keep=None, reason="disabled", actor=staff.actor
        )
    elif data.status == AccountStatus.ACTIVE and account.status == AccountStatus.DISABLED:
        account.status = staff_accounts.status_when_enabled(account.enrolled_at is not None).value
        account.disabled_at = None
        account.failed_sign_ins = 0
        account.locked_until = None
        changes["status"] = account.status
    if changes:
        session.add(account)
        session.flush()
        audit.log(
            session,
            action="staff_account.updated",
            subject=f"staff_account:{account_id}",
            actor=staff.actor,
            **changes,
        )
    return public(account)


def create_key(
    *, session: Session, staff: StaffPrincipal, account_id: int, data: StaffKeyCreate
) -> tuple[StaffKey, str]:
    """A key for an account, with a role and offices within the account's (422 otherwise)."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    account = _get(session, account_id)
    if account.status == AccountStatus.DISABLED:
        raise InvalidInput(
            "this account is disabled", errors=[{"path": "account", "message": "the account is disabled"}]
        )
    wanted = Access.of(data.role, staff_keys.checked_offices(session, data.role, data.offices)).grants[0]
    if not wanted.within(access_of(account.roles).grants):
        path = "role" if data.role not in {g["role"] for g in account.roles} else "offices"
        raise InvalidInput(
            "a key's role and offices must be within the account's",
            errors=[{"path": path, "message": "not within the account's roles and offices"}],
        )
    return staff_keys.create_key(session=session, data=data, staff=staff, account=account)


def _enabled(session: Session, account_id: int) -> StaffAccount:
    """The account, refused while it is disabled: an invitation or a new factor waits for it to be enabled."""
    account = _get(session, account_id)
    if account.status == AccountStatus.DISABLED:
        raise InvalidInput(
            "enable the account first", errors=[{"path": "status", "message": "the account is disabled"}]
        )
    return account


def reinvite(
    *, session: Session, staff: StaffPrincipal, account_id: int, now: datetime, public_url: str, secret: bytes
) -> InvitationIssued:
    """A new invitation link (the earlier ones stop): to finish enrolling, or to set a forgotten password."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    account = _enabled(session, account_id)
    return invitations.issue(
        session, account=account, actor=staff.actor, now=now, public_url=public_url, secret=secret
    )


def reset_second_factor(
    *, session: Session, staff: StaffPrincipal, account_id: int, now: datetime, public_url: str, secret: bytes
) -> InvitationIssued:
    """Forget the account's TOTP secret, end its sessions, and send a link to enrol a new one."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    account = _enabled(session, account_id)
    account.totp_sealed = None
    account.totp_last_step = None
    session.add(account)
    sessions.end_all(session, account_id=account_id, now=now, reason=SessionEnd.SECOND_FACTOR_RESET)
    session.flush()
    audit.log(
        session,
        action="staff_account.second_factor_reset",
        subject=f"staff_account:{account_id}",
        actor=staff.actor,
    )
    return invitations.issue(
        session, account=account, actor=staff.actor, now=now, public_url=public_url, secret=secret
    )


def end_sessions(*, session: Session, staff: StaffPrincipal, account_id: int, now: datetime) -> int:
    """End every web session of the account (admin); returns how many ended."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    _get(session, account_id)
    ended = sessions.end_all(session, account_id=account_id, now=now, reason=SessionEnd.ADMIN)
    audit.log(
        session,
        action="staff_account.sessions_ended",
        subject=f"staff_account:{account_id}",
        actor=staff.actor,
        ended=ended,
    )
    return ended


def keys_of(*, session: Session, staff: StaffPrincipal, account_id: int) -> Sequence[StaffKey]:
    """The keys made for an account, newest first (admin)."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    return staff_keys.list_keys(session, account_id=account_id)


def create_enrolled(
    *,
    session: Session,
    staff: StaffPrincipal,
    data: StaffAccountCreate,
    password: str,
    totp_secret: str,
    now: datetime,
    secret: bytes,
) -> StaffAccountPublic:
    """An active account with its password and second factor set at once, no invitation: for the operator
    at the console (the demo loader), who holds the machine anyway."""
    staff.require(Action.MANAGE_STAFF_ACCOUNTS)
    passwords.check(password)
    if session.exec(select(StaffAccount.id).where(StaffAccount.email == data.email)).first() is not None:
        raise AlreadyExists(f"an account with the e-mail {data.email} exists", field="email")
    account = StaffAccount(
        email=data.email,
        display_name=data.display_name,
        roles=_roles(session, data.roles),
        status=AccountStatus.ACTIVE.value,
        password_hash=passwords.hash_password(password),
        created_at=now,
        enrolled_at=now,
    )
    session.add(account)
    session.flush()
    assert account.id is not None
    account.totp_sealed = second_factor.seal(secret, totp_secret, account.id)
    session.add(account)
    session.flush()
    audit.log(
        session,
        action="staff_account.created",
        subject=f"staff_account:{account.id}",
        actor=staff.actor,
        roles=account.roles,
        enrolled=True,
    )
    return public(account)
