"""A lost access code, recovered alone: the entry reference and birth date, then a code by SMS to the
request's verified phone, then a new access code.

Nothing here tells a stranger whether an entry exists. Starting always answers the same (202); each pair
of entry and birth date is counted under its keyed digest (``access_code_recovery``) whether or not it
matches, so the confirmation answers a stranger exactly as it answers the holder: ``409 code_expired`` when
no code is waiting or it is older than 15 minutes, ``422 code_invalid`` with ``tries_left``, ``429
code_locked`` after five wrong tries; a new code at most once a minute and five a day. Only a real match
(an active request whose names and birth date give its person key, verified by phone) gets an SMS, sent
within the phone-verification budgets (``app.services.intake.verification.issue_code``: its codes count
toward the number's ten a day, and a refused send is silent here), so a flood of recoveries from many
addresses cannot pump texts to one number. The new access code comes from the counter's recovery
(``recoveries.renew_code``): the old code stops working, and its kept idempotent answers with it.
"""

from __future__ import annotations

import hmac
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.db.models import AccessCodeRecovery, AppointmentRequest, PhoneCode
from app.domain import access_codes
from app.domain import verification as rules
from app.domain.errors import CodeExpired, CodeInvalid, CodeLocked, TooManyCodes
from app.domain.identity import person_key
from app.domain.statuses import ACTIVE_REQUEST_STATUSES
from app.domain.verification import VerificationMethod
from app.schemas.recoveries import AccessCodeRecovered, AccessCodeRecoveryConfirm, AccessCodeRecoveryCreate
from app.services import audit
from app.services.channels.recoveries import renew_code
from app.services.intake import verification
from app.services.requests import repository

ACTOR = "applicant"


def _match(session: Session, entry: str, birth_date: date, pepper: bytes) -> AppointmentRequest | None:
    """The active, phone-verified request of this entry whose holder was born that day, if any."""
    canonical = access_codes.canonical_entry(entry)
    request = repository.by_reference(session, canonical) if canonical else None
    if (
        request is None
        or request.status not in ACTIVE_REQUEST_STATUSES
        or request.verification_method != VerificationMethod.PHONE.value
        or not request.phone
        or not request.person_key
        or request.family_name is None
        or request.given_names is None
    ):
        return None
    expected = person_key(pepper, request.family_name, request.given_names, birth_date)
    return request if hmac.compare_digest(expected, request.person_key) else None


def _lookup(entry: str, birth_date: date, pepper: bytes) -> str:
    canonical = access_codes.canonical_entry(entry) or entry.strip().upper()
    return rules.recovery_digest(pepper, canonical, birth_date)


def start(
    *, session: Session, data: AccessCodeRecoveryCreate, now: datetime, secret: bytes, pepper: bytes
) -> None:
    """Open a recovery window for this entry and birth date and, for a real match, text a code to its phone.

    Says nothing either way; a second start within a minute, or a sixth within a day, changes nothing."""
    lookup = _lookup(data.entry, data.birth_date, pepper)
    row = session.get(AccessCodeRecovery, lookup, with_for_update=True)
    if row is not None:
        if now < row.last_started_at + rules.RESEND_AFTER:
            return
        if now >= row.window_started_at + rules.DAY:
            row.window_started_at, row.starts = now, 0
        if row.starts >= rules.CODES_PER_REQUEST_DAY:
            return
        row.starts += 1
        row.last_started_at = now
        row.expires_at = now + rules.CODE_VALIDITY
        row.failures = 0
        session.add(row)
        session.flush()
    else:
        row = AccessCodeRecovery(
            lookup=lookup, last_started_at=now, window_started_at=now, expires_at=now + rules.CODE_VALIDITY
        )
        row.starts = 1
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:
            return  # a parallel start of the same recovery won the row: this one is the one a minute allows
    found = _match(session, data.entry, data.birth_date, pepper)
    if found is None:
        return
    request = repository.lock_request(session, found.id)
    try:
        verification.issue_code(session=session, request=request, now=now, secret=secret, pepper=pepper)
    except TooManyCodes:
        return  # the number's or the request's budget is spent: no text, and no word of it
    audit.log(session, action="request.code_recovery_started", subject=f"request:{request.id}", actor=ACTOR)


def confirm(
    *, session: Session, data: AccessCodeRecoveryConfirm, now: datetime, secret: bytes, pepper: bytes
) -> AccessCodeRecovered:
    """Check the code received by SMS: the request gets a new access code (the old one stops working)."""
    lookup = _lookup(data.entry, data.birth_date, pepper)
    row = session.get(AccessCodeRecovery, lookup, with_for_update=True)
    if row is None or now >= row.expires_at:
        raise CodeExpired(
            "no code is waiting for this recovery, or it expired (15 minutes): ask for a new one"
        )
    if row.failures >= rules.MAX_TRIES:
        raise CodeLocked("five wrong codes: ask for a new code")
    found = _match(session, data.entry, data.birth_date, pepper)
    request = repository.lock_request(session, found.id) if found is not None else None
    current = session.get(PhoneCode, request.seq) if request is not None else None
    if (
        request is None
        or current is None
        or current.code_hash is None
        or now >= current.expires_at
        or not rules.is_code_shaped(data.code)
        or not rules.code_matches(secret, request.id, data.code, current.code_hash)
    ):
        row.failures += 1
        session.add(row)
        session.flush()
        raise CodeInvalid("wrong code", tries_left=rules.MAX_TRIES - row.failures)
    current.code_hash = None  # used: replaying it finds nothing
    session.add(current)
    session.delete(row)
    code = renew_code(session, request, now, actor=ACTOR)
    return AccessCodeRecovered(request_id=request.id, access_code=code)
