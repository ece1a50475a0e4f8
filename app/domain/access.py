"""Who may do what: every staff action, and the one table of which role may do it.

A staff key has one role and a set of offices. Offices bound the reach of office-scoped roles; `admin` and
`auditor` are global. Services ask ``Grant.require(Action.X, office=code)`` once they have loaded (and locked)
what they act on; routes, pages and templates ask ``Grant.can(...)`` to decide what to show. Nothing else
spells a role name to decide a permission.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import Forbidden


class Role(StrEnum):
    """The roles a staff key can hold."""

    ADMIN = "admin"
    PLANNER = "planner"
    DESK = "desk"
    AGENT = "agent"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    PARTNER = "partner"


class Action(StrEnum):
    """Each thing a staff key can do."""

    MANAGE_CATALOG = "manage_catalog"  # offices and services
    MANAGE_STAFF_KEYS = "manage_staff_keys"
    PUBLISH_RELEASE = "publish_release"
    DRAW_RELEASE = "draw_release"
    CHECK_IN = "check_in"
    READ_BOOKINGS = "read_bookings"  # an office's appointments of a day, its exports and day sheet
    FILE_REQUEST = "file_request"  # at a counter, by phone, or for a partner's beneficiary
    OVERRIDE_DUPLICATE_PERSON = "override_duplicate_person"
    RECOVER_IDENTITY = "recover_identity"
    VERIFY_CLAIMS = "verify_claims"
    ACT_FOR_APPLICANT = "act_for_applicant"  # a partner on the requests it filed
    READ_STATISTICS = "read_statistics"  # the staff view: per partner and per channel
    READ_OUTBOX = "read_outbox"


#: Roles whose keys reach every office.
GLOBAL_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.AUDITOR})

#: The one table: which roles may perform each action (within their offices unless global).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_CATALOG: frozenset({Role.ADMIN}),
    Action.MANAGE_STAFF_KEYS: frozenset({Role.ADMIN}),
    Action.PUBLISH_RELEASE: frozenset({Role.PLANNER}),
    Action.DRAW_RELEASE: frozenset({Role.PLANNER}),
    Action.CHECK_IN: frozenset({Role.DESK}),
    Action.READ_BOOKINGS: frozenset({Role.DESK, Role.PLANNER, Role.AUDITOR, Role.ADMIN}),
    Action.FILE_REQUEST: frozenset({Role.AGENT, Role.PARTNER}),
    Action.OVERRIDE_DUPLICATE_PERSON: frozenset({Role.AGENT}),
    Action.RECOVER_IDENTITY: frozenset({Role.AGENT, Role.DESK}),
    Action.VERIFY_CLAIMS: frozenset({Role.VERIFIER}),
    Action.ACT_FOR_APPLICANT: frozenset({Role.PARTNER}),
    Action.READ_STATISTICS: frozenset({Role.ADMIN, Role.AUDITOR, Role.PLANNER}),
    Action.READ_OUTBOX: frozenset({Role.ADMIN, Role.AUDITOR}),
}


@dataclass(frozen=True)
class Grant:
    """What one staff key holds: a role and the offices it serves."""

    role: Role
    offices: frozenset[str]

    def covers(self, office: str) -> bool:
        """Whether this key reaches ``office``."""
        return self.role in GLOBAL_ROLES or office in self.offices

    def can(self, action: Action, office: str | None = None) -> bool:
        """Whether this key may perform ``action`` (for ``office`` when the action is about one)."""
        if self.role not in PERMISSIONS[action]:
            return False
        return office is None or self.covers(office)

    def require(self, action: Action, office: str | None = None) -> None:
        """Refuse with 403 unless this key may perform ``action`` (for ``office``)."""
        allowed = PERMISSIONS[action]
        if self.role not in allowed:
            roles = " or ".join(sorted(allowed))
            raise Forbidden(
                f"{action.value.replace('_', ' ')} needs the role {roles}; this key is {self.role}"
            )
        if office is not None and not self.covers(office):
            raise Forbidden(f"this key is not scoped to office {office!r}", office=office)
