"""The append-only, hash-chained audit log.

Services call :func:`log` anywhere in a unit of work; the events are written just before the transaction
commits, in that same transaction, so a state change never commits without its event. The scheduler's
sealer then chains committed events (``chain_seq``, ``prev_hash``, ``hash``) one sealer at a time: commits
never queue behind each other for the chain, which would cap intake at one transaction per disk flush.
Each hash covers the previous one and positions are contiguous, so ``fairslot audit verify`` finds any
sealed row edited or removed. Details hold ids and public references, never personal data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, event, text
from sqlalchemy import select as sa_select
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import AuditEvent
from app.services.unit_of_work import now_of

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
    at = now_of(session)
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    columns = ("occurred_at", "action", "subject", "actor", "details")
    rows = [
        (
            at,
            item["action"],
            item["subject"],
            item["actor"],
            json.loads(json.dumps(item["details"], default=str)),
        )
        for item in pending
    ]
    # A draw may log ten thousand offers in one go: COPY on PostgreSQL.
    bulk_insert(session, table, columns, rows)  # type: ignore[arg-type]


def seal(session: Session, *, limit: int = 20_000) -> int:
    """Chain the committed, not yet sealed events in id order; returns how many were sealed.

    One sealer at a time (an advisory lock on PostgreSQL, the write lock on SQLite). An event committed
    late by a slow transaction is simply sealed in a later pass: the chain is in sealing order.
    """
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        got = session.execute(text("SELECT pg_try_advisory_xact_lock(:id)"), {"id": _AUDIT_LOCK_ID}).scalar()
        if not got:
            return 0
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    last = session.execute(
        sa_select(table.c.chain_seq, table.c.hash)
        .where(table.c.chain_seq.is_not(None))
        .order_by(table.c.chain_seq.desc())
        .limit(1)
    ).first()
    seq, prev = (last[0], last[1]) if last else (0, GENESIS)
    rows = session.execute(
        sa_select(table).where(table.c.chain_seq.is_(None)).order_by(table.c.id).limit(limit)
    ).all()
    updates = []
    for row in rows:
        seq += 1
        digest = event_hash(prev, row.occurred_at, row.action, row.subject, row.actor, row.details)
        updates.append({"row_id": row.id, "seq": seq, "prev": prev, "digest": digest})
        prev = digest
    if updates:
        session.execute(
            table.update()
            .where(table.c.id == bindparam("row_id"))
            .values(chain_seq=bindparam("seq"), prev_hash=bindparam("prev"), hash=bindparam("digest")),
            updates,
        )
    return len(updates)


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
    """Walk sealed events in chain order; returns their number and every broken link, hash or gap."""
    problems: list[ChainProblem] = []
    prev = GENESIS
    count = 0
    position = 0
    for row in events:
        count += 1
        position += 1
        assert row.id is not None
        found = []
        if row.prev_hash != prev:
            found.append("previous-hash link broken (a row was removed or edited)")
        if row.chain_seq != position:
            found.append(f"chain position {row.chain_seq}, expected {position} (a row was removed)")
            position = row.chain_seq or position
        content = (row.occurred_at, row.action, row.subject, row.actor, row.details)
        if event_hash(row.prev_hash or "", *content) != row.hash:
            found.append("content does not match its hash (row edited)")
        if found:
            problems.append(ChainProblem(row.id, "; ".join(found)))
        prev = row.hash or ""
    return count, problems


def verify(session: Session) -> tuple[int, list[ChainProblem]]:
    """Seal what is committed, then verify the whole chain stored in the database."""
    seal(session)
    session.flush()
    rows = session.exec(
        select(AuditEvent).where(col(AuditEvent.chain_seq).is_not(None)).order_by(col(AuditEvent.chain_seq))
    ).all()
    return verify_chain(rows)
