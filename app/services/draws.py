"""Running a release's draw exactly once, and publishing its record.

A draw is one transaction: lock the release row, freeze the entries, compute (the pure
:mod:`app.domain.lottery`), write the draw, its entries, the offers and the waiting counts, mark the release
drawn. A worker killed midway leaves nothing (the transaction dies with it) and the release stays due. The
scheduler takes due releases with ``FOR UPDATE SKIP LOCKED``, so several workers never draw the same one;
the planner's manual draw waits for the lock and then finds it ``already_drawn``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Text, cast, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import AppointmentRequest, Draw, DrawEntry, NoShow, Offer, Office, Release, Service, Slot
from app.domain import lottery
from app.domain.errors import AlreadyDrawn, NotFound, TooEarly
from app.domain.weights import compute_weight
from app.services import audit, catalog, draw_documents, notifications, offers

_CHUNK = 5000
_UNRESTRICTED = {"earliest": None, "latest": None, "weekdays": None}


@dataclass(frozen=True)
class DrawSummary:
    """What one draw did."""

    draw_id: int
    release_id: int
    entries: int
    offered: int


def draw_release(*, session: Session, release_id: int, beacon: str, now: datetime, actor: str) -> DrawSummary:
    """The planner's draw of one release: waits for the row lock, then draws if due and not drawn."""
    release = session.exec(
        select(Release).where(Release.id == release_id).with_for_update(key_share=True)
    ).first()
    if release is None:
        raise NotFound(f"no release {release_id}")
    session.refresh(release)
    if release.status == "drawn":
        raise AlreadyDrawn(f"release {release_id} was drawn at {release.drawn_at}")
    if now < release.draw_at:
        raise TooEarly(f"release {release_id} draws at {release.draw_at.isoformat()}")
    return perform_draw(session=session, release=release, beacon=beacon, now=now, actor=actor)


def draw_next_due(*, session: Session, now: datetime, actor: str = "scheduler") -> DrawSummary | None:
    """The scheduler's step: draw the oldest due release no other worker holds, if any."""
    release = session.exec(
        select(Release)
        .where(Release.status == "scheduled", Release.draw_at <= now)
        .order_by(col(Release.draw_at), col(Release.id))
        .limit(1)
        .with_for_update(skip_locked=True, key_share=True)
    ).first()
    if release is None:
        return None
    return perform_draw(session=session, release=release, beacon="", now=now, actor=actor)


def perform_draw(
    *, session: Session, release: Release, beacon: str, now: datetime, actor: str
) -> DrawSummary:
    """Freeze, compute and write one draw in the caller's transaction (the release row is locked)."""
    office = session.get(Office, release.office_id)
    # Draws of one service share their entries (a request may list several offices): they run one at a
    # time, so two draws never offer one request two slots nor update its rows in opposite orders.
    service = session.exec(
        select(Service).where(Service.id == release.service_id).with_for_update(key_share=True)
    ).first()
    assert office is not None
    assert service is not None
    assert release.id is not None
    zone = ZoneInfo(office.timezone)
    slots = session.exec(
        select(Slot).where(Slot.release_id == release.id).order_by(col(Slot.starts_at), col(Slot.id))
    ).all()
    slot_by_id = {str(s.id): s for s in slots}
    draw_slots = [lottery.DrawSlot(str(s.id), s.starts_at.astimezone(zone)) for s in slots]
    entries, frozen = _frozen_entries(session, release, office, service, zone)
    results = lottery.run_draw(
        seed=bytes.fromhex(release.seed), beacon=beacon, entries=entries, slots=draw_slots
    )

    header = {
        "spec": lottery.SPEC,
        "release_id": release.id,
        "office": office.code,
        "service": service.code,
        "draw_at": release.draw_at.astimezone(zone).isoformat(),
        "drawn_at": now.isoformat(),
        "seed": release.seed,
        "seed_commitment": release.seed_commitment,
        "beacon": beacon,
        "slots": [
            {"slot": s.slot, "starts_at": s.starts_at.isoformat()}
            for s in sorted(draw_slots, key=lottery.slot_order)
        ],
    }
    offered = [r for r in results if r.outcome == lottery.OFFERED]
    draw = Draw(
        release_id=release.id,
        drawn_at=now,
        entry_count=len(results),
        offered_count=len(offered),
        header=header,
    )
    session.add(draw)
    session.flush()
    assert draw.id is not None
    draw_id = draw.id
    bulk_insert(
        session,
        DrawEntry.__table__,  # type: ignore[attr-defined]
        ("draw_id", "rank", "request_seq", "entry", "weight", "availability", "outcome", "slot_id"),
        (
            (
                draw_id,
                r.rank,
                *_columns(r.entry, frozen[r.entry]),
                r.outcome,
                None if r.slot is None else int(r.slot),
            )
            for r in results
        ),
        json_ready=True,
    )
    # The published record, built once here (in the draw's transaction) and served as stored.
    windows = {e.entry: e.availability for e in entries}
    window_texts: dict[lottery.Availability, str] = {}

    def window_text(window: lottery.Availability) -> str:
        text = window_texts.get(window)
        if text is None:
            text = window_texts[window] = json.dumps(_stored_availability(window) or dict(_UNRESTRICTED))
        return text

    draw_documents.build(
        session,
        draw_id,
        header,
        (
            (r.entry, frozen[r.entry][1], window_text(windows[r.entry]), r.rank, r.outcome, r.slot)
            for r in results
        ),
    )
    _write_offers(session, draw.id, release, offered, frozen, slot_by_id, now)
    release.status = "drawn"
    release.drawn_at = now
    session.add(release)
    session.flush()
    audit.log(
        session,
        action="draw.completed",
        subject=f"release:{release.id}",
        actor=actor,
        draw_id=draw.id,
        entries=len(results),
        offered=len(offered),
        seed_commitment=release.seed_commitment,
    )
    return DrawSummary(draw_id=draw.id, release_id=release.id, entries=len(results), offered=len(offered))


#: What the draw keeps of one entry: its request's seq, its weight as text, its availability as JSON.
_Frozen = tuple[int, str, str | None]


def _frozen_entries(
    session: Session, release: Release, office: Office, service: Service, zone: ZoneInfo
) -> tuple[list[lottery.DrawEntry], dict[str, _Frozen]]:
    """Pending requests of the service that list the office and were submitted before ``draw_at``.

    Returns the entries and, per entry, what the draw writes for it. Rows are streamed, bypass the ORM,
    carry only what the draw needs (the last no-show is joined in SQL, JSON is read as text and parsed
    only when present): a million rows must load in seconds and little memory.
    """
    policy = catalog.policy_of(service)
    draw_day = release.draw_at.astimezone(zone).date()
    candidates = (
        col(AppointmentRequest.service_id) == service.id,
        col(AppointmentRequest.status) == "pending",
        col(AppointmentRequest.submitted_at) < release.draw_at,
        _lists_office(session, office.code),
    )
    lost = dict(
        session.execute(
            sa_select(col(DrawEntry.request_seq), func.count())
            .join(AppointmentRequest, col(AppointmentRequest.seq) == DrawEntry.request_seq)
            .where(*candidates, col(DrawEntry.outcome) != lottery.OFFERED)
            .group_by(col(DrawEntry.request_seq))
        ).all()
    )
    since = draw_day - timedelta(days=policy.no_show_window_days)
    recent_no_shows = (
        sa_select(col(NoShow.identity_key), func.max(NoShow.missed_on).label("missed_on"))
        .where(col(NoShow.service_id) == service.id, col(NoShow.missed_on) >= since)
        .group_by(col(NoShow.identity_key))
        .subquery()
    )
    rows = session.connection().execute(
        sa_select(
            col(AppointmentRequest.seq),
            col(AppointmentRequest.entry),
            col(AppointmentRequest.permit_expires_on),
            cast(col(AppointmentRequest.vulnerabilities), Text),
            cast(col(AppointmentRequest.availability), Text),
            recent_no_shows.c.missed_on,
        )
        .outerjoin(recent_no_shows, recent_no_shows.c.identity_key == AppointmentRequest.identity_key)
        .where(*candidates)
        .execution_options(yield_per=50_000)  # on the statement: the connection's options would stick
    )
    weights: dict[tuple[Any, ...], tuple[Decimal, str]] = {}
    entries: list[lottery.DrawEntry] = []
    frozen: dict[str, _Frozen] = {}
    unrestricted = lottery.Availability()
    no_vulnerability = ("[]", "", None)
    for seq, entry, expires, vulnerabilities, availability, missed in rows:
        key = (expires, vulnerabilities not in no_vulnerability, lost.get(seq, 0), missed)
        weighed = weights.get(key)
        if weighed is None:
            total = compute_weight(
                policy=policy,
                on=draw_day,
                permit_expires_on=expires,
                vulnerabilities=json.loads(vulnerabilities) if key[1] else (),
                draws_lost=key[2],
                last_no_show_on=missed,
            ).total
            weighed = weights[key] = (total, _weight_text(total))
        if availability and availability != "null":
            window = lottery.Availability.from_dict(json.loads(availability))
            stored = _stored_availability(window)
            window_json = json.dumps(stored) if stored else None
        else:
            window, window_json = unrestricted, None
        entries.append(lottery.DrawEntry(entry, weighed[0], window))
        frozen[entry] = (seq, weighed[1], window_json)
    rows.close()  # release the server-side cursor before the draw writes on this connection
    return entries, frozen


def _lists_office(session: Session, code: str) -> Any:
    """SQL: the request's ``offices`` JSON list contains ``code``."""
    if session.get_bind().dialect.name == "postgresql":
        return text("CAST(appointment_request.offices AS jsonb) ? :office_code").bindparams(office_code=code)
    return text(
        "EXISTS (SELECT 1 FROM json_each(appointment_request.offices) WHERE json_each.value = :office_code)"
    ).bindparams(office_code=code)


def _write_offers(
    session: Session,
    draw_id: int,
    release: Release,
    offered: list[lottery.EntryResult],
    frozen: dict[str, _Frozen],
    slot_by_id: dict[str, Slot],
    now: datetime,
) -> None:
    # First claim the winners (still pending?) by their integer key, reading what the offers and the
    # notices need, one statement per chunk; then write the offers.
    seqs = [frozen[result.entry][0] for result in offered]
    contacts: dict[int, tuple[str, str, str, str | None]] = {}
    for start in range(0, len(seqs), _CHUNK):
        claimed = session.execute(
            update(AppointmentRequest)
            .where(
                col(AppointmentRequest.seq).in_(seqs[start : start + _CHUNK]),
                col(AppointmentRequest.status) == "pending",
            )
            .values(status="offered", updated_at=now)
            .returning(
                col(AppointmentRequest.seq),
                col(AppointmentRequest.id),
                col(AppointmentRequest.entry),
                col(AppointmentRequest.language),
                col(AppointmentRequest.email),
            )
            .execution_options(synchronize_session=False)
        ).all()
        for seq, request_id, entry, language, email in claimed:
            contacts[seq] = (request_id, entry, language, email)
    # A winner withdrawn while the draw ran (its row was pending when the entries were frozen) gets no
    # offer: its slot comes back at once and joins the next draw, like any returned slot. The record
    # stays exactly as computed, so it still verifies.
    gone = [(result, seq) for result, seq in zip(offered, seqs, strict=True) if seq not in contacts]
    for result, _seq in gone:
        assert result.slot is not None
        slot = slot_by_id[result.slot]
        slot.returned_at = now
        session.add(slot)
        audit.log(
            session, action="slot.returned", subject=f"slot:{slot.id}", actor="draw", reason="winner withdrew"
        )
    if gone:
        offered = [result for result, seq in zip(offered, seqs, strict=True) if seq in contacts]
        seqs = [seq for seq in seqs if seq in contacts]
    ttl = timedelta(hours=release.offer_ttl_hours)
    rows = []
    for result, seq in zip(offered, seqs, strict=True):
        assert result.slot is not None
        slot = slot_by_id[result.slot]
        # An offer never outlives its slot: the deadline is the TTL or the slot's start, whichever is first.
        expires_at = min(now + ttl, slot.starts_at)
        remind_at = expires_at - (expires_at - now) * offers.REMIND_WHEN_LEFT
        rows.append((contacts[seq][0], slot.id, slot.id, draw_id, "open", expires_at, remind_at, now))
    bulk_insert(
        session,
        Offer.__table__,  # type: ignore[attr-defined]
        (
            "request_id",
            "slot_id",
            "active_slot_id",
            "draw_id",
            "status",
            "expires_at",
            "remind_at",
            "created_at",
        ),
        rows,
    )
    office = session.get(Office, release.office_id)
    assert office is not None
    zone = ZoneInfo(office.timezone)
    messages = []
    for seq, row in zip(seqs, rows, strict=True):
        request_id, entry, language, email = contacts[seq]
        slot_id, expires_at = row[1], row[5]
        slot = slot_by_id[str(slot_id)]
        audit.log(
            session, action="offer.made", subject=f"request:{request_id}", actor="draw", slot_id=slot_id
        )
        messages.append(
            {
                "request_id": request_id,
                "kind": "offer_made",
                "language": language,
                "recipient": email,
                "context": {
                    "entry": entry,
                    "request_id": request_id,
                    "office": office.name,
                    "starts_at": slot.starts_at.astimezone(zone),
                    "expires_at": expires_at.astimezone(zone),
                },
            }
        )
    notifications.enqueue_many(session, messages, now)


def _columns(entry: str, frozen: _Frozen) -> tuple[int, str, str, str | None]:
    seq, weight, availability = frozen
    return seq, entry, weight, availability


def _weight_text(weight: Decimal) -> str:
    return format(weight.quantize(Decimal("0.0001")), "f")


def _stored_availability(availability: lottery.Availability) -> dict[str, Any] | None:
    as_dict = availability.as_dict()
    return None if as_dict == _UNRESTRICTED else as_dict


def record_entries(session: Session, draw_id: int) -> Iterator[dict[str, Any]]:
    """The record's entries in rank order, streamed from the database."""
    rows = session.execute(
        sa_select(
            col(DrawEntry.entry),
            col(DrawEntry.weight),
            col(DrawEntry.availability),
            col(DrawEntry.rank),
            col(DrawEntry.outcome),
            col(DrawEntry.slot_id),
        )
        .where(col(DrawEntry.draw_id) == draw_id)
        .order_by(col(DrawEntry.rank))
        .execution_options(yield_per=10_000)
    )
    for entry, weight, availability, rank, outcome, slot_id in rows:
        yield {
            "entry": entry,
            "weight": weight,
            "availability": availability or dict(_UNRESTRICTED),
            "rank": rank,
            "outcome": outcome,
            "slot": str(slot_id) if slot_id is not None else None,
        }


def get_draw(session: Session, draw_id: int) -> Draw:
    """One draw (404 when unknown)."""
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound(f"no draw {draw_id}")
    return draw


def record_json_chunks(session: Session, draw: Draw) -> Iterator[str]:
    """The full published record as JSON text, in chunks, rendered from the rows (the reference the stored
    document of :mod:`app.services.draw_documents` is pinned to)."""
    assert draw.id is not None
    yield from draw_documents.render(draw.header, record_entries(session, draw.id))


def full_record(session: Session, draw: Draw) -> dict[str, Any]:
    """The full published record as a dict (for tests, the CLI and small draws)."""
    assert draw.id is not None
    return {**draw.header, "entries": list(record_entries(session, draw.id))}
