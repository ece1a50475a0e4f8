"""Slots that come back (declined, expired, cancelled) are drawn again, never handed out first-come.

A returned slot joins the next scheduled release of its office and service when that one draws within
``FAIRSLOT_REDRAW_WITHIN`` and before the slot starts; otherwise it is marked returned and the scheduler
gathers the returned slots of each office and service into a re-draw release, whose seed commitment is
public at once and which draws ``REDRAW_COLLECT`` later, so that the freed slot is announced before the
draw and nobody can be first to it. A slot starting before any draw could run is left unused.

Lock order: the slot, then its target release, the earliest by ``(draw_at, id)``; a job returning several
slots takes them office by office and service by service, so two such jobs never hold each other's release.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import text, update
from sqlmodel import Session, col, select

from app.db.models import Office, Release, Service, Slot
from app.domain.statuses import ReleaseKind, ReleaseStatus
from app.services import audit, jobs
from app.services.beacons import rounds
from app.services.draws import releases

_REDRAW_LOCK_ID = 0x46A15108  # any constant shared by every process

#: How long a re-draw collects requests between its announcement and its draw.
REDRAW_COLLECT = timedelta(minutes=10)
#: A returned slot starting sooner than this after its re-draw is not offered again.
MIN_LEAD = timedelta(hours=1)


def return_slot(session: Session, slot: Slot, *, now: datetime, redraw_within: timedelta, actor: str) -> None:
    """Put a freed slot back into the draws."""
    target = _next_release(session, slot, now=now, redraw_within=redraw_within)
    if target is not None:
        _move(session, slot, target)
    else:
        slot.returned_at = now
        session.add(slot)
    session.flush()
    audit.log(
        session,
        action="slot.returned",
        subject=f"slot:{slot.id}",
        actor=actor,
        release_id=target.id if target else None,
    )


def _next_release(session: Session, slot: Slot, *, now: datetime, redraw_within: timedelta) -> Release | None:
    return session.exec(
        select(Release)
        .where(
            Release.office_id == slot.office_id,
            Release.service_id == slot.service_id,
            Release.status == ReleaseStatus.SCHEDULED,
            Release.draw_at <= now + redraw_within,
            Release.draw_at <= slot.starts_at - MIN_LEAD,
        )
        # The id breaks ties: releases often share a draw time, and without a total order two transactions
        # returning several slots could each take one of two such releases and then wait for the other.
        .order_by(col(Release.draw_at), col(Release.id))
        .limit(1)
        .with_for_update(key_share=True)
    ).first()


def _move(session: Session, slot: Slot, release: Release) -> None:
    slot.release_id = release.id  # type: ignore[assignment]
    slot.returned_at = None
    session.add(slot)
    session.execute(
        update(Release).where(col(Release.id) == release.id).values(slot_count=Release.slot_count + 1)
    )


def schedule_redraws(
    session: Session,
    *,
    now: datetime,
    redraw_within: timedelta,
    ttl_hours: int,
    secret: bytes,
    setup: rounds.BeaconSetup,
) -> list[int]:
    """Gather returned slots into releases (existing ones due soon, or new re-draws); returns release ids."""
    if session.get_bind().dialect.name == "postgresql":
        # One gatherer at a time, so two workers never open two re-draws for the same office and service.
        session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _REDRAW_LOCK_ID})
    returned = select(Slot).where(col(Slot.returned_at).is_not(None))
    slots = jobs.claim_rows(
        session, returned.order_by(col(Slot.office_id), col(Slot.service_id), col(Slot.starts_at)), 5000
    )
    touched: dict[tuple[int, int], Release] = {}
    for slot in slots:
        if slot.starts_at - MIN_LEAD < now + REDRAW_COLLECT:
            slot.returned_at = None  # too late for any draw: the slot stays unused
            session.add(slot)
            audit.log(session, action="slot.unused", subject=f"slot:{slot.id}", actor="scheduler")
            continue
        target = _next_release(session, slot, now=now, redraw_within=redraw_within)
        if target is None:
            group = (slot.office_id, slot.service_id)
            target = touched.get(group)
            if target is None:
                office = session.get(Office, slot.office_id)
                service = session.get(Service, slot.service_id)
                assert office is not None
                assert service is not None
                target = releases.new_release(
                    session=session,
                    office=office,
                    service=service,
                    draw_at=now + REDRAW_COLLECT,
                    offer_ttl_hours=ttl_hours,
                    now=now,
                    kind=ReleaseKind.REDRAW,
                    secret=secret,
                    chain=setup.chain_for(service),
                )
                audit.log(
                    session,
                    action="release.created",
                    subject=f"release:{target.id}",
                    actor="scheduler",
                    kind=ReleaseKind.REDRAW,
                    seed_commitment=target.seed_commitment,
                )
        touched[(slot.office_id, slot.service_id)] = target
        _move(session, slot, target)
    session.flush()
    return sorted({r.id for r in touched.values() if r.id is not None})
