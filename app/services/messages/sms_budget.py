"""Texts to a number that never verified a code: at most ``TEXTS_PER_UNVERIFIED_NUMBER_DAY`` a day.

Anyone may name any French mobile at intake, so without a bound anyone could make the service text it
(every request, offer and reminder goes to the number given). Until a number has verified a code (a request
of any service verified by ``phone`` with that number's digest), it receives at most three texts in any 24
hours; one-time codes are not counted (they have their own budget, ten a day). Beyond that the request is
filed and its e-mails go out as usual, but its texts are not sent: each is marked ``failed`` with the reason,
and the applicant's view shows it so.

The check runs when a worker has claimed a batch, before anything is sent, in its own short transaction:
each text let through is recorded (``sms_grant``, keyed by the message, so a retry is not counted again,
and by the number's keyed digest, never the number); on PostgreSQL a transaction advisory lock per digest
keeps two workers from letting through a fourth at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Engine, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.db.models import AppointmentRequest, Service, SmsGrant
from app.domain import verification
from app.domain.verification import VerificationMethod
from app.services.unit_of_work import unit_of_work

#: Why a text was not sent (the outbox row's ``last_error``).
WITHHELD = "withheld: a number that has not verified a code gets at most 3 texts a day"


def withheld(engine: Engine, texts: list[tuple[int, str]], *, pepper: bytes, now: datetime) -> set[int]:
    """Of the claimed texts (message id, number; codes left out by the caller), the ids not to send."""
    if not texts:
        return set()
    digests = {message_id: verification.phone_digest(pepper, number) for message_id, number in texts}
    refused: set[int] = set()
    with unit_of_work(engine) as session:
        granted = set(
            session.execute(
                sa_select(col(SmsGrant.message_id)).where(col(SmsGrant.message_id).in_(list(digests)))
            ).scalars()
        )
        unverified = sorted(set(digests.values()) - _verified(session, set(digests.values())))
        _lock(session, unverified)
        used = _used(session, unverified, now)
        for message_id in sorted(digests):
            digest = digests[message_id]
            if message_id in granted or digest not in used:
                continue  # counted already, or a number that verified a code
            if used[digest] >= verification.TEXTS_PER_UNVERIFIED_NUMBER_DAY:
                refused.add(message_id)
                continue
            used[digest] += 1
            session.add(SmsGrant(message_id=message_id, phone_digest=digest, granted_at=now))
    return refused


def _verified(session: Session, digests: set[str]) -> set[str]:
    """The digests of numbers that verified a code (through the ``(service_id, phone_digest)`` index)."""
    services = sa_select(col(Service.id)).scalar_subquery()
    return set(
        session.execute(
            sa_select(col(AppointmentRequest.phone_digest))
            .where(
                col(AppointmentRequest.service_id).in_(services),
                col(AppointmentRequest.phone_digest).in_(sorted(digests)),
                col(AppointmentRequest.verification_method) == VerificationMethod.PHONE.value,
            )
            .distinct()
        ).scalars()
    )


def _used(session: Session, digests: Iterable[str], now: datetime) -> dict[str, int]:
    """Texts let through to each number in the last 24 hours."""
    used = dict.fromkeys(digests, 0)
    if used:
        for digest, count in session.execute(
            sa_select(col(SmsGrant.phone_digest), func.count())
            .where(
                col(SmsGrant.phone_digest).in_(list(used)),
                col(SmsGrant.granted_at) > now - verification.DAY,
            )
            .group_by(col(SmsGrant.phone_digest))
        ).all():
            used[digest] = count
    return used


def _lock(session: Session, digests: list[str]) -> None:
    """PostgreSQL: one worker at a time counts a number's texts (SQLite's single writer needs none)."""
    if not digests or session.get_bind().dialect.name != "postgresql":
        return
    keys = [
        int.from_bytes(hashlib.sha256(f"texts:{d}".encode()).digest()[:8], "big", signed=True)
        for d in digests
    ]
    session.execute(
        text("SELECT pg_advisory_xact_lock(k) FROM unnest(CAST(:keys AS bigint[])) AS k"), {"keys": keys}
    )
