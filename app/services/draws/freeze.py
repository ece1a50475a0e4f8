"""Entries frozen at ``draw_at``: nothing changes a v2 draw's entry set or an entry's weight between its time
and its end.

With the public round unknown until ``draw_at`` and the entries fixed from then on, re-filing to fish for a
lucky entry reference buys nothing, even for whoever can read the seed; and once the round is public
(a draw may wait for it while relays are down), whoever can read the seed knows every entry's rank, so no
act may then add, remove or re-weigh an entry. Every path that could answers ``409 draw_pending`` (retry
shortly) until the draw completes:

- a withdrawal, a cancellation, a supersession (a recovery for a squatted identity): an entry leaves;
- declining an offer, the office cancelling a booking (a closure), or verifying a request (by phone, or
  through the registry import): an entry joins;
- a claim verdict (a verifier's, the registry import's): an entry's weight changes;
- a sanction written at the desk (an exclusion after a refuted claim, a vulnerability made strict): the
  entries of that identity or person leave or change weight.

A request is an entry of a due draw when it is pending, lists the release's office, was submitted before
its ``draw_at`` and counts (it is verified, or its service verifies nothing). Counter and partner filings
are verified by their channel but are new: they enter no draw whose time has passed. The registry import
leaves the requests a due draw holds for its next run and names them (``held``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, or_, select

from app.db.models import AppointmentRequest, Office, Release, Service
from app.domain.errors import DrawPending
from app.domain.statuses import ReleaseStatus, RequestStatus
from app.domain.verification import VerificationStatus
from app.services.operations import catalog


@dataclass(frozen=True)
class DueDraw:
    """A v2 release whose ``draw_at`` has passed and whose draw has not run: its entries are frozen."""

    release_id: int
    office: str
    draw_at: datetime


def due_draws(session: Session, service_id: int, now: datetime) -> list[DueDraw]:
    """The service's releases whose entries are frozen at ``now``."""
    rows = session.exec(
        select(Release.id, Office.code, Release.draw_at)
        .join(Office, col(Office.id) == Release.office_id)
        .where(
            Release.service_id == service_id,
            Release.status == ReleaseStatus.SCHEDULED,
            Release.draw_at <= now,
            col(Release.beacon_round).is_not(None),
        )
        .order_by(col(Release.draw_at), col(Release.id))
    ).all()
    return [
        DueDraw(release_id, code, draw_at) for release_id, code, draw_at in rows if release_id is not None
    ]


def holding(due: Sequence[DueDraw], offices: Iterable[str], submitted_at: datetime) -> DueDraw | None:
    """The first due draw that holds a request listing ``offices``, submitted at ``submitted_at``."""
    listed = set(offices)
    return next((d for d in due if d.office in listed and submitted_at < d.draw_at), None)


def _refuse(draw: DueDraw) -> DrawPending:
    return DrawPending(
        f"release {draw.release_id} is being drawn with this request among its entries; retry shortly",
        release_id=draw.release_id,
    )


def _counts(session: Session, request: AppointmentRequest) -> bool:
    """Whether a request counts as an entry (verified, or its service verifies nothing)."""
    if (
        request.verification_status or VerificationStatus.VERIFIED.value
    ) == VerificationStatus.VERIFIED.value:
        return True
    service = session.get(Service, request.service_id)
    assert service is not None
    return not catalog.policy_of(service).needs_verification


def require_not_frozen(
    session: Session, request: AppointmentRequest, now: datetime, *, joining: bool = False
) -> None:
    """``409 draw_pending`` while a due v2 draw holds this request among its entries (the change would
    remove it or change its weight), or would (``joining``: the change makes it an entry: declining its
    offer or the office cancelling its booking makes it pending again, verifying it makes it count)."""
    if joining:
        candidate = request.status in (RequestStatus.PENDING, RequestStatus.OFFERED, RequestStatus.BOOKED)
    else:
        candidate = request.status == RequestStatus.PENDING and _counts(session, request)
    if not candidate:
        return
    draw = holding(due_draws(session, request.service_id, now), request.offices, request.submitted_at)
    if draw is not None:
        raise _refuse(draw)


def require_digests_not_frozen(
    session: Session, *, service_id: int, digests: Iterable[str | None], now: datetime
) -> None:
    """``409 draw_pending`` while a due v2 draw holds an entry of these identity or person digests (a
    sanction on them would take it out of the draw or change its weight)."""
    wanted = [d for d in digests if d]
    due = due_draws(session, service_id, now)
    if not wanted or not due:
        return
    affected = session.exec(
        select(AppointmentRequest).where(
            AppointmentRequest.service_id == service_id,
            AppointmentRequest.status == RequestStatus.PENDING,
            or_(
                col(AppointmentRequest.identity_key).in_(wanted),
                col(AppointmentRequest.person_key).in_(wanted),
            ),
        )
    ).all()
    for request in affected:
        draw = holding(due, request.offices, request.submitted_at)
        if draw is not None and _counts(session, request):
            raise _refuse(draw)
