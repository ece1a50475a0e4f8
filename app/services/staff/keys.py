"""Staff keys: random, prefixed, stored as SHA-256, scoped by role and offices, revocable at once.

A key either belongs to a named account (made for it, with a role and offices within the account's, and
dead with it: disabled, or its role taken away) or is unowned: a key for a machine or a partner
organisation, and every key made before accounts existed. Only unowned keys open a web session; an owned
key is for the API, and its holder signs in on the pages as a person.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence

from sqlmodel import Session, col, select

from app.db.models import Office, StaffAccount, StaffKey
from app.domain.access import Access, Action, Role, needs_offices
from app.domain.errors import InvalidInput, NotFound, Unauthorized
from app.domain.staff.accounts import AccountStatus
from app.schemas.staff import StaffKeyCreate
from app.services import audit
from app.services.staff.principal import StaffPrincipal, operator
from app.services.unit_of_work import now_of

__all__ = ["KEY_PREFIX", "StaffPrincipal", "authenticate", "create_key", "operator", "revoke_key"]

KEY_PREFIX = "fsk_"


def hash_key(key: str) -> str:
    """The stored form of a key (SHA-256: keys carry 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def checked_offices(session: Session, role: str, offices: Sequence[str]) -> list[str]:
    """The offices of a grant, sorted, once each is known and the role has what it needs (422 otherwise)."""
    codes = sorted(set(offices))
    if needs_offices(Role(role)) and not codes:
        raise InvalidInput(
            f"a {role} needs at least one office",
            errors=[{"path": "offices", "message": "at least one office is needed for this role"}],
        )
    if codes:
        known = set(session.exec(select(Office.code).where(col(Office.code).in_(codes))).all())
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise InvalidInput(
                f"unknown offices: {', '.join(unknown)}",
                errors=[{"path": "offices", "message": f"unknown office {code!r}"} for code in unknown],
            )
    return codes


def create_key(
    *, session: Session, data: StaffKeyCreate, staff: StaffPrincipal, account: StaffAccount | None = None
) -> tuple[StaffKey, str]:
    """Create a key (for ``account`` when given); returns the row and the key itself, never stored nor
    shown again."""
    staff.require(Action.MANAGE_STAFF_KEYS)
    offices = checked_offices(session, data.role, data.offices)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = StaffKey(
        key_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 6],
        role=data.role,
        offices=offices,
        label=data.label.strip(),
        created_at=now_of(session),
        account_id=account.id if account is not None else None,
    )
    session.add(row)
    session.flush()
    details = {"account_id": account.id} if account is not None else {}
    audit.log(
        session,
        action="staff_key.created",
        subject=f"staff_key:{row.id}",
        actor=staff.actor,
        role=row.role,
        **details,
    )
    return row, key


def revoke_key(*, session: Session, key_id: int, staff: StaffPrincipal) -> StaffKey:
    """Revoke a key; it stops working on the next request."""
    staff.require(Action.MANAGE_STAFF_KEYS)
    row = session.get(StaffKey, key_id)
    if row is None:
        raise NotFound(f"no staff key {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now_of(session)
        session.add(row)
        session.flush()
        audit.log(session, action="staff_key.revoked", subject=f"staff_key:{row.id}", actor=staff.actor)
    return row


def principal_of(session: Session, row: StaffKey) -> StaffPrincipal | None:
    """The principal of a key row, or None when it is revoked or its account is disabled."""
    if row.revoked_at is not None or row.id is None:
        return None
    access = Access.of(row.role, row.offices)
    if row.account_id is None:
        return StaffPrincipal(key_id=row.id, access=access, display_name=row.label)
    account = session.get(StaffAccount, row.account_id)
    if account is None or account.status == AccountStatus.DISABLED:
        return None
    return StaffPrincipal(
        key_id=row.id, access=access, account_id=account.id, display_name=account.display_name
    )


def find(session: Session, key: str) -> StaffKey | None:
    """The row of a key, if it is one (revoked or not)."""
    if not key.startswith(KEY_PREFIX):
        return None
    return session.exec(select(StaffKey).where(StaffKey.key_hash == hash_key(key))).first()


def authenticate(session: Session, key: str) -> StaffPrincipal:
    """The principal of a valid key: not revoked, its account (if any) not disabled (401 otherwise)."""
    if not key.startswith(KEY_PREFIX):
        raise Unauthorized("not a staff key")
    row = find(session, key)
    principal = principal_of(session, row) if row is not None else None
    if principal is None:
        raise Unauthorized("unknown or revoked staff key")
    return principal


def list_keys(session: Session, *, account_id: int | None = None) -> Sequence[StaffKey]:
    """Every staff key (or an account's), newest first; hashes stay out of the pages."""
    query = select(StaffKey)
    if account_id is not None:
        query = query.where(StaffKey.account_id == account_id)
    return session.exec(query.order_by(col(StaffKey.id).desc())).all()


def revoke_owned(
    session: Session, *, account_id: int, keep: Access | None, reason: str, actor: str
) -> list[int]:
    """Revoke the account's live keys (those not within ``keep`` when given); returns their ids."""
    now = now_of(session)
    revoked = []
    for row in session.exec(
        select(StaffKey).where(StaffKey.account_id == account_id, col(StaffKey.revoked_at).is_(None))
    ).all():
        grant = Access.of(row.role, row.offices).grants[0]
        if keep is not None and grant.within(keep.grants):
            continue
        row.revoked_at = now
        session.add(row)
        assert row.id is not None
        revoked.append(row.id)
    if revoked:
        session.flush()
        audit.log(
            session,
            action="staff_key.revoked",
            subject=f"staff_account:{account_id}",
            actor=actor,
            keys=revoked,
            reason=reason,
        )
    return revoked
