"""Who may do what: every staff action, and the one table of which role may do it.

A grant is one role with a set of offices. A staff key holds one grant; a named staff account holds one or
more (a planner of Bobigny who is also a desk agent of Paris holds two). Offices bound the reach of
office-scoped roles; ``admin`` and ``auditor`` reach every office, unless their grant names offices, which
then bound them too (an auditor of one prefecture). Services ask ``Access.require(Action.X, office=code)``
once they have loaded (and locked) what they act on; routes, pages and templates ask ``Access.can(...)`` to
decide what to show. Nothing else spells a role name to decide a permission.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from app.domain.errors import Forbidden


class Role(StrEnum):
    """The roles a staff key or account can hold."""

    ADMIN = "admin"
    PLANNER = "planner"
    DESK = "desk"
    AGENT = "agent"
    VERIFIER = "verifier"
    AUDITOR = "auditor"
    PARTNER = "partner"


#: The roles a named staff account can hold (partner organisations sign in with their partner key).
ACCOUNT_ROLES: tuple[Role, ...] = (
    Role.ADMIN,
    Role.PLANNER,
    Role.DESK,
    Role.AGENT,
    Role.VERIFIER,
    Role.AUDITOR,
)


class Action(StrEnum):
    """Each thing a staff key or account can do."""

    MANAGE_CATALOG = "manage_catalog"  # offices and services
    MANAGE_STAFF_KEYS = "manage_staff_keys"
    MANAGE_STAFF_ACCOUNTS = "manage_staff_accounts"  # invite, change roles, disable, reset, end sessions
    PUBLISH_RELEASE = "publish_release"
    DRAW_RELEASE = "draw_release"
    CHECK_IN = "check_in"
    FILE_REQUEST = "file_request"  # at a counter, by phone, or for a partner's beneficiary
    OVERRIDE_DUPLICATE_PERSON = "override_duplicate_person"
    RECOVER_IDENTITY = "recover_identity"
    VERIFY_CLAIMS = "verify_claims"
    ACT_FOR_APPLICANT = "act_for_applicant"  # a partner on the requests it filed
    READ_STATISTICS = "read_statistics"  # the staff view: per partner and per channel
    READ_OUTBOX = "read_outbox"
    READ_AUDIT = "read_audit"  # the audit log and its chain
    PLAN_OFFICE = "plan_office"  # opening schedules and closures
    WITHDRAW_RELEASE = "withdraw_release"
    MANAGE_RELEASE_RULES = "manage_release_rules"
    READ_RELEASE_RULES = "read_release_rules"
    READ_CALENDAR = "read_calendar"  # the office's days: schedules, holidays, closures, counts
    READ_CAPACITY_ADVICE = "read_capacity_advice"


#: Roles whose grants reach every office when they name none.
GLOBAL_ROLES: frozenset[Role] = frozenset({Role.ADMIN, Role.AUDITOR})

#: The one table: which roles may perform each action (within their offices unless global).
PERMISSIONS: dict[Action, frozenset[Role]] = {
    Action.MANAGE_CATALOG: frozenset({Role.ADMIN}),
    Action.MANAGE_STAFF_KEYS: frozenset({Role.ADMIN}),
    Action.MANAGE_STAFF_ACCOUNTS: frozenset({Role.ADMIN}),
    Action.PUBLISH_RELEASE: frozenset({Role.PLANNER}),
    Action.DRAW_RELEASE: frozenset({Role.PLANNER}),
    Action.CHECK_IN: frozenset({Role.DESK}),
    Action.FILE_REQUEST: frozenset({Role.AGENT, Role.PARTNER}),
    Action.OVERRIDE_DUPLICATE_PERSON: frozenset({Role.AGENT}),
    Action.RECOVER_IDENTITY: frozenset({Role.AGENT, Role.DESK}),
    Action.VERIFY_CLAIMS: frozenset({Role.VERIFIER}),
    Action.ACT_FOR_APPLICANT: frozenset({Role.PARTNER}),
    Action.READ_STATISTICS: frozenset({Role.ADMIN, Role.AUDITOR, Role.PLANNER}),
    Action.READ_OUTBOX: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.READ_AUDIT: frozenset({Role.ADMIN, Role.AUDITOR}),
    Action.PLAN_OFFICE: frozenset({Role.ADMIN, Role.PLANNER}),
    Action.WITHDRAW_RELEASE: frozenset({Role.PLANNER}),
    Action.MANAGE_RELEASE_RULES: frozenset({Role.PLANNER}),
    Action.READ_RELEASE_RULES: frozenset({Role.ADMIN, Role.AUDITOR, Role.PLANNER}),
    Action.READ_CALENDAR: frozenset({Role.ADMIN, Role.AUDITOR, Role.PLANNER, Role.DESK}),
    Action.READ_CAPACITY_ADVICE: frozenset({Role.ADMIN, Role.AUDITOR, Role.PLANNER}),
}


def needs_offices(role: Role) -> bool:
    """Whether a grant of ``role`` must name at least one office (every role but the global ones)."""
    return role not in GLOBAL_ROLES


@dataclass(frozen=True)
class Grant:
    """One role and the offices it serves."""

    role: Role
    offices: frozenset[str]

    @property
    def reaches_every_office(self) -> bool:
        """Whether this grant reaches every office (a global role naming no office)."""
        return self.role in GLOBAL_ROLES and not self.offices

    def covers(self, office: str) -> bool:
        """Whether this grant reaches ``office``."""
        return self.reaches_every_office or office in self.offices

    def can(self, action: Action, office: str | None = None) -> bool:
        """Whether this grant allows ``action`` (for ``office`` when the action is about one)."""
        if self.role not in PERMISSIONS[action]:
            return False
        return office is None or self.covers(office)

    def within(self, others: Iterable[Grant]) -> bool:
        """Whether ``others`` hold this grant: the same role, reaching at least these offices."""
        for other in others:
            if other.role != self.role:
                continue
            if other.reaches_every_office or (self.offices and self.offices <= other.offices):
                return True
        return False


@dataclass(frozen=True)
class Access:
    """What one staff member holds: one grant for a key, one or more for an account."""

    grants: tuple[Grant, ...]

    @classmethod
    def of(cls, role: Role | str, offices: Iterable[str] = ()) -> Access:
        """The access of one grant."""
        return cls((Grant(Role(role), frozenset(offices)),))

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles held, in the table's order."""
        held = {g.role for g in self.grants}
        return tuple(role for role in Role if role in held)

    @property
    def reaches_every_office(self) -> bool:
        """Whether some grant reaches every office."""
        return any(g.reaches_every_office for g in self.grants)

    @property
    def offices(self) -> frozenset[str]:
        """Every office some grant names."""
        return frozenset(o for g in self.grants for o in g.offices)

    def covers(self, office: str) -> bool:
        """Whether some grant reaches ``office``."""
        return any(g.covers(office) for g in self.grants)

    def can(self, action: Action, office: str | None = None) -> bool:
        """Whether some grant allows ``action`` (for ``office``)."""
        return any(g.can(action, office) for g in self.grants)

    def reach(self, action: Action) -> frozenset[str] | None:
        """The offices where ``action`` is allowed: ``None`` for every office, empty for none."""
        allowed = [g for g in self.grants if g.role in PERMISSIONS[action]]
        if any(g.reaches_every_office for g in allowed):
            return None
        return frozenset(o for g in allowed for o in g.offices)

    def require(self, action: Action, office: str | None = None) -> None:
        """Refuse with 403 unless some grant allows ``action`` (for ``office``)."""
        allowed = PERMISSIONS[action]
        held = self.roles
        if not any(role in allowed for role in held):
            roles = " or ".join(sorted(allowed))
            mine = ", ".join(held) or "no role"
            raise Forbidden(
                f"{action.value.replace('_', ' ')} needs the role {roles}; this staff member holds {mine}"
            )
        if office is not None and not self.can(action, office):
            raise Forbidden(
                f"not allowed for office {office!r} (outside this staff member's offices)", office=office
            )
