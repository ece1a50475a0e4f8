"""The rules of staff accounts, without a database: grants, TOTP steps, passwords, lockout, session ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.access import Access, Action, Grant, Role
from app.domain.errors import Forbidden
from app.domain.staff import accounts as staff_accounts
from app.domain.staff import second_factor

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_an_account_with_two_roles_acts_with_each_only_within_its_offices() -> None:
    access = Access((Grant(Role.PLANNER, frozenset({"bobigny"})), Grant(Role.DESK, frozenset({"paris"}))))
    assert access.can(Action.DRAW_RELEASE, "bobigny")
    assert not access.can(Action.DRAW_RELEASE, "paris")
    assert access.can(Action.CHECK_IN, "paris")
    assert not access.can(Action.CHECK_IN, "bobigny")
    with pytest.raises(Forbidden):
        access.require(Action.CHECK_IN, "bobigny")
    with pytest.raises(Forbidden):
        access.require(Action.MANAGE_STAFF_ACCOUNTS)
    assert access.reach(Action.CHECK_IN) == frozenset({"paris"})


def test_an_auditor_reaches_every_office_unless_its_grant_names_some() -> None:
    everywhere = Access.of(Role.AUDITOR)
    one = Access.of(Role.AUDITOR, ["paris"])
    assert everywhere.reach(Action.READ_AUDIT) is None
    assert everywhere.can(Action.READ_AUDIT, "bobigny")
    assert one.reach(Action.READ_AUDIT) == frozenset({"paris"})
    assert not one.can(Action.READ_AUDIT, "bobigny")


def test_a_key_is_within_an_account_only_with_one_of_its_roles_and_offices() -> None:
    held = Access((Grant(Role.PLANNER, frozenset({"a", "b"})), Grant(Role.ADMIN, frozenset())))
    assert Grant(Role.PLANNER, frozenset({"a"})).within(held.grants)
    assert not Grant(Role.PLANNER, frozenset({"c"})).within(held.grants)
    assert not Grant(Role.DESK, frozenset({"a"})).within(held.grants)
    assert Grant(Role.ADMIN, frozenset({"a"})).within(held.grants)


def test_a_code_of_this_step_or_the_previous_one_is_accepted_once() -> None:
    secret = second_factor.new_secret()
    current = second_factor.code_at(secret, NOW)
    previous = second_factor.code_at(secret, NOW - timedelta(seconds=30))
    older = second_factor.code_at(secret, NOW - timedelta(seconds=60))
    step = second_factor.matching_step(secret, previous, NOW, None)
    assert step == second_factor.step_of(NOW) - 1
    assert second_factor.matching_step(secret, previous, NOW, step) is None  # used once
    assert second_factor.matching_step(secret, current, NOW, step) == second_factor.step_of(NOW)
    assert second_factor.matching_step(secret, current, NOW, second_factor.step_of(NOW)) is None  # reused
    if older not in (current, previous):
        assert second_factor.matching_step(secret, older, NOW, None) is None  # too old
    assert second_factor.matching_step(secret, "12345", NOW, None) is None
    assert second_factor.matching_step(secret, "abcdef", NOW, None) is None


def test_a_password_needs_twelve_characters_and_must_not_be_common() -> None:
    assert staff_accounts.password_problem("short", common=False) == "password_too_short"
    assert staff_accounts.password_problem("x" * 300, common=False) == "password_too_long"
    assert staff_accounts.password_problem("a long enough one", common=True) == "password_common"
    assert staff_accounts.password_problem("a long enough one", common=False) is None


def test_five_failures_in_a_row_lock_for_fifteen_minutes() -> None:
    failures, lock = 0, None
    for _ in range(4):
        failures, lock = staff_accounts.after_failure(failures, NOW)
        assert lock is None
    failures, lock = staff_accounts.after_failure(failures, NOW)
    assert lock == NOW + timedelta(minutes=15)
    assert failures == 0
    assert staff_accounts.is_locked(lock, NOW + timedelta(minutes=14))
    assert not staff_accounts.is_locked(lock, NOW + timedelta(minutes=15))


def test_a_session_ends_after_thirty_idle_minutes_or_ten_hours() -> None:
    assert staff_accounts.session_ends_at(NOW, NOW) == NOW + timedelta(minutes=30)
    late = NOW + timedelta(hours=9, minutes=50)
    assert staff_accounts.session_ends_at(NOW, late) == NOW + timedelta(hours=10)
