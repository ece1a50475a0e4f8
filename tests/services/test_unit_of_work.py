"""One unit of work for every face: commit once, roll back on error, keep what an error asks to keep, and
read the runtime's clock for what a service stamps by itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from app.clock import FrozenClock
from app.db.models import AuditEvent, StaffKey
from app.domain.errors import IdentityMismatch, NotFound
from app.runtime import Runtime
from app.schemas.catalog import OfficeCreate
from app.schemas.staff import StaffKeyCreate
from app.services import audit
from app.services.operations import catalog
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import attempt, unit_of_work

OPERATOR = staff_keys.operator("test")


def _offices(runtime: Runtime) -> list[str]:
    with unit_of_work(runtime.engine) as session:
        return [o.code for o in catalog.list_offices(session)]


def _office(code: str) -> OfficeCreate:
    return OfficeCreate(code=code, name=code, timezone="Europe/Paris")


def _office_then(session: Session, code: str, error: Exception) -> None:
    catalog.create_office(session=session, data=_office(code), staff=OPERATOR)
    raise error


def _refusal_then(session: Session, subject: str, error: Exception) -> None:
    audit.log(session, action="checkin.refused", subject=subject, actor="staff:1")
    raise error


def _in_unit_of_work(runtime: Runtime, step: Callable[[Session], None]) -> None:
    with unit_of_work(runtime.engine) as session:
        step(session)


def test_a_unit_of_work_commits_at_its_end(runtime: Runtime) -> None:
    with unit_of_work(runtime.engine) as session:
        catalog.create_office(session=session, data=_office("kept"), staff=OPERATOR)

    assert _offices(runtime) == ["kept"]


def test_an_error_rolls_everything_back(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        _in_unit_of_work(runtime, lambda s: _office_then(s, "gone", NotFound("then it fails")))

    assert _offices(runtime) == []


def test_an_error_that_asks_to_keep_its_changes_commits_them_and_is_still_raised(runtime: Runtime) -> None:
    kept = IdentityMismatch("kept", keep_changes=True)
    with pytest.raises(IdentityMismatch):
        _in_unit_of_work(runtime, lambda s: _refusal_then(s, "booking:x", kept))

    with unit_of_work(runtime.engine) as session:
        assert [e.action for e in session.exec(select(AuditEvent)).all()] == ["checkin.refused"]


def test_an_attempt_settles_its_failure_before_the_page_renders_it(runtime: Runtime) -> None:
    with unit_of_work(runtime.engine) as session:
        with pytest.raises(NotFound), attempt(session):
            _office_then(session, "undone", NotFound("refused"))
        # The page goes on reading from a clean session; the end of the unit of work commits nothing more.
        assert list(catalog.list_offices(session)) == []
        with pytest.raises(IdentityMismatch), attempt(session):
            _refusal_then(session, "booking:y", IdentityMismatch("kept", keep_changes=True))

    assert _offices(runtime) == []
    with unit_of_work(runtime.engine) as session:
        assert [e.subject for e in session.exec(select(AuditEvent)).all()] == ["booking:y"]


def test_what_a_service_stamps_by_itself_reads_the_runtime_clock(runtime: Runtime) -> None:
    clock = FrozenClock(datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC))
    with unit_of_work(runtime.engine, clock) as session:
        row, _key = staff_keys.create_key(session=session, data=StaffKeyCreate(role="admin"), staff=OPERATOR)
        assert row.id is not None
        staff_keys.revoke_key(session=session, key_id=row.id, staff=OPERATOR)

    with unit_of_work(runtime.engine) as session:
        key = session.exec(select(StaffKey)).one()
        assert key.created_at == key.revoked_at == clock.now()
        assert {e.occurred_at for e in session.exec(select(AuditEvent)).all()} == {clock.now()}
