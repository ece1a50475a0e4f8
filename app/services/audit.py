"""The append-only, hash-chained audit log.

Services call :func:`log` anywhere in a unit of work; the events are written just before the transaction
commits, in that same transaction, so a state change never commits without its event. The scheduler's
sealer then chains committed events (``chain_seq``, ``prev_hash``, ``hash``) one sealer at a time: commits
never queue behind each other for the chain, which would cap intake at one transaction per disk flush.
Each hash covers the previous one and positions are contiguous, so ``fairslot audit verify`` finds any
sealed row edited or removed. Details hold ids and public references, never personal data.

Every row names its actor: ``{account_id, display_name, key_id, via}`` (``app.domain.staff.actors``). A service
passes the actor it has (a staff member's ``Actor``, or a label such as ``scheduler`` or ``applicant``); the
face the unit of work serves (``web``, ``api``; the scheduler otherwise) fills in ``via`` when the actor does
not know it. Rows written before accounts existed have no ``via``: they hash as they always did, so the chain
they are in still verifies; newer rows also hash their actor and office.
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
from app.domain.staff.actors import Actor, Via, of_label
from app.services.unit_of_work import now_of

GENESIS = "0" * 64
_PENDING = "fairslot_audit_pending"
_AUDIT_LOCK_ID = 0x46A15107  # any constant shared by every process
_VIA = "fairslot_audit_via"


def set_via(session: OrmSession, via: Via) -> None:
    """Name the face this unit of work serves (the API, the pages), for actors that do not know it."""
    session.info[_VIA] = via


def log(session: Session, *, action: str, subject: str, actor: str, **details: Any) -> None:
    """Queue an audit event; it is written in the same transaction, just before commit.

    ``office=`` (the code of the office the event is about, when it is about one) is a column of its own,
    what auditors of that office filter on; the other keywords are the event's details.
    """
    office = details.pop("office", None)
    session.info.setdefault(_PENDING, []).append(
        {"action": action, "subject": subject, "actor": actor, "office": office, "details": details}
    )


def actor_columns(actor: str, via: Via | None) -> dict[str, Any]:
    """The row's actor columns for ``actor`` (a label or an ``Actor``), seen through the face ``via``."""
    named = of_label(actor) if not isinstance(actor, Actor) else actor
    who = named.described(via)
    return {
        "actor": str(actor)[:64],
        "actor_account_id": who["account_id"],
        "actor_key_id": who["key_id"],
        "actor_name": str(who["display_name"])[:200],
        "via": who["via"],
    }


def event_hash(
    prev_hash: str,
    occurred_at: datetime,
    action: str,
    subject: str,
    actor: str,
    details: Any,
    who: dict[str, Any] | None = None,
    office: str | None = None,
) -> str:
    """The chained hash of one event (canonical JSON of its fields after the previous hash).

    ``who`` (the structured actor) and ``office`` are hashed for rows that have them; a row from before
    accounts has neither and hashes as it always did.
    """
    fields: dict[str, Any] = {
        "prev": prev_hash,
        "at": occurred_at.isoformat(timespec="microseconds"),
        "action": action,
        "subject": subject,
        "actor": actor,
        "details": details,
    }
    if who is not None:
        fields["who"] = who
        fields["office"] = office
    body = json.dumps(
        fields,
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
    via = session.info.get(_VIA)
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    columns = (
        "occurred_at",
        "action",
        "subject",
        "actor",
        "details",
        "actor_account_id",
        "actor_key_id",
        "actor_name",
        "via",
        "office",
    )
    rows = []
    for item in pending:
        who = actor_columns(item["actor"], via)
        rows.append(
            (
                at,
                item["action"],
                item["subject"],
                who["actor"],
                json.loads(json.dumps(item["details"], default=str)),
                who["actor_account_id"],
                who["actor_key_id"],
                who["actor_name"],
                who["via"],
                item["office"],
            )
        )
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
        digest = event_hash(
            prev, row.occurred_at, row.action, row.subject, row.actor, row.details, who_of(row), row.office
        )
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


def who_of(row: Any) -> dict[str, Any] | None:
    """The structured actor a row hashes (None for a row from before accounts, which has no ``via``)."""
    if row.via is None:
        return None
    return {
        "account_id": row.actor_account_id,
        "display_name": row.actor_name,
        "key_id": row.actor_key_id,
        "via": row.via,
    }


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
        content = (row.occurred_at, row.action, row.subject, row.actor, row.details, who_of(row), row.office)
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
