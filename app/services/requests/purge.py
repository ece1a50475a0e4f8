"""Retention: names, contact details and declared circumstances of closed requests are removed after a while.

Declared vulnerabilities and permit expiry are special-category data: a purge clears them wherever they are
kept (the request's columns, and what its claims declared: a claim keeps its kind and verdict, which the
statistics count, and its declaration becomes empty, ``""`` for a date and ``[]`` for a list), the
request's availability, the digest of its phone number and every code sent to that number for it (the
``phone_code`` and ``phone_code_send`` rows, and the ``sms_grant`` rows of its texts, which hold the number's digest), and it unlinks the request
from its identity (its identity digest, and its bookings', become a random value of no use to anyone);
the draw entries forget which of their claims were unconfirmed (the desk needed that only while the
booking could be checked in). What stays (statuses, dates, draw entries with their public weights, the audit chain, which
never held personal data) is what statistics and draw verification need and leads to nobody. The no-show
factor keeps working: missed appointments are kept in ``no_show`` under the identity digest, apart from
the request. The outbox keeps no recipient, context nor error text (an SMTP error quotes the address). The
person key goes with the names it was derived from (an exclusion or a strict-vulnerability mark keeps its
own copy of the digest in ``claim_sanction`` for as long as it runs), and so do the verdict notes on the
request's claims.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from app.db.models import (
    AppointmentRequest,
    Booking,
    Claim,
    DrawEntry,
    OutboxMessage,
    PhoneCode,
    PhoneCodeSend,
    SmsGrant,
)
from app.domain.claims import ClaimKind
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
                family_name=None,
                given_names=None,
                email=None,
                phone=None,
                phone_digest=None,
                person_key=None,
                permit_expires_on=None,
                vulnerabilities=[],
                availability=None,
                purged_at=now,
            )
        )
        seqs = select(AppointmentRequest.seq).where(col(AppointmentRequest.id).in_(chunk))
        for kind, emptied in ((ClaimKind.VULNERABILITY, []), (ClaimKind.PERMIT_EXPIRY, "")):
            session.execute(
                update(Claim)
                .where(col(Claim.request_seq).in_(seqs), col(Claim.kind) == kind)
                .values(note=None, declared=emptied)
            )
        session.execute(delete(PhoneCodeSend).where(col(PhoneCodeSend.request_seq).in_(seqs)))
        session.execute(delete(PhoneCode).where(col(PhoneCode.request_seq).in_(seqs)))
        session.execute(
            update(DrawEntry)
            .where(col(DrawEntry.request_seq).in_(seqs), col(DrawEntry.unconfirmed_claims).is_not(None))
            .values(unconfirmed_claims=None)
        )
        for request_id in chunk:  # one random value per request: unlinkable, even to each other
            unlinked = f"purged-{secrets.token_hex(16)}"
            session.execute(
                update(AppointmentRequest)
                .where(col(AppointmentRequest.id) == request_id)
                .values(identity_key=unlinked)
            )
            session.execute(
                update(Booking).where(col(Booking.request_id) == request_id).values(identity_key=unlinked)
            )
        session.execute(
            delete(SmsGrant).where(
                col(SmsGrant.message_id).in_(
                    select(OutboxMessage.id).where(col(OutboxMessage.request_id).in_(chunk))
                )
            )
        )
        session.execute(
            update(OutboxMessage)
            .where(col(OutboxMessage.request_id).in_(chunk))
            .values(recipient=None, context={}, last_error=None)
        )
    if ids:
        audit.log(session, action="requests.purged", subject="requests", actor="cli", count=len(ids))
    return len(ids)
