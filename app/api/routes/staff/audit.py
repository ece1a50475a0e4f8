"""The audit log for auditors and admins: filtered pages, and the verdict on its hash chain."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.openapi import problem_responses
from app.domain.errors import InvalidInput
from app.http.deps import SessionDep, StaffDep
from app.schemas.audit import AuditPage, AuditVerification, moment
from app.services.staff import audit_log
from app.services.staff.audit_log import AuditFilters

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


def _moment(name: str, value: str | None, *, end: bool = False):  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        return moment(value, end=end)
    except ValueError as exc:
        message = "an RFC 3339 time with its offset, or a date such as 2026-12-01"
        raise InvalidInput(f"{name}: {message}", errors=[{"path": name, "message": message}]) from exc


@router.get("", responses=problem_responses(401, 403, 422, 429))
def list_audit_events(
    session: SessionDep,
    staff: StaffDep,
    office: Annotated[str | None, Query(max_length=32, description="An office code")] = None,
    actor: Annotated[
        str | None, Query(max_length=32, description="An account id (12), or a key (key:7)")
    ] = None,
    action: Annotated[
        str | None, Query(max_length=48, description="An action, such as booking.checked_in")
    ] = None,
    since: Annotated[
        str | None, Query(alias="from", max_length=40, description="From (RFC 3339, or a date)")
    ] = None,
    until: Annotated[
        str | None, Query(alias="to", max_length=40, description="Until (RFC 3339, or a date: its end)")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> AuditPage:
    """Audit events, newest first, 100 a page: ``{items: [{id, at, actor: {account_id, display_name, key_id,
    via}, action, office, subject, details}], next_cursor}`` (auditor, admin; within their offices)."""
    filters = AuditFilters(
        office=office.strip().lower() if office else None,
        actor=actor,
        action=action,
        since=_moment("from", since),
        until=_moment("to", until, end=True),
    )
    return audit_log.events(session=session, staff=staff, filters=filters, cursor=cursor)


@router.get("/verify", responses=problem_responses(401, 403, 429))
def verify_audit_chain(session: SessionDep, staff: StaffDep) -> AuditVerification:
    """The hash chain: ``{valid, rows, first_broken}`` (auditor, admin)."""
    return audit_log.verify(session=session, staff=staff)
