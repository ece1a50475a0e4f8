"""Verified entries: one-time codes by SMS, the channels that verify, and lapses at ``verify_by``.

The rules are :mod:`app.domain.verification`'s; this module locks, counts and writes, the same for the API,
the pages and the scheduler.

Locks, in the order every path takes them, so that none waits in a circle:

1. the service row ``FOR SHARE`` (verification only): a draw of the service holds it ``FOR NO KEY
   UPDATE``, so a verification waits for a running draw, or the draw for it, and a request is either an
   entry of that draw or verified after it, never half;
2. on PostgreSQL, transaction advisory locks on the person key, then on the number's digest: two requests
   of one person, or of one number, are verified one after the other, so "the first verified wins" and
   ``max_requests_per_phone`` hold under parallel connections (SQLite serialises writers anyway);
3. the request row ``FOR UPDATE`` (the first lock of every change to a request: a withdrawal racing a
   verification waits for it, or it for the withdrawal);
4. the rival requests of the same person, in ``seq`` order.

Nothing here ever logs or returns a code: the SMS carries it sealed, the table keeps its keyed digest.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import metrics
from app.db.models import AppointmentRequest, PhoneCode, PhoneCodeSend, RegistryIdentity, Service
from app.domain import verification as rules
from app.domain.errors import (
    AlreadyVerified,
    CodeExpired,
    CodeInvalid,
    CodeLocked,
    DuplicatePerson,
    InvalidInput,
    PhoneInUse,
    RequestClosed,
    TooManyCodes,
)
from app.domain.statuses import ACTIVE_REQUEST_STATUSES, CLOSED_REQUEST_STATUSES, RequestStatus
from app.domain.verification import VerificationMethod, VerificationStatus
from app.domain.weights import WeightPolicy
from app.schemas.requests import PhoneCodeSent, VerificationPublic
from app.services import audit
from app.services.draws import freeze
from app.services.messages import outbox
from app.services.operations import catalog
from app.services.requests import repository

LAPSE_BATCH = 200
#: Where an applicant without a mobile phone is sent (the 422 of intake and of ``phone-code``).
WITHOUT_MOBILE = (
    "this service verifies online requests with a code sent by SMS to a French mobile number (overseas "
    "departments included). Without one, an office counter or a partner association (La Cimade, a CCAS...) "
    "can file your request: they verify it themselves"
)


# --- intake -------------------------------------------------------------------------------------------


def intake_values(
    *,
    policy: WeightPolicy,
    channel: str,
    phone: str | None,
    pepper: bytes,
    now: datetime,
    registry_known: bool = False,
) -> dict[str, Any]:
    """The verification columns of a new request; ``422`` naming ``contact.phone`` for an online request
    without a French mobile number where the service asks for a code.

    Under ``entry_verification: "registry"`` an online request is verified only when the last permit
    registry import of one of its offices held its identity (``registry_known``); a phone verifies nothing.
    """
    digest = rules.phone_digest(pepper, phone) if phone else None
    method = rules.METHOD_OF_CHANNEL.get(channel)
    if method is not None:
        return _verified(method, now, digest)
    if not policy.needs_verification:
        return _verified(VerificationMethod.NONE, now, digest)
    if policy.entry_verification == rules.EntryVerification.REGISTRY:
        if registry_known:
            return _verified(VerificationMethod.REGISTRY, now, digest)
        return _awaiting(policy, now, digest)
    if not rules.is_french_mobile(phone):
        message = "a French mobile number is needed to receive the code" if phone else "a mobile number"
        raise InvalidInput(
            WITHOUT_MOBILE,
            errors=[{"path": "contact.phone", "message": f"{message} is required for online requests"}],
        )
    return _awaiting(policy, now, digest)


def registry_knows(
    connection: Connection | Session, identity: str, offices: list[str], now: datetime
) -> bool:
    """Whether a permit registry import of one of ``offices`` still keeps this identity's digest."""
    found = connection.execute(
        sa_select(col(RegistryIdentity.identity_key))
        .where(
            col(RegistryIdentity.identity_key) == identity,
            col(RegistryIdentity.office).in_(offices),
            col(RegistryIdentity.kept_until) > now,
        )
        .limit(1)
    ).first()
    return found is not None


#: Where an applicant whose identity the registry does not hold is sent (phone codes do not verify there).
REGISTRY_ONLY = (
    "this service verifies online requests against the office's permit registry: yours is verified once "
    "the registry holds your document, a phone code does not verify it. An office counter or a partner "
    "association can file your request: they verify it themselves"
)


def _verified(method: VerificationMethod, now: datetime, digest: str | None) -> dict[str, Any]:
    return {
        "verification_status": VerificationStatus.VERIFIED.value,
        "verification_method": method.value,
        "verify_by": None,
        "verified_at": now,
        "phone_digest": digest,
    }


def _awaiting(policy: WeightPolicy, now: datetime, digest: str | None) -> dict[str, Any]:
    """The columns of a request that must be verified within the service's ``verify_within_days``."""
    return {
        "verification_status": VerificationStatus.UNVERIFIED.value,
        "verification_method": None,
        "verify_by": now + timedelta(days=policy.verify_within_days),
        "verified_at": None,
        "phone_digest": digest,
    }


def _column(request: AppointmentRequest | dict[str, Any], name: str) -> Any:
    """A column of a stored request, or of the values of one about to be written (intake's hot path)."""
    return request.get(name) if isinstance(request, dict) else getattr(request, name)


def is_verified(request: AppointmentRequest | dict[str, Any]) -> bool:
    """Whether a request (or its column values) is verified: only then does it hold its person key."""
    status = _column(request, "verification_status")
    return (status or VerificationStatus.VERIFIED.value) == VerificationStatus.VERIFIED.value


def view(request: AppointmentRequest | dict[str, Any]) -> VerificationPublic:
    """The ``verification`` member of the request view."""
    phone = _column(request, "phone")
    return VerificationPublic(
        status=_column(request, "verification_status") or VerificationStatus.VERIFIED.value,
        method=_column(request, "verification_method"),
        verify_by=_column(request, "verify_by"),
        verified_at=_column(request, "verified_at"),
        phone=rules.masked(phone) if phone and rules.is_french_mobile(phone) else None,
    )


# --- locks --------------------------------------------------------------------------------------------


def _advisory(session: Session, *names: str) -> None:
    """Transaction advisory locks on PostgreSQL, taken in the order given, in one round trip (SQLite's
    single writer needs none)."""
    if not names or session.get_bind().dialect.name != "postgresql":
        return
    keys = {
        f"k{i}": int.from_bytes(hashlib.sha256(n.encode()).digest()[:8], "big", signed=True)
        for i, n in enumerate(names)
    }
    calls = ", ".join(f"pg_advisory_xact_lock(:k{i})" for i in range(len(names)))
    session.execute(text(f"SELECT {calls}"), keys)


def _open_request(session: Session, request_id: str) -> tuple[AppointmentRequest, Service, WeightPolicy]:
    request = repository.lock_request(session, request_id)
    service = session.get(Service, request.service_id)
    assert service is not None
    if request.status in CLOSED_REQUEST_STATUSES:
        raise RequestClosed(f"this request is {request.status}: it is verified no more")
    policy = catalog.policy_of(service)
    if is_verified(request) or not policy.needs_verification:
        raise AlreadyVerified("this request is verified: it enters the coming draws")
    if not policy.needs_phone:
        raise InvalidInput(REGISTRY_ONLY, errors=[{"path": "request", "message": REGISTRY_ONLY}])
    return request, service, policy


# --- codes --------------------------------------------------------------------------------------------


def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 0.999))


def send_code(
    *,
    session: Session,
    request_id: str,
    now: datetime,
    secret: bytes,
    pepper: bytes,
    actor: str = "applicant",
) -> PhoneCodeSent:
    """Send a new one-time code by SMS to the request's number (queued in the outbox, sealed).

    ``409 already_verified``; ``422`` naming ``contact.phone`` without a French mobile number; ``429
    too_many_codes`` (with ``retry_after`` and which ``limit``) within a minute of the last code, after
    5 codes in 24 hours for the request or 10 for the number.
    """
    request, _service, _policy = _open_request(session, request_id)
    phone = request.phone
    if phone is None or not rules.is_french_mobile(phone):
        raise InvalidInput(
            WITHOUT_MOBILE,
            errors=[{"path": "contact.phone", "message": "this request has no French mobile number"}],
        )
    return issue_code(session=session, request=request, now=now, secret=secret, pepper=pepper, actor=actor)


def issue_code(
    *,
    session: Session,
    request: AppointmentRequest,
    now: datetime,
    secret: bytes,
    pepper: bytes,
    actor: str = "applicant",
) -> PhoneCodeSent:
    """Queue a new one-time code to the locked request's number within the budgets (once a minute, 5 a
    day for the request, 10 a day for the number: ``429 too_many_codes``); verifying a phone and recovering
    a lost access code both send theirs here."""
    phone = request.phone
    assert phone is not None and request.seq is not None
    digest = request.phone_digest or rules.phone_digest(pepper, phone)
    _advisory(session, f"phone-send:{digest}")
    current = session.get(PhoneCode, request.seq)
    if current is not None and now < current.last_sent_at + rules.RESEND_AFTER:
        _refused()
        raise TooManyCodes(
            "a new code can be asked once a minute",
            retry_after=_retry_after(current.last_sent_at + rules.RESEND_AFTER, now),
            limit="per_minute",
        )
    since = now - rules.DAY
    for column, value, budget, limit in (
        (PhoneCodeSend.request_seq, request.seq, rules.CODES_PER_REQUEST_DAY, "per_request_day"),
        (PhoneCodeSend.phone_digest, digest, rules.CODES_PER_NUMBER_DAY, "per_number_day"),
    ):
        count, first = session.execute(
            sa_select(func.count(), func.min(PhoneCodeSend.sent_at)).where(
                col(column) == value, col(PhoneCodeSend.sent_at) > since
            )
        ).one()
        if count >= budget:
            _refused()
            raise TooManyCodes(
                f"at most {budget} codes in 24 hours "
                + ("for a request" if limit == "per_request_day" else "for a phone number"),
                retry_after=_retry_after(first + rules.DAY, now),
                limit=limit,
            )
    code = rules.new_code()
    if current is None:
        current = PhoneCode(request_seq=request.seq, expires_at=now, last_sent_at=now)
    current.code_hash = rules.code_digest(secret, request.id, code)
    current.expires_at = now + rules.CODE_VALIDITY
    current.failures = 0
    current.last_sent_at = now
    session.add(current)
    session.add(PhoneCodeSend(request_seq=request.seq, phone_digest=digest, sent_at=now))
    outbox.enqueue_code(session, request, code, now, secret=secret)
    session.flush()
    audit.log(session, action="request.code_sent", subject=f"request:{request.id}", actor=actor)
    metrics.PHONE_CODES.labels(outcome="sent").inc()
    return PhoneCodeSent(sent_to=rules.masked(phone), expires_at=current.expires_at)


def _refused() -> None:
    metrics.PHONE_CODES.labels(outcome="refused").inc()


def verify_code(
    *, session: Session, request_id: str, code: str, now: datetime, secret: bytes, actor: str = "applicant"
) -> AppointmentRequest:
    """Check the typed code; the request is then verified (method ``phone``) and enters the coming draws.

    ``422 code_invalid`` with ``tries_left`` (the wrong try is kept), ``429 code_locked`` after the fifth
    wrong try, ``409 code_expired`` (or none asked, or already used), ``409 phone_in_use`` when the number
    already verifies ``max_requests_per_phone`` active requests of the service, ``409 duplicate_person``
    when the same person's other request was verified first, ``409 draw_pending`` while a draw's entries
    are frozen.
    """
    seen = repository.by_id(session, request_id)
    assert seen is not None
    session.exec(select(Service).where(Service.id == seen.service_id).with_for_update(read=True)).first()
    locks = [
        f"person:{seen.service_id}:{seen.person_key}" if seen.person_key else None,
        f"phone:{seen.service_id}:{seen.phone_digest}" if seen.phone_digest else None,
    ]
    _advisory(session, *(name for name in locks if name))
    request, _service, policy = _open_request(session, request_id)
    freeze.require_not_frozen(session, request, now, joining=True)  # verified, it would join a due draw
    assert request.seq is not None
    current = session.get(PhoneCode, request.seq)
    if current is None or current.code_hash is None:
        metrics.PHONE_CODES.labels(outcome="expired").inc()
        raise CodeExpired("no code is waiting for this request: ask for a new one")
    if current.failures >= rules.MAX_TRIES:
        metrics.PHONE_CODES.labels(outcome="locked").inc()
        raise CodeLocked("five wrong codes: ask for a new code")
    if now >= current.expires_at:
        metrics.PHONE_CODES.labels(outcome="expired").inc()
        raise CodeExpired("this code has expired (a code is valid 15 minutes): ask for a new one")
    if not rules.code_matches(secret, request.id, code, current.code_hash):
        current.failures += 1
        session.add(current)
        session.flush()
        metrics.PHONE_CODES.labels(outcome="failed").inc()
        raise CodeInvalid("wrong code", tries_left=rules.MAX_TRIES - current.failures)
    in_use = session.execute(
        sa_select(func.count()).where(
            col(AppointmentRequest.service_id) == request.service_id,
            col(AppointmentRequest.phone_digest) == request.phone_digest,
            col(AppointmentRequest.verification_method) == VerificationMethod.PHONE.value,
            col(AppointmentRequest.status).in_(ACTIVE_REQUEST_STATUSES),
            col(AppointmentRequest.seq) != request.seq,
        )
    ).scalar_one()
    if in_use >= policy.max_requests_per_phone:
        raise PhoneInUse(
            f"this number already verifies {in_use} active requests of this service (at most "
            f"{policy.max_requests_per_phone}); verify with another number, or go to a counter or a partner"
        )
    current.code_hash = None  # used: replaying it finds nothing
    session.add(current)
    mark_verified(session, request, VerificationMethod.PHONE, now, actor=actor)
    metrics.PHONE_CODES.labels(outcome="verified").inc()
    return request


# --- verified: the person's other requests ----------------------------------------------------------


def mark_verified(
    session: Session, request: AppointmentRequest, method: VerificationMethod, now: datetime, *, actor: str
) -> None:
    """Verify a locked, unverified, active request: it holds its person key from now on and the same
    person's unverified requests of the service under another document lapse (the first verified wins).
    ``409 duplicate_person`` when another of that person's requests was verified first."""
    if request.person_key is not None:
        refuse_if_person_held(
            session,
            service_id=request.service_id,
            person_key=request.person_key,
            identity_key=request.identity_key,
            detail="the same person's request under another document was verified first: one person, one chance",
        )
        request.active_person_key = request.person_key
    request.verification_status = VerificationStatus.VERIFIED.value
    request.verification_method = method.value
    request.verified_at = now
    request.verify_by = None
    request.updated_at = now
    session.add(request)
    session.flush()
    audit.log(
        session, action="request.verified", subject=f"request:{request.id}", actor=actor, method=method.value
    )
    lapse_rivals(session, request, now)


def refuse_if_person_held(
    session: Session, *, service_id: int, person_key: str, identity_key: str, detail: str
) -> None:
    """``409 duplicate_person`` when an active request of the service holds ``person_key`` under another
    document. Only a verified request holds its person key, so an unverified one blocks nobody."""
    holder = session.exec(
        select(AppointmentRequest.identity_key).where(
            AppointmentRequest.service_id == service_id,
            AppointmentRequest.active_person_key == person_key,
        )
    ).first()
    if holder is not None and holder != identity_key:
        raise DuplicatePerson(detail)


def lapse_rivals(session: Session, request: AppointmentRequest, now: datetime) -> list[str]:
    """Lapse the same person's unverified active requests of the service under other documents (a request
    just verified wins over them); returns their ids."""
    if request.person_key is None:
        return []
    rivals = session.exec(
        select(AppointmentRequest)
        .where(
            AppointmentRequest.service_id == request.service_id,
            AppointmentRequest.person_key == request.person_key,
            AppointmentRequest.identity_key != request.identity_key,
            AppointmentRequest.verification_status == VerificationStatus.UNVERIFIED.value,
            col(AppointmentRequest.status).in_(ACTIVE_REQUEST_STATUSES),
        )
        .order_by(col(AppointmentRequest.seq))
        .with_for_update()
    ).all()
    lapsed = []
    for rival in rivals:
        session.refresh(rival)
        if rival.status in ACTIVE_REQUEST_STATUSES and not is_verified(rival):
            _lapse(session, rival, now, reason="duplicate_person")
            lapsed.append(rival.id)
    return lapsed


def _lapse(session: Session, request: AppointmentRequest, now: datetime, *, reason: str) -> None:
    request.status = RequestStatus.LAPSED.value
    request.active_identity_key = None
    request.active_person_key = None
    request.closed_at = now
    request.updated_at = now
    session.add(request)
    assert request.seq is not None
    current = session.get(PhoneCode, request.seq)
    if current is not None and current.code_hash is not None:
        current.code_hash = None
        session.add(current)
    session.flush()
    audit.log(
        session, action="request.lapsed", subject=f"request:{request.id}", actor="scheduler", reason=reason
    )
    outbox.enqueue(session, request, "request_lapsed", now)
    metrics.LAPSED.inc()


def lapse_next(session: Session, *, now: datetime) -> list[str] | None:
    """Lapse a batch of unverified pending requests past their ``verify_by`` (scheduler job); ``None`` when
    there is none. Rows another worker or an applicant holds are skipped (``SKIP LOCKED``)."""
    due = session.exec(
        select(AppointmentRequest)
        .where(
            col(AppointmentRequest.verify_by).is_not(None),
            col(AppointmentRequest.verify_by) <= now,
            AppointmentRequest.verification_status == VerificationStatus.UNVERIFIED.value,
            col(AppointmentRequest.status).in_(ACTIVE_REQUEST_STATUSES),
        )
        .order_by(col(AppointmentRequest.verify_by))
        .limit(LAPSE_BATCH)
        .with_for_update(skip_locked=True)
    ).all()
    if not due:
        return None
    for request in due:
        _lapse(session, request, now, reason="not_verified")
    return [r.id for r in due]
