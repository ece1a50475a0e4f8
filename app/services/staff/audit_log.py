"""The audit log as auditors and admins read it: filtered pages, the chain's verdict, a CSV export.

Who may read what is the access table's ``READ_AUDIT`` (admin, auditor): a grant naming offices reads the
events about those offices; one naming none reads every event, those about no office (the catalogue, the
staff accounts) included. Asking for an office outside one's reach is a 403.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.db.models import AuditEvent
from app.domain.access import Action
from app.domain.errors import Forbidden, InvalidInput
from app.domain.staff.actors import of_label
from app.schemas.audit import AuditActor, AuditItem, AuditPage, AuditVerification
from app.services import audit
from app.services.staff.principal import StaffPrincipal

PAGE_SIZE = 100
EXPORT_MAX_ROWS = 100_000
CSV_COLUMNS = (
    "id",
    "at",
    "account_id",
    "display_name",
    "key_id",
    "via",
    "action",
    "office",
    "subject",
    "details",
)


@dataclass(frozen=True)
class AuditFilters:
    """What a reader asks for (each optional)."""

    office: str | None = None
    #: An account id (``12``), or a key (``key:7``).
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _invalid(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}", errors=[{"path": path, "message": message}])


def _cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"a{event_id}".encode()).decode().rstrip("=")


def _before(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("a"):
            raise ValueError(cursor)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid("cursor", "not a cursor this listing gave") from exc


def _query(staff: StaffPrincipal, filters: AuditFilters):  # type: ignore[no-untyped-def]
    staff.require(Action.READ_AUDIT)
    reach = staff.reach(Action.READ_AUDIT)
    query = select(AuditEvent)
    if filters.office is not None:
        if reach is not None and filters.office not in reach:
            raise Forbidden(
                f"office {filters.office!r} is outside this staff member's offices", office=filters.office
            )
        query = query.where(AuditEvent.office == filters.office)
    elif reach is not None:
        query = query.where(col(AuditEvent.office).in_(sorted(reach)))
    if filters.actor:
        actor = filters.actor.strip()
        if actor.isdigit():
            query = query.where(AuditEvent.actor_account_id == int(actor))
        elif actor.startswith("key:") and actor[4:].isdigit():
            key_id = int(actor[4:])
            query = query.where(
                or_(col(AuditEvent.actor_key_id) == key_id, col(AuditEvent.actor) == f"staff:{key_id}")
            )
        else:
            raise _invalid("actor", "an account number (12) or a key (key:7)")
    if filters.action:
        query = query.where(AuditEvent.action == filters.action.strip())
    if filters.since is not None:
        query = query.where(col(AuditEvent.occurred_at) >= filters.since)
    if filters.until is not None:
        query = query.where(col(AuditEvent.occurred_at) < filters.until)
    return query


def item(row: AuditEvent) -> AuditItem:
    """One event as the API and the page show it (rows from before accounts: named by their label)."""
    assert row.id is not None
    if row.via is None:
        legacy = of_label(row.actor)
        actor = AuditActor(account_id=None, display_name=row.actor, key_id=legacy.key_id, via=None)
    else:
        actor = AuditActor(
            account_id=row.actor_account_id,
            display_name=row.actor_name or row.actor,
            key_id=row.actor_key_id,
            via=row.via,
        )
    return AuditItem(
        id=row.id,
        at=row.occurred_at,
        actor=actor,
        action=row.action,
        office=row.office,
        subject=row.subject,
        details=row.details or {},
    )


def events(
    *,
    session: Session,
    staff: StaffPrincipal,
    filters: AuditFilters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """A page of events, newest first (auditor, admin; within their offices)."""
    query = _query(staff, filters)
    if cursor:
        query = query.where(col(AuditEvent.id) < _before(cursor))
    rows = session.exec(query.order_by(col(AuditEvent.id).desc()).limit(limit + 1)).all()
    items = [item(row) for row in rows[:limit]]
    more = len(rows) > limit and items
    return AuditPage(items=items, next_cursor=_cursor(items[-1].id) if more else None)


def export_csv(*, session: Session, staff: StaffPrincipal, filters: AuditFilters) -> Iterator[str]:
    """The filtered events as CSV lines, newest first (at most ``EXPORT_MAX_ROWS``)."""
    query = _query(staff, filters).order_by(col(AuditEvent.id).desc()).limit(EXPORT_MAX_ROWS)
    rows = [item(row) for row in session.exec(query).all()]

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        for event in rows:
            writer.writerow(
                [
                    event.id,
                    event.at.isoformat(),
                    event.actor.account_id if event.actor.account_id is not None else "",
                    _safe(event.actor.display_name),
                    event.actor.key_id if event.actor.key_id is not None else "",
                    event.actor.via or "",
                    event.action,
                    event.office or "",
                    event.subject,
                    _safe(audit_details(event.details)),
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return lines()


def audit_details(details: dict[str, object]) -> str:
    """The details as compact JSON (as the chain hashes them)."""
    return json.dumps(details, sort_keys=True, ensure_ascii=False, default=str)


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def verify(*, session: Session, staff: StaffPrincipal) -> AuditVerification:
    """Seal what is committed and verify the whole chain (auditor, admin)."""
    staff.require(Action.READ_AUDIT)
    rows, problems = audit.verify(session)
    return AuditVerification(
        valid=not problems, rows=rows, first_broken=problems[0].event_id if problems else None
    )
