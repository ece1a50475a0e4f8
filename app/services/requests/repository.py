"""The request repository and lifecycle: look a request up, open it with its access code, lock it, weigh it,
close it.

Every change to a request starts with ``lock_request`` (request row first, then its offer or booking, then
the slot, then a release: one lock order everywhere). A closed request frees its identity for a new one.
"""

from __future__ import annotations

import hmac
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, distinct, func, literal_column, text
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Draw, DrawEntry, NoShow, Service
from app.domain import access_codes
from app.domain.draws import lottery
from app.domain.errors import NotFound
from app.domain.weights import Weight, compute_weight
from app.services.claims import records
from app.services.operations import catalog
from app.services.requests import code_failures


def hash_access_code(code: str) -> str:
    """The stored form of an access code just issued (see ``app.domain.access_codes``)."""
    return access_codes.stored_hash(code)


def authenticate(session: Session, request_id: str, access_code: str | None) -> AppointmentRequest:
    """The request if ``access_code`` opens it; 404 otherwise (never 403: ids are not confirmed).

    ``request_id`` is the UUID or the entry reference; the code is matched in any of its typed forms.
    """
    if not access_code or len(access_code) > 128:
        raise NotFound("no such request")
    request = by_reference(session, request_id)
    if request is None or not any(
        hmac.compare_digest(request.access_code_hash, h) for h in access_codes.code_hashes(access_code)
    ):
        code_failures.record(request_id)  # a wrong code (or id): the only 404 the limiter counts
        raise NotFound("no such request")
    return request


def by_id(session: Session, request_id: str) -> AppointmentRequest | None:
    """The request with public id ``request_id``."""
    return session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).first()


def by_reference(session: Session, reference: str) -> AppointmentRequest | None:
    """The request a person names by its id or its entry reference (``FS-XXXXX-XXXXX``, loosely typed)."""
    reference = reference.strip()
    if looks_like_uuid(reference):
        return by_id(session, reference)
    entry = access_codes.canonical_entry(reference)
    if entry is None:
        return None
    return session.exec(select(AppointmentRequest).where(AppointmentRequest.entry == entry)).first()


def lock_request(session: Session, request_id: str) -> AppointmentRequest:
    """Re-read a request with a row lock (``FOR UPDATE`` on PostgreSQL), the first lock of every change.

    A full ``FOR UPDATE``, not ``NO KEY UPDATE``: closing a request clears its unique identity key, which
    needs the full lock; taking it up front (instead of upgrading later) means waiting *before* holding
    anything, e.g. for a draw that is offering this request a slot, so the two never deadlock.
    """
    request = session.exec(
        select(AppointmentRequest).where(AppointmentRequest.id == request_id).with_for_update()
    ).one()
    session.refresh(request)
    return request


def current_weight(
    session: Session,
    request: AppointmentRequest,
    service: Service,
    on: date,
    *,
    lost: int | None = None,
    statuses: dict[str, str] | None = None,
) -> Weight:
    """A request's weight as of ``on``, with its factors (``lost``: draws lost, when already known).

    The same rules as the draw's: claims count as their status and the service's policy allow.
    """
    assert service.id is not None
    if statuses is None:
        statuses = records.statuses(records.of_request(session, request.seq))
    strict = records.standing(session, service.id, on, request.identity_key, request.person_key)
    return compute_weight(
        policy=catalog.policy_of(service),
        on=on,
        permit_expires_on=request.permit_expires_on,
        vulnerabilities=request.vulnerabilities,
        draws_lost=draws_lost(session, request) if lost is None else lost,
        last_no_show_on=last_no_show(session, request.identity_key, service.id),
        claims=statuses,
        strict_vulnerability=strict.vulnerability_strict,
        office_cancelled_on=request.office_cancelled_at.date() if request.office_cancelled_at else None,
    )


#: SQL, over a request's draw entries joined to their draws: the draw days it entered and was offered
#: nothing on (its waiting factor, :func:`app.domain.weights.draw_days_lost` in SQL). Draws of one
#: office-local date count once, however many offices the request lists; a date with an offer not at all.
DAYS_LOST: Any = func.count(distinct(col(Draw.day))) - func.count(
    distinct(case((col(DrawEntry.outcome) == lottery.OFFERED, col(Draw.day))))
)


def draws_lost(session: Session, request: AppointmentRequest) -> int:
    """How many draw days the request entered and won nothing on (its waiting factor)."""
    lost: int = session.execute(
        sa_select(DAYS_LOST)
        .select_from(DrawEntry)
        .join(Draw, col(Draw.id) == DrawEntry.draw_id)
        .where(col(DrawEntry.request_seq) == request.seq)
    ).scalar_one()
    return lost


def last_no_show(session: Session, identity: str, service_id: int) -> date | None:
    """The latest missed appointment of an identity for a service, if any."""
    missed: date | None = session.execute(
        sa_select(func.max(NoShow.missed_on)).where(
            col(NoShow.identity_key) == identity, col(NoShow.service_id) == service_id
        )
    ).scalar()
    return missed


def close(request: AppointmentRequest, status: str, now: datetime) -> None:
    """Move a request to a closed status, which frees its identity for a new request."""
    request.status = status
    request.active_identity_key = None
    request.active_person_key = None
    request.closed_at = now
    request.updated_at = now


def lists_office(session: Session, code: str, *, name: str = "office_code") -> Any:
    """SQL: the request's ``offices`` JSON list contains ``code`` (bound as ``name``)."""
    if session.get_bind().dialect.name == "postgresql":
        sql = f"CAST(appointment_request.offices AS jsonb) ? :{name}"
    else:
        sql = f"EXISTS (SELECT 1 FROM json_each(appointment_request.offices) WHERE json_each.value = :{name})"  # noqa: S608 - the name is ours
    return text(sql).bindparams(**{name: code})  # only the parameter's name is formatted in


def first_choice_office(session: Session) -> Any:
    """SQL: the request's first-choice office code (the first element of its ``offices`` JSON list), a
    column that can be selected, grouped by and compared."""
    if session.get_bind().dialect.name == "postgresql":
        return literal_column("(CAST(appointment_request.offices AS jsonb) ->> 0)")
    return literal_column("json_extract(appointment_request.offices, '$[0]')")


def looks_like_uuid(value: str) -> bool:
    """Whether ``value`` has the form of a request id (cheap refusal before any query)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36
