"""Running a release's draw exactly once, and publishing its record.

A draw is one transaction: lock the release row, freeze the entries, compute (the pure
:mod:`app.domain.draws.lottery`), write the draw, its entries, the offers and the waiting counts, mark the release
drawn. The published record is rendered and compressed in a thread while the rows are written, and stored in
the same transaction; each draw logs where its time went (``fairslot.draws``). A worker killed midway leaves
nothing (the transaction dies with it) and the release stays due. The scheduler takes due releases with ``FOR UPDATE SKIP LOCKED``, so several workers never draw the same one;
the planner's manual draw waits for the lock and then finds it ``already_drawn``.

A release with a beacon source (``fairslot-draw-v2``) is due only once its public round is fetched and
verified (``app.services.beacons.rounds``, outside any transaction); its randomness is the beacon, nothing else.
From ``draw_at`` until its draw completes, its entries are frozen (``app.services.draws.freeze``). The seed is
opened from its sealed form at the draw and published in clear with the record.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import metrics
from app.db.bulk import bulk_insert, copy_lines, copy_text
from app.db.models import AppointmentRequest, Draw, DrawEntry, Offer, Office, Release, Service, Slot
from app.domain import confirmation
from app.domain.access import Action
from app.domain.draws import draw_record, lottery, lottery_fast
from app.domain.errors import BeaconPending, InvalidInput, NotFound, TooEarly
from app.domain.proofs import seed_seal
from app.domain.statuses import OfferStatus, ReleaseStatus, RequestStatus
from app.services import audit, jobs
from app.services.beacons import rounds
from app.services.bookings import offers
from app.services.draws import documents, entrants, releases
from app.services.messages import outbox
from app.services.operations import practical
from app.services.staff.keys import StaffPrincipal

_CHUNK = 5000
log = logging.getLogger("fairslot.draws")


@dataclass(frozen=True)
class DrawSummary:
    """What one draw did."""

    draw_id: int
    release_id: int
    entries: int
    offered: int


def draw_release(
    *, session: Session, release_id: int, beacon: str, now: datetime, staff: StaffPrincipal, secret: bytes
) -> DrawSummary:
    """The planner's draw of one release: waits for the row lock, then draws if due and not drawn.

    For a release with a beacon source, fetch its round first (``rounds.obtain``, outside this
    transaction): a free-text ``beacon`` is refused, and a round not fetched yet answers ``beacon_pending``.
    """
    release = releases.lock_undrawn(session, staff, Action.DRAW_RELEASE, release_id)
    if now < release.draw_at:
        raise TooEarly(f"release {release_id} draws at {release.draw_at.isoformat()}")
    if release.beacon_round is not None:
        if beacon and beacon != release.beacon_randomness:
            raise InvalidInput(
                "this release draws with the public round fixed when it was published; no other beacon",
                errors=[
                    {"path": "beacon", "message": "leave empty: the beacon is the release's public round"}
                ],
            )
        if release.beacon_randomness is None:
            raise BeaconPending(f"release {release_id} waits for round {release.beacon_round}")
        beacon = release.beacon_randomness
    return perform_draw(
        session=session, release=release, beacon=beacon, now=now, actor=staff.actor, secret=secret
    )


def draw_now(
    *,
    session: Session,
    engine: Any,
    setup: rounds.BeaconSetup,
    release_id: int,
    beacon: str,
    now: datetime,
    staff: StaffPrincipal,
    secret: bytes,
) -> DrawSummary:
    """The planner's "draw now" (API and page): fetch the public round if needed, then draw once.

    The caller's unit of work has only read so far; it is committed before any relay is asked, so no
    transaction (and, on SQLite, no write lock) is held while fetching.
    """
    staff.require(Action.DRAW_RELEASE)
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    office = session.get(Office, release.office_id)
    assert office is not None
    staff.require(Action.DRAW_RELEASE, office=office.code)
    if (
        release.beacon_round is not None
        and release.status == ReleaseStatus.SCHEDULED
        and now >= release.draw_at
    ):
        if beacon and beacon != release.beacon_randomness:
            raise InvalidInput(
                "this release draws with the public round fixed when it was published; no other beacon",
                errors=[
                    {"path": "beacon", "message": "leave empty: the beacon is the release's public round"}
                ],
            )
        if release.beacon_randomness is None:
            session.commit()
            rounds.obtain(engine=engine, setup=setup, release_id=release_id, now=now)
    return draw_release(
        session=session, release_id=release_id, beacon=beacon, now=now, staff=staff, secret=secret
    )


def draw_next_due(
    *, session: Session, now: datetime, secret: bytes, actor: str = "scheduler"
) -> DrawSummary | None:
    """The scheduler's step: draw the oldest due release no other worker holds, if any.

    A release with a beacon source is due once its round is stored (``rounds.fetch_due``)."""
    due = select(Release).where(
        Release.status == ReleaseStatus.SCHEDULED,
        Release.draw_at <= now,
        or_(col(Release.beacon_round).is_(None), col(Release.beacon_randomness).is_not(None)),
    )
    claimed = jobs.claim_rows(session, due.order_by(col(Release.draw_at), col(Release.id)), 1)
    if not claimed:
        return None
    release = claimed[0]
    beacon = release.beacon_randomness if release.beacon_round is not None else ""
    assert beacon is not None
    return perform_draw(session=session, release=release, beacon=beacon, now=now, actor=actor, secret=secret)


def perform_draw(
    *, session: Session, release: Release, beacon: str, now: datetime, actor: str, secret: bytes
) -> DrawSummary:
    """Freeze, compute and write one draw in the caller's transaction (the release row is locked)."""
    # A million entrants are millions of small objects, none in a cycle: the cyclic collector would
    # rescan them again and again (a third of a big draw's time), so it waits for the draw.
    with lottery_fast.gc_paused():
        return _draw(session=session, release=release, beacon=beacon, now=now, actor=actor, secret=secret)


def _draw(
    *, session: Session, release: Release, beacon: str, now: datetime, actor: str, secret: bytes
) -> DrawSummary:
    phases = _Phases()
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
    # The slots' ids and starts only (ten thousand ORM objects would cost more than the draw); a start
    # shared by several desks is converted to local time once. A slot a closure of the office removed is
    # not drawn.
    slot_rows = session.execute(
        sa_select(col(Slot.id), col(Slot.starts_at))
        .where(col(Slot.release_id) == release.id, col(Slot.closed_at).is_(None))
        .order_by(col(Slot.starts_at), col(Slot.id))
    ).all()
    slot_starts = {str(slot_id): starts_at for slot_id, starts_at in slot_rows}
    local = _local_times(zone)
    draw_slots = [lottery.DrawSlot(str(slot_id), local(starts_at)) for slot_id, starts_at in slot_rows]
    drawn = entrants.entrants(session, release, office, service, zone)
    phases.mark("entries")
    seed = _open_seed(release, secret)
    order, _rank_of, head = lottery_fast.rank_and_fill(
        seed=seed,
        beacon=beacon,
        names=drawn.names,
        weights=drawn.weights,
        availability_at=drawn.availabilities.__getitem__,
        slots=draw_slots,
        known_unique=True,  # entry references are unique in the table
    )
    results = _Results(drawn, order, head)
    phases.mark("computed")

    header: dict[str, Any] = {
        "spec": lottery.SPEC if release.beacon_round is None else draw_record.SPEC_V2,
        "release_id": release.id,
        "office": office.code,
        "service": service.code,
        "draw_at": release.draw_at.astimezone(zone).isoformat(),
        "drawn_at": now.isoformat(),
        "seed": seed.hex(),
        "seed_commitment": release.seed_commitment,
        "beacon": beacon,
        "slots": [
            {"slot": s.slot, "starts_at": s.starts_at.isoformat()}
            for s in sorted(draw_slots, key=lottery.slot_order)
        ],
    }
    if release.beacon_round is not None:
        header["beacon_source"] = rounds.release_source(release)
        header["beacon_proof"] = release.beacon_proof
    offered = results.offered()
    draw = Draw(
        release_id=release.id,
        drawn_at=now,
        day=release.draw_at.astimezone(zone).date(),
        entry_count=len(drawn),
        offered_count=len(offered),
        header=header,
    )
    session.add(draw)
    session.flush()
    assert draw.id is not None
    draw_id = draw.id
    # The published record is rendered and compressed in a thread while this one writes the rows: the
    # compressor and the database both work without the interpreter lock, so the two overlap.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="draw-record") as pool:
        document = pool.submit(documents.compress, documents.render_rows(header, results.record_rows()))
        table = DrawEntry.__table__  # type: ignore[attr-defined]
        if session.get_bind().dialect.name == "postgresql":
            copy_lines(session, table, _ENTRY_COLUMNS, results.copy_lines(draw_id))
        else:
            bulk_insert(session, table, _ENTRY_COLUMNS, results.entry_rows(draw_id), json_ready=True)
        phases.mark("draw entries")
        _write_offers(session, draw_id, release, offered, slot_starts, now)
        phases.mark("offers")
        # Built once here, in the draw's transaction, and served as stored.
        documents.store(session, draw_id, *document.result())
        phases.mark("record")
    release.status = ReleaseStatus.DRAWN
    release.drawn_at = now
    release.seed = seed.hex()  # public from now on, with the record
    release.seed_sealed = None
    session.add(release)
    session.flush()
    audit.log(
        session,
        action="draw.completed",
        subject=f"release:{release.id}",
        actor=actor,
        office=header.get("office"),
        draw_id=draw.id,
        entries=len(drawn),
        offered=len(offered),
        seed_commitment=release.seed_commitment,
    )
    log.info(
        "draw %s of release %s: %s entries, %s offered; %s",
        draw.id,
        release.id,
        len(drawn),
        len(offered),
        phases.summary(),
    )
    metrics.DRAW_SECONDS.observe(phases.total)
    metrics.DRAW_ENTRIES.observe(len(drawn))
    metrics.DRAW_OFFERED.inc(len(offered))
    return DrawSummary(draw_id=draw.id, release_id=release.id, entries=len(drawn), offered=len(offered))


_ENTRY_COLUMNS = (
    "draw_id",
    "rank",
    "request_seq",
    "entry",
    "weight",
    "availability",
    "outcome",
    "slot_id",
    "unconfirmed_claims",
)


class _Results:
    """A draw's results, column by column: ``order`` lists the entrants by rank, ``head`` the results of
    the ranks that met a free slot; every later rank is ``not_selected``. Each view below walks them in
    rank order without an object per entry."""

    def __init__(self, drawn: entrants.Entrants, order: Sequence[int], head: list[lottery.EntryResult]):
        self.drawn, self.order, self.head = drawn, order, head

    def ranked(self) -> Iterator[tuple[int, int, str, str | None]]:
        """``(rank, entrant, outcome, slot)`` in rank order."""
        decided = len(self.head)
        for position, i in enumerate(self.order):
            if position < decided:
                result = self.head[position]
                yield position + 1, i, result.outcome, result.slot
            else:
                yield position + 1, i, lottery.NOT_SELECTED, None

    def offered(self) -> list[tuple[lottery.EntryResult, int]]:
        """The offered results, each with its request's seq."""
        seqs = self.drawn.seqs
        return [
            (result, seqs[self.order[position]])
            for position, result in enumerate(self.head)
            if result.outcome == lottery.OFFERED
        ]

    def copy_lines(self, draw_id: int) -> Iterator[str]:
        """The ``draw_entry`` rows as COPY text, a line each (the repeated values escaped once each)."""
        drawn = self.drawn
        names, seqs, weights, claims = drawn.names, drawn.seqs, drawn.weight_texts, drawn.unconfirmed
        windows = drawn.stored_windows
        texts: dict[str | None, str] = {}
        for rank, i, outcome, slot in self.ranked():
            window, unconfirmed = windows[i], claims[i]
            text = texts.get(window)
            if text is None:
                text = texts[window] = copy_text(window)
            claimed = "\\N" if unconfirmed is None else copy_text(unconfirmed)
            slotted = "\\N" if slot is None else slot
            yield (
                f"{draw_id}\t{rank}\t{seqs[i]}\t{copy_text(names[i])}\t{weights[i]}\t{text}\t{outcome}\t"
                f"{slotted}\t{claimed}\n"
            )

    def entry_rows(self, draw_id: int) -> Iterator[tuple[Any, ...]]:
        """The ``draw_entry`` rows, in the columns :func:`perform_draw` names."""
        drawn = self.drawn
        for rank, i, outcome, slot in self.ranked():
            yield (
                draw_id,
                rank,
                drawn.seqs[i],
                drawn.names[i],
                drawn.weight_texts[i],
                drawn.stored_windows[i],
                outcome,
                None if slot is None else int(slot),
                drawn.unconfirmed[i],
            )

    def record_rows(self) -> Iterator[documents.Row]:
        """The record's entries in the draw's own terms (``documents.Row``), in rank order."""
        drawn = self.drawn
        names, weights, windows = drawn.names, drawn.weight_texts, drawn.stored_windows
        any_day = entrants.ANY_DAY_TEXT
        for rank, i, outcome, slot in self.ranked():
            yield (names[i], weights[i], windows[i] or any_day, rank, outcome, slot)


def _open_seed(release: Release, secret: bytes) -> bytes:
    if release.seed_sealed is None:  # a release created before seeds were sealed
        assert release.seed is not None
        return bytes.fromhex(release.seed)
    return seed_seal.open_sealed(secret, release.seed_sealed, release.seed_commitment)


def _write_offers(
    session: Session,
    draw_id: int,
    release: Release,
    winners: list[tuple[lottery.EntryResult, int]],
    slot_starts: dict[str, datetime],
    now: datetime,
) -> None:
    # First claim the winners (still pending?) by their integer key, reading what the offers and the
    # notices need, one statement per chunk; then write the offers.
    offered = [result for result, _seq in winners]
    seqs = [seq for _result, seq in winners]
    contacts: dict[int, tuple[str, str, str, str | None, str | None]] = {}
    for start in range(0, len(seqs), _CHUNK):
        chunk = seqs[start : start + _CHUNK]
        claimed = session.execute(
            update(AppointmentRequest)
            .where(
                col(AppointmentRequest.seq).in_(chunk),
                col(AppointmentRequest.status) == RequestStatus.PENDING,
            )
            # The next offer ends the priority an office's cancellation gave.
            .values(status=RequestStatus.OFFERED, updated_at=now, office_cancelled_at=None)
            .returning(
                col(AppointmentRequest.seq),
                col(AppointmentRequest.id),
                col(AppointmentRequest.entry),
                col(AppointmentRequest.language),
                col(AppointmentRequest.email),
                col(AppointmentRequest.phone),
            )
            .execution_options(synchronize_session=False)
        ).all()
        for seq, request_id, entry, language, email, phone in claimed:
            contacts[seq] = (request_id, entry, language, email, phone)
    # A winner withdrawn while the draw ran (its row was pending when the entries were frozen) gets no
    # offer: its slot comes back at once and joins the next draw, like any returned slot. The record
    # stays exactly as computed, so it still verifies.
    gone = [(result, seq) for result, seq in zip(offered, seqs, strict=True) if seq not in contacts]
    for result, _seq in gone:
        assert result.slot is not None
        slot = session.get(Slot, int(result.slot))
        assert slot is not None
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
        slot_id = int(result.slot)
        # Answered in time to come: the TTL, or well before the slot starts, whichever is first.
        expires_at = confirmation.answer_deadline(offered_at=now, starts_at=slot_starts[result.slot], ttl=ttl)
        remind_at = expires_at - (expires_at - now) * offers.REMIND_WHEN_LEFT
        rows.append(
            (contacts[seq][0], slot_id, slot_id, draw_id, OfferStatus.OPEN.value, expires_at, remind_at, now)
        )
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
    local = _local_times(ZoneInfo(office.timezone))
    place = practical.practical_context(office, session.get(Service, release.service_id))
    messages = []
    for seq, row in zip(seqs, rows, strict=True):
        request_id, entry, language, email, phone = contacts[seq]
        slot_id, expires_at = row[1], row[5]
        audit.log(
            session, action="offer.made", subject=f"request:{request_id}", actor="draw", slot_id=slot_id
        )
        messages.append(
            {
                "request_id": request_id,
                "kind": "offer_made",
                "language": language,
                "recipient": email,
                "phone": phone,
                "context": {
                    "entry": entry,
                    "request_id": request_id,
                    "office": office.name,
                    "timezone": office.timezone,
                    "starts_at": local(slot_starts[str(slot_id)]),
                    "expires_at": local(expires_at),
                    **place,
                },
            }
        )
    outbox.enqueue_many(session, messages, now)


class _Phases:
    """Where a draw's time goes, for its log line (the waiting counts are read with the entries)."""

    def __init__(self) -> None:
        self.started = self.last = time.perf_counter()
        self.spent: list[tuple[str, float]] = []

    def mark(self, phase: str) -> None:
        """The phase that just ended."""
        now = time.perf_counter()
        self.spent.append((phase, now - self.last))
        self.last = now

    @property
    def total(self) -> float:
        """Seconds since the draw started."""
        return time.perf_counter() - self.started

    def summary(self) -> str:
        """``entries 0.21 s, computed 0.12 s, ...`` and the total so far."""
        return ", ".join(f"{name} {seconds:.2f} s" for name, seconds in self.spent) + f"; {self.total:.2f} s"


def _local_times(zone: ZoneInfo) -> Callable[[datetime], datetime]:
    """``moment.astimezone(zone)``, each distinct moment converted once (slots share their starts)."""
    converted: dict[datetime, datetime] = {}

    def local(moment: datetime) -> datetime:
        found = converted.get(moment)
        if found is None:
            found = converted[moment] = moment.astimezone(zone)
        return found

    return local


def unconfirmed_wins(session: Session, draw_id: int) -> int:
    """How many offered entries of a draw won on a weight resting on claims not yet confirmed then.

    A count, never which entries: which claims an entry declared would reveal a vulnerability.
    """
    count: int = session.execute(
        sa_select(func.count()).where(
            col(DrawEntry.draw_id) == draw_id,
            col(DrawEntry.outcome) == lottery.OFFERED,
            col(DrawEntry.unconfirmed_claims).is_not(None),
        )
    ).scalar_one()
    return count


def get_draw(session: Session, draw_id: int) -> Draw:
    """One draw (404 when unknown)."""
    draw = session.get(Draw, draw_id)
    if draw is None:
        raise NotFound(f"no draw {draw_id}")
    return draw


def record_json_chunks(session: Session, draw: Draw) -> Iterator[str]:
    """The full published record as JSON text, in chunks, rendered from the rows (the reference the stored
    document of :mod:`app.services.draws.documents` is pinned to)."""
    assert draw.id is not None
    yield from documents.render(draw.header, documents.record_entries(session, draw.id))
