"""The append-only, hash-chained audit log.

Services call :func:`log` anywhere in a unit of work; the events are chained and written just before the
transaction commits, under a lock held only for that last step (an advisory lock on PostgreSQL, the
database write lock on SQLite), so the chain has one order and state changes never commit without it.
Each row's hash covers the previous row's hash, so ``fairslot audit verify`` finds any row edited or
removed from the middle of the chain. Details hold ids and public references, never personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import AuditEvent
from app.db.types import utcnow

GENESIS = "0" * 64
_PENDING = "fairslot_audit_pending"
_AUDIT_LOCK_ID = 0x46A15107  # any constant shared by every process


def log(session: Session, *, action: str, subject: str, actor: str, **details: Any) -> None:
    """Queue an audit event; it is written in the same transaction, just before commit."""
    session.info.setdefault(_PENDING, []).append(
        {"action": action, "subject": subject, "actor": actor, "details": details}
    )


def event_hash(
    prev_hash: str, occurred_at: datetime, action: str, subject: str, actor: str, details: Any
) -> str:
    """The chained hash of one event (canonical JSON of its fields after the previous hash)."""
    body = json.dumps(
        {
            "prev": prev_hash,
            "at": occurred_at.isoformat(timespec="microseconds"),
            "action": action,
            "subject": subject,
            "actor": actor,
            "details": details,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _write_pending(session: OrmSession) -> None:
    pending: list[dict[str, Any]] = session.info.pop(_PENDING, [])
    if not pending:
        return
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _AUDIT_LOCK_ID})
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    last = session.execute(sa_select(table.c.hash).order_by(table.c.id.desc()).limit(1)).scalar()
    prev: str = last or GENESIS
    rows = []
    for item in pending:
        at = utcnow()
        details = json.loads(json.dumps(item["details"], default=str))
        digest = event_hash(prev, at, item["action"], item["subject"], item["actor"], details)
        rows.append(
            {
                "occurred_at": at,
                "action": item["action"],
                "subject": item["subject"],
                "actor": item["actor"],
                "details": details,
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    # A draw may log ten thousand offers in one go: COPY on PostgreSQL.
    columns = ("occurred_at", "action", "subject", "actor", "details", "prev_hash", "hash")
    bulk_insert(session, table, columns, [tuple(row[c] for c in columns) for row in rows])  # type: ignore[arg-type]


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    _write_pending(session)


@event.listens_for(OrmSession, "after_rollback")
def _after_rollback(session: OrmSession) -> None:
    session.info.pop(_PENDING, None)


@dataclass(frozen=True)
class ChainProblem:
    """A row whose hash or link does not hold."""

    event_id: int
    problem: str


def verify_chain(events: Iterable[AuditEvent]) -> tuple[int, list[ChainProblem]]:
    """Walk the chain in id order; returns the number of rows and every broken link or hash."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    count = 0
    for row in events:
        count += 1
        assert row.id is not None
        if row.prev_hash != prev:
            problems.append(ChainProblem(row.id, "previous-hash link broken (a row was removed or edited)"))
        expected = event_hash(row.prev_hash, row.occurred_at, row.action, row.subject, row.actor, row.details)
        if expected != row.hash:
            problems.append(ChainProblem(row.id, "content does not match its hash (row edited)"))
        prev = row.hash
    return count, problems


def verify(session: Session) -> tuple[int, list[ChainProblem]]:
    """Verify the whole audit chain stored in the database."""
    return verify_chain(session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all())
