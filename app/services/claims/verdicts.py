"""The verifier's work before the draw: the queue of declared claims and a verdict on one of them.

A verdict here carries no penalty (the claim won nothing yet); the records and the rules of what a verdict
changes are :mod:`app.services.claims.records`'.
"""

from __future__ import annotations

import base64
from datetime import datetime

from sqlalchemy import and_, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.db.models import AppointmentRequest, Claim, Office
from app.domain.access import Action
from app.domain.claims import VERIFIER_VERDICTS
from app.domain.errors import ClaimNotDeclared, ClaimsClosed, InvalidInput, NotFound
from app.schemas.claims import ClaimPublic, ClaimQueueItem, ClaimQueuePage, ClaimVerdictCreate
from app.services import audit
from app.services.claims.records import apply_verdict, of_request, public
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal

QUEUE_PAGE = 50


def decide(
    *, session: Session, staff: StaffPrincipal, request_id: str, data: ClaimVerdictCreate, now: datetime
) -> list[ClaimPublic]:
    """A verifier's verdict on one claim of a pending request, before any draw offers it something.

    404 for a request outside the key's offices (as for an unknown one); 422 ``claim_not_declared``; 409
    ``claim_decided`` for a second, different verdict; 409 ``claims_closed`` once the request left
    ``pending`` (the desk judges what a booking rests on). A refusal here carries no penalty: the claim won
    nothing.
    """
    staff.require(Action.VERIFY_CLAIMS)
    found = repository.by_id(session, request_id) if repository.looks_like_uuid(request_id) else None
    if found is None or not any(staff.can(Action.VERIFY_CLAIMS, office) for office in found.offices):
        raise NotFound("no such request in this key's offices")
    request = repository.lock_request(session, found.id)
    if request.status != "pending":
        raise ClaimsClosed(f"this request is {request.status}: its claims are judged at the desk, if at all")
    assert data.verdict in VERIFIER_VERDICTS
    claims = of_request(session, request.seq)
    claim = next((c for c in claims if c.kind == data.claim), None)
    if claim is None:
        raise ClaimNotDeclared(
            f"this request declared no {data.claim}",
            errors=[{"path": "claim", "message": f"no {data.claim} claim on this request"}],
        )
    if apply_verdict(claim, data.verdict, actor=staff.actor, now=now, note=data.note):
        session.add(claim)
        session.flush()
        audit.log(
            session,
            action=f"claim.{data.verdict}",
            subject=f"request:{request.id}",
            actor=staff.actor,
            office=next((o for o in request.offices if staff.can(Action.VERIFY_CLAIMS, o)), None),
            claim=claim.kind,
            stage="before_draw",
        )
    return public(claims)


def queue(
    *,
    session: Session,
    staff: StaffPrincipal,
    status: str = "declared",
    cursor: str | None = None,
    limit: int = QUEUE_PAGE,
) -> ClaimQueuePage:
    """Claims in ``status`` of pending requests whose offices meet the key's, oldest first, by pages."""
    staff.require(Action.VERIFY_CLAIMS)
    after = _decode_cursor(cursor)
    reach = staff.reach(Action.VERIFY_CLAIMS)
    offices = sorted(
        reach if reach is not None else session.execute(sa_select(col(Office.code))).scalars().all()
    )
    if not offices:
        return ClaimQueuePage(items=[], next_cursor=None)
    meets = or_(
        *(repository.lists_office(session, code, name=f"office_{i}") for i, code in enumerate(offices))
    )
    rows = session.execute(
        sa_select(
            col(Claim.id),
            col(Claim.kind),
            col(Claim.declared),
            col(AppointmentRequest.id),
            col(AppointmentRequest.entry),
            col(AppointmentRequest.family_name),
            col(AppointmentRequest.given_names),
        )
        .join(AppointmentRequest, col(AppointmentRequest.seq) == Claim.request_seq)
        .where(
            and_(
                col(Claim.status) == status,
                col(Claim.id) > after,
                col(AppointmentRequest.status) == "pending",
                meets,
            )
        )
        .order_by(col(Claim.id))
        .limit(limit + 1)
    ).all()
    items = [
        ClaimQueueItem(
            request_id=request_id,
            entry=entry,
            claim=kind,
            declared=declared,
            family_name=family,
            given_names=given,
        )
        for _id, kind, declared, request_id, entry, family, given in rows[:limit]
    ]
    next_cursor = _encode_cursor(rows[limit - 1][0]) if len(rows) > limit else None
    return ClaimQueuePage(items=items, next_cursor=next_cursor)


def _encode_cursor(claim_id: int) -> str:
    return base64.urlsafe_b64encode(f"c{claim_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        if not raw.startswith("c"):
            raise ValueError(raw)
        return int(raw[1:])
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(
            "invalid cursor", errors=[{"path": "cursor", "message": "not a cursor of this list"}]
        ) from exc
