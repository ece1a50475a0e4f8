"""Staff keys: random, prefixed, stored as SHA-256, scoped by role and offices, revocable at once."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db.models import Office, StaffKey
from app.domain.access import GLOBAL_ROLES, Action, Grant, Role
from app.domain.errors import InvalidInput, NotFound, Unauthorized
from app.schemas.staff import StaffKeyCreate
from app.services import audit
from app.services.unit_of_work import now_of

KEY_PREFIX = "fsk_"


@dataclass(frozen=True)
class StaffPrincipal:
    """The authenticated staff member behind a request."""

    key_id: int
    role: str
    offices: frozenset[str]
    #: Set only for the operator of the machine (the CLI, the demo loader): the audit log's actor name.
    name: str = ""

    @property
    def actor(self) -> str:
        """How the audit log names this staff member."""
        return self.name or f"staff:{self.key_id}"

    @property
    def grant(self) -> Grant:
        """The role and offices this key holds, as the access table reads them."""
        return Grant(role=Role(self.role), offices=self.offices)

    @property
    def reaches_every_office(self) -> bool:
        """Whether this key's scope is every office (admin, auditor)."""
        return self.role in GLOBAL_ROLES

    def covers(self, office_code: str) -> bool:
        """Whether this key may act for ``office_code``."""
        return self.grant.covers(office_code)

    def can(self, action: Action, office: str | None = None) -> bool:
        """Whether this key may perform ``action`` (for ``office``); see ``app.domain.access``."""
        return self.grant.can(action, office)

    def require(self, action: Action, office: str | None = None) -> None:
        """Refuse with 403 unless this key may perform ``action`` (for ``office``)."""
        self.grant.require(action, office)


def operator(name: str) -> StaffPrincipal:
    """The person at the machine's console (``fairslot admin``, the demo loader): an admin named ``name``.

    Whoever can run the CLI can read the database already, so the console acts with the admin role; the
    audit log names it ``name`` instead of a key number.
    """
    return StaffPrincipal(key_id=0, role=Role.ADMIN.value, offices=frozenset(), name=name)


def hash_key(key: str) -> str:
    """The stored form of a key (SHA-256: keys carry 256 random bits, so no slow hash is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(*, session: Session, data: StaffKeyCreate, staff: StaffPrincipal) -> tuple[StaffKey, str]:
    """Create a key; returns the row and the key itself, which is never stored nor shown again."""
    staff.require(Action.MANAGE_STAFF_KEYS)
    offices = sorted(set(data.offices))
    if data.role not in GLOBAL_ROLES and not offices:
        raise InvalidInput(
            f"a {data.role} key needs at least one office",
            errors=[{"path": "offices", "message": "at least one office is needed for this role"}],
        )
    if offices:
        known = set(session.exec(select(Office.code).where(Office.code.in_(offices))).all())  # type: ignore[attr-defined]
        unknown = [code for code in offices if code not in known]
        if unknown:
            raise InvalidInput(
                f"unknown offices: {', '.join(unknown)}",
                errors=[{"path": "offices", "message": f"unknown office {code!r}"} for code in unknown],
            )
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = StaffKey(
        key_hash=hash_key(key),
        prefix=key[: len(KEY_PREFIX) + 6],
        role=data.role,
        offices=offices,
        label=data.label.strip(),
        created_at=now_of(session),
    )
    session.add(row)
    session.flush()
    audit.log(
        session, action="staff_key.created", subject=f"staff_key:{row.id}", actor=staff.actor, role=row.role
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


def web_session_generation(session: Session, key_id: int) -> int:
    """The key's current web-session generation: a sign-in records it, a sign-out raises it."""
    row = session.get(StaffKey, key_id)
    return row.session_generation if row is not None else -1


def end_web_sessions(*, session: Session, key_id: int) -> None:
    """End every web session signed in with this key, server-side: a copied cookie stops working too."""
    session.execute(
        update(StaffKey)
        .where(col(StaffKey.id) == key_id)
        .values(session_generation=col(StaffKey.session_generation) + 1)
    )
    audit.log(
        session, action="staff_key.signed_out", subject=f"staff_key:{key_id}", actor=f"staff_key:{key_id}"
    )


def authenticate(session: Session, key: str) -> StaffPrincipal:
    """The principal of a valid, unrevoked key (401 otherwise)."""
    if not key.startswith(KEY_PREFIX):
        raise Unauthorized("not a staff key")
    row = session.exec(select(StaffKey).where(StaffKey.key_hash == hash_key(key))).first()
    if row is None or row.revoked_at is not None:
        raise Unauthorized("unknown or revoked staff key")
    assert row.id is not None
    return StaffPrincipal(key_id=row.id, role=row.role, offices=frozenset(row.offices))


def list_keys(session: Session) -> Sequence[StaffKey]:
    """Every staff key (its hash stays out of the pages), newest first."""
    return session.exec(select(StaffKey).order_by(col(StaffKey.id).desc())).all()


def principal_of_key(session: Session, key_id: int, generation: int | None) -> StaffPrincipal | None:
    """The principal of a web session's key, or ``None`` when the key is revoked or the session was ended
    since (its generation is older than the key's)."""
    row = session.get(StaffKey, key_id)
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    if generation != row.session_generation:  # signed out since (server-side revocation)
        return None
    return StaffPrincipal(key_id=row.id, role=row.role, offices=frozenset(row.offices))
