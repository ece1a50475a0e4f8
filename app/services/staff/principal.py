"""The staff member behind a request: a named account (signed in, or through a key it owns) or an unowned key.

Every service takes a ``StaffPrincipal`` and asks it ``require`` / ``can`` (the access table of
``app.domain.access``); the audit log reads its ``actor`` (account, display name, key, face).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from app.db.models import StaffAccount
from app.domain.access import Access, Action, Grant, Role
from app.domain.staff.actors import Actor, Via


@dataclass(frozen=True)
class StaffPrincipal:
    """The authenticated staff member behind a request."""

    #: The key used (None for an account signed in on the web by password or OpenID Connect).
    key_id: int | None
    access: Access
    #: The named account, when the principal is one (or a key it owns).
    account_id: int | None = None
    display_name: str = ""
    #: The face the request came through, once known (``api``, ``web``).
    via: Via | None = None
    #: Set only for the operator of the machine (the CLI, the demo loader): the audit log's actor name.
    name: str = ""

    @property
    def role(self) -> str:
        """The first role held, in the access table's order (the one a single-role key holds)."""
        return self.access.roles[0].value if self.access.roles else ""

    @property
    def roles(self) -> tuple[Role, ...]:
        """Every role held."""
        return self.access.roles

    @property
    def offices(self) -> frozenset[str]:
        """Every office a grant names."""
        return self.access.offices

    @property
    def actor(self) -> Actor:
        """How the audit log names this staff member."""
        if self.name:
            return Actor(self.name, display_name=self.name, via=self.via or Via.CLI)
        if self.account_id is not None:
            label = f"account:{self.account_id}" if self.key_id is None else f"staff:{self.key_id}"
            return Actor(
                label,
                account_id=self.account_id,
                display_name=self.display_name,
                key_id=self.key_id,
                via=self.via,
            )
        label = f"staff:{self.key_id}"
        return Actor(label, display_name=self.display_name or label, key_id=self.key_id, via=self.via)

    @property
    def reaches_every_office(self) -> bool:
        """Whether some grant reaches every office (an admin, an auditor naming no office)."""
        return self.access.reaches_every_office

    def through(self, via: Via) -> StaffPrincipal:
        """The same principal, acting through ``via``."""
        return replace(self, via=via)

    def covers(self, office_code: str) -> bool:
        """Whether some grant reaches ``office_code``."""
        return self.access.covers(office_code)

    def can(self, action: Action, office: str | None = None) -> bool:
        """Whether this staff member may perform ``action`` (for ``office``); see ``app.domain.access``."""
        return self.access.can(action, office)

    def reach(self, action: Action) -> frozenset[str] | None:
        """The offices where ``action`` is allowed (None: every office)."""
        return self.access.reach(action)

    def require(self, action: Action, office: str | None = None) -> None:
        """Refuse with 403 unless this staff member may perform ``action`` (for ``office``)."""
        self.access.require(action, office)


def operator(name: str) -> StaffPrincipal:
    """The person at the machine's console (``fairslot admin``, the demo loader): an admin named ``name``.

    Whoever can run the CLI can read the database already, so the console acts with the admin role; the
    audit log names it ``name`` instead of a key number.
    """
    return StaffPrincipal(key_id=0, access=Access.of(Role.ADMIN), name=name, via=Via.CLI)


def access_of(roles: list[dict[str, Any]]) -> Access:
    """The grants of an account's stored roles (``[{"role": ..., "offices": [...]}, ...]``)."""
    return Access(tuple(Grant(Role(str(g["role"])), frozenset(_codes(g.get("offices")))) for g in roles))


def _codes(value: object) -> list[str]:
    return [str(code) for code in value] if isinstance(value, list) else []


def account_principal(account: StaffAccount, *, via: Via | None = None) -> StaffPrincipal:
    """The principal of an account signed in as a person."""
    return StaffPrincipal(
        key_id=None,
        access=access_of(account.roles),
        account_id=account.id,
        display_name=account.display_name,
        via=via,
    )
