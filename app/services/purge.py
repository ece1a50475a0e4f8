"""Retention: names and contact details of closed requests are removed after a while.

What stays is pseudonymous: the identity digest (it keeps the no-show factor working), statuses, dates,
draw entries and the audit chain (which never held personal data), so statistics and draw verification
still work after a purge. The person key goes with the names it was derived from (an exclusion or a
strict-vulnerability mark keeps its own copy of the digest in ``claim_sanction`` for as long as it runs),
and so do the verdict notes on the request's claims.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Claim, OutboxMessage
from app.domain.statuses import CLOSED_REQUEST_STATUSES
from app.services import audit

CLOSED = tuple(sorted(CLOSED_REQUEST_STATUSES))


def purge(session: Session, *, older_than: timedelta, now: datetime) -> int:
    """Remove personal data of requests closed before ``now - older_than``; returns how many."""
    ids = list(
        session.exec(
            select(AppointmentRequest.id).where(
                col(AppointmentRequest.status).in_(CLOSED),
                col(AppointmentRequest.closed_at) < now - older_than,
                col(AppointmentRequest.purged_at).is_(None),
            )
        ).all()
    )
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        session.execute(
            update(AppointmentRequest)
            .where(col(AppointmentRequest.id).in_(chunk))
            .values(
                family_name=None, given_names=None, email=None, phone=None, person_key=None, purged_at=now
            )
        )
        session.execute(
            update(Claim)
            .where(
                col(Claim.request_seq).in_(
                    select(AppointmentRequest.seq).where(col(AppointmentRequest.id).in_(chunk))
                )
            )
            .values(note=None)
        )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.request_id).in_(chunk))
            .values(recipient=None, context={})
        )
    if ids:
        audit.log(session, action="requests.purged", subject="requests", actor="cli", count=len(ids))
    return len(ids)
