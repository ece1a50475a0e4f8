"""Public statistics: who gets drawn, by urgency, office and month, computed by SQL from the live tables.

How each figure is kept cheap for big offices:
- **draws** (entries, offers, urgency bands, draws before an offer, months) come from ``draw_statistics``,
  one row per draw written once by the scheduler right after the draw (:func:`summarise_next`: one
  ``GROUP BY`` over that draw's ``draw_entry`` rows, by its primary key). A statistics request reads those
  rows by the ``(office, service, month)`` index and never scans ``draw_entry``;
- **requests** (pending by channel and partner key, lapsed, claims by status) are counted with ``GROUP BY`` over the requests of the
  service (the ``(service_id, status)`` index); **bookings** by office and status. These counts are cached
  per process for ``CACHE_SECONDS``, so a flood of statistics requests costs one count a minute.

Privacy: only aggregates, no entry reference, no weight, no name; any count below ``MIN_COUNT`` is shown
as null (a quantile or share too, when it rests on fewer than ``MIN_COUNT`` people), and so is any other
cell from which a hidden count of somebody could be recovered by subtraction (complementary suppression,
:mod:`app.domain.suppression`): the urgency bands against the entries and offers, the channels and the
verification methods against the pending count, ``verified_share`` (which gives the verified count) against
both, the booking statuses against the bookings made. A month below ``MIN_COUNT`` is null and left out of
the totals, bands and quantiles of its measure, so that no ``since`` a reader picks makes a total that
differs from another by a hidden month. Staff holding ``read_statistics`` for an office also see its exact
pending counts by channel and by partner.

``verified_share`` is the share of the pending requests that count in draws (verified, or any under
``entry_verification: "none"``); ``by_method`` counts the verified pending ones by how they were verified;
``lapsed`` the requests that lapsed unverified since the first month.
Claims are counted by their status now (``declared`` is a claim not judged yet), for requests submitted
since the first month asked for. ``pending_by_partner`` is keyed by the partner's staff key id.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import (
    AppointmentRequest,
    Booking,
    Claim,
    Draw,
    DrawEntry,
    DrawStatistics,
    Office,
    OutboxMessage,
    Release,
    Service,
    Slot,
)
from app.domain import suppression
from app.domain.access import Action
from app.domain.verification import VerificationMethod, VerificationStatus
from app.schemas.stats import (
    ClaimCounts,
    MonthCounts,
    Quantiles,
    RequestCounts,
    StaffBreakdown,
    StatsItem,
    StatsPublic,
    UrgencyBand,
)
from app.services.operations import catalog
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal

MIN_COUNT = 5
CACHE_SECONDS = 60.0
QUEUE_CACHE_SECONDS = 10.0
MONTHS_BY_DEFAULT = 12
#: Urgency bands of the declared permit expiry on the draw's day (the default policy's bands).
BANDS = ("within_30_days", "within_60_days", "within_90_days", "later", "no_expiry")


def band_of(expires: date | None, on: date) -> str:
    """The urgency band of a permit expiring on ``expires``, seen on ``on`` (already expired: 30 days)."""
    if expires is None:
        return "no_expiry"
    left = (expires - on).days
    for days, band in ((30, "within_30_days"), (60, "within_60_days"), (90, "within_90_days")):
        if left <= days:
            return band
    return "later"


def suppress(count: int | None) -> int | None:
    """A count as published: null below ``MIN_COUNT``."""
    return None if count is None or count < MIN_COUNT else count


def quantile(values: list[int], q: float) -> float | None:
    """The nearest-rank ``q`` quantile; null when fewer than ``MIN_COUNT`` values."""
    if len(values) < MIN_COUNT:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 1))
    return float(ordered[int(rank) - 1])


@dataclass
class _Cells:
    """The counts of one item and the sums that tie them, suppressed together (``app.domain.suppression``)."""

    values: dict[str, int] = field(default_factory=dict)
    sums: list[suppression.Sum] = field(default_factory=list)
    hidden: set[str] = field(default_factory=set)
    #: ``(cell, bound)``: the cell never exceeds its bound (a band's offers, its entries).
    bounded: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, value: int) -> None:
        """A count of its own (a total may be added before its parts)."""
        self.values[name] = value

    def total(self, name: str, parts: dict[str, int], *, hidden: Iterable[str] = ()) -> None:
        """``name`` (already added) is the sum of ``parts``; the ``hidden`` ones are never published."""
        if name not in self.values:
            self.values[name] = sum(parts.values())
        self.values.update(parts)
        self.sums.append(suppression.Sum(name, tuple(parts)))
        self.hidden.update(hidden)

    def published(self) -> Callable[[str], int | None]:
        """What each cell shows: its count, or null (below ``MIN_COUNT``, or a complement of one).

        The verified share rests on the pending count: when that is null, the verified count is too."""
        nulls = suppression.suppress(
            self.values, self.sums, minimum=MIN_COUNT, hidden=self.hidden, bounded=self.bounded
        )
        if "pending" in nulls and "verified" in self.values and "verified" not in nulls:
            nulls = suppression.suppress(
                self.values,
                self.sums,
                minimum=MIN_COUNT,
                hidden=self.hidden,
                also=nulls | {"verified"},
                bounded=self.bounded,
            )
        return lambda name: None if name in nulls else self.values[name]


def first_of_month(text_value: str) -> date:
    """``YYYY-MM`` as the first day of that month (the caller validated the format)."""
    year, month = text_value.split("-")
    return date(int(year), int(month), 1)


def default_since(now: datetime) -> date:
    """The first day of the month ``MONTHS_BY_DEFAULT - 1`` months before ``now``'s."""
    months = now.year * 12 + now.month - 1 - (MONTHS_BY_DEFAULT - 1)
    return date(months // 12, months % 12 + 1, 1)


# -- the scheduler's summary of each draw ------------------------------------------------------------


def summarise_next(session: Session) -> int | None:
    """Write the statistics row of one draw that has none yet; returns its draw id."""
    found = session.exec(
        select(Draw)
        .outerjoin(DrawStatistics, col(DrawStatistics.draw_id) == Draw.id)
        .where(col(DrawStatistics.draw_id).is_(None))
        .order_by(col(Draw.id))
        .limit(1)
        .with_for_update(skip_locked=True, of=Draw)
    ).first()
    if found is None:
        return None
    assert found.id is not None
    # The lock may have been taken as another worker committed this draw's row: the outer join was read
    # before that commit, and locking re-checks only the draw row. Look again, with a fresh snapshot.
    if session.exec(select(DrawStatistics.draw_id).where(DrawStatistics.draw_id == found.id)).first():
        return found.id
    release = session.get(Release, found.release_id)
    assert release is not None
    office = session.get(Office, release.office_id)
    assert office is not None
    zone = ZoneInfo(office.timezone)
    draw_day = release.draw_at.astimezone(zone).date()
    by_band: dict[str, dict[str, int]] = {band: {"entries": 0, "offered": 0} for band in BANDS}
    rows = session.execute(
        sa_select(col(AppointmentRequest.permit_expires_on), col(DrawEntry.outcome), func.count())
        .join(AppointmentRequest, col(AppointmentRequest.seq) == DrawEntry.request_seq)
        .where(col(DrawEntry.draw_id) == found.id)
        .group_by(col(AppointmentRequest.permit_expires_on), col(DrawEntry.outcome))
    ).all()
    for expires, outcome, count in rows:
        band = by_band[band_of(expires, draw_day)]
        band["entries"] += count
        if outcome == "offered":
            band["offered"] += count
    earlier = DrawEntry.__table__.alias("earlier")  # type: ignore[attr-defined]
    before = session.execute(
        sa_select(col(DrawEntry.request_seq), func.count(earlier.c.draw_id))
        .select_from(DrawEntry)
        .outerjoin(
            earlier,
            (earlier.c.request_seq == DrawEntry.request_seq) & (earlier.c.draw_id < DrawEntry.draw_id),
        )
        .where(col(DrawEntry.draw_id) == found.id, col(DrawEntry.outcome) == "offered")
        .group_by(col(DrawEntry.request_seq))
    ).all()
    session.add(
        DrawStatistics(
            draw_id=found.id,
            office_id=release.office_id,
            service_id=release.service_id,
            month=found.drawn_at.astimezone(zone).strftime("%Y-%m"),
            drawn_at=found.drawn_at,
            entries=found.entry_count,
            offered=found.offered_count,
            by_band=by_band,
            draws_before_offer=sorted(int(n) for _seq, n in before),
        )
    )
    session.flush()
    return found.id


# -- reading -------------------------------------------------------------------------------------------

_cache: dict[tuple[Any, ...], tuple[float, Any]] = {}
_cache_lock = threading.Lock()


def _cached(key: tuple[Any, ...], compute: Any, seconds: float = CACHE_SECONDS) -> Any:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    value = compute()
    with _cache_lock:
        _cache[key] = (now + seconds, value)
    return value


def forget_cached() -> None:
    """Drop the cached counts (tests, and after an import)."""
    with _cache_lock:
        _cache.clear()


def _first_office(session: Session) -> Any:
    """SQL: the request's first-choice office code (the first element of its ``offices`` JSON list)."""
    return repository.first_choice_office(session)


def _request_counts(session: Session, since: datetime) -> dict[tuple[str, int], dict[str, int]]:
    """Per (first office, service id): pending, lapsed since, declared claims since."""
    first = _first_office(session)
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    pending = session.execute(
        sa_select(
            first,
            col(AppointmentRequest.service_id),
            col(AppointmentRequest.channel),
            col(AppointmentRequest.filed_by),
            col(AppointmentRequest.verification_status),
            col(AppointmentRequest.verification_method),
            func.count(),
        )
        .where(col(AppointmentRequest.status) == "pending")
        .group_by(
            first,
            col(AppointmentRequest.service_id),
            col(AppointmentRequest.channel),
            col(AppointmentRequest.filed_by),
            col(AppointmentRequest.verification_status),
            col(AppointmentRequest.verification_method),
        )
    ).all()
    for office, service_id, channel, filed_by, verified, method, n in pending:
        counts[(office, service_id)]["pending"] += n
        if verified == VerificationStatus.VERIFIED.value:
            counts[(office, service_id)]["verified"] += n
            counts[(office, service_id)][f"method:{method or 'none'}"] += n
        counts[(office, service_id)][f"channel:{channel}"] += n
        if channel == "partner" and filed_by is not None:
            counts[(office, service_id)][f"partner:{filed_by}"] += n
    lapsed = session.execute(
        sa_select(first, col(AppointmentRequest.service_id), func.count())
        .where(col(AppointmentRequest.status) == "lapsed", col(AppointmentRequest.closed_at) >= since)
        .group_by(first, col(AppointmentRequest.service_id))
    ).all()
    for office, service_id, n in lapsed:
        counts[(office, service_id)]["lapsed"] += n
    by_status = session.execute(
        sa_select(first, col(AppointmentRequest.service_id), col(Claim.status), func.count())
        .select_from(Claim)
        .join(AppointmentRequest, col(AppointmentRequest.seq) == Claim.request_seq)
        .where(col(AppointmentRequest.submitted_at) >= since)
        .group_by(first, col(AppointmentRequest.service_id), col(Claim.status))
    ).all()
    for office, service_id, status, n in by_status:
        counts[(office, service_id)][f"claims:{status}"] += n
    return {k: dict(v) for k, v in counts.items()}


def queue_lengths(session: Session) -> list[tuple[str, str, int]]:
    """Pending requests per first-choice office and service code (cached for ``QUEUE_CACHE_SECONDS``)."""

    def count() -> list[tuple[str, str, int]]:
        first = _first_office(session)
        rows = session.execute(
            sa_select(first, col(Service.code), func.count())
            .select_from(AppointmentRequest)
            .join(Service, col(Service.id) == AppointmentRequest.service_id)
            .where(col(AppointmentRequest.status) == "pending")
            .group_by(first, col(Service.code))
        ).all()
        return [(str(office), str(service), int(n)) for office, service, n in rows]

    result: list[tuple[str, str, int]] = _cached(
        ("queue", str(session.get_bind().engine.url)), count, seconds=QUEUE_CACHE_SECONDS
    )
    return result


@dataclass(frozen=True)
class Demand:
    """Pending requests (first choice) against the slots of the releases not yet drawn."""

    office: str
    service: str
    pending: int
    scheduled_slots: int
    next_draw_at: datetime | None


def demand(session: Session, offices: Iterable[str]) -> list[Demand]:
    """Per office (of ``offices``) and service: pending demand against published, not yet drawn capacity."""
    wanted = set(offices)
    pending = {(o, s): n for o, s, n in queue_lengths(session) if o in wanted}
    capacity = session.execute(
        sa_select(
            col(Office.code),
            col(Service.code),
            func.sum(col(Release.slot_count)),
            func.min(col(Release.draw_at)),
        )
        .select_from(Release)
        .join(Office, col(Office.id) == Release.office_id)
        .join(Service, col(Service.id) == Release.service_id)
        .where(col(Release.status) == "scheduled", col(Office.code).in_(wanted))
        .group_by(col(Office.code), col(Service.code))
    ).all()
    slots = {(o, s): (int(n or 0), at) for o, s, n, at in capacity}
    return [
        Demand(
            office=o,
            service=s,
            pending=pending.get((o, s), 0),
            scheduled_slots=slots.get((o, s), (0, None))[0],
            next_draw_at=slots.get((o, s), (0, None))[1],
        )
        for o, s in sorted(set(pending) | set(slots))
    ]


def outbox_backlog(session: Session) -> int:
    """Messages waiting to be sent (the ``(status, next_attempt_at)`` index)."""
    waiting: int = session.execute(
        sa_select(func.count()).select_from(OutboxMessage).where(col(OutboxMessage.status) == "pending")
    ).scalar_one()
    return waiting


def _booking_counts(session: Session, since: datetime) -> dict[tuple[int, int], dict[str, int]]:
    """Per (office id, service id): bookings made since (offers accepted), and by status."""
    rows = session.execute(
        sa_select(col(Booking.office_id), col(Slot.service_id), col(Booking.status), func.count())
        .join(Slot, col(Slot.id) == Booking.slot_id)
        .where(col(Booking.created_at) >= since)
        .group_by(col(Booking.office_id), col(Slot.service_id), col(Booking.status))
    ).all()
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for office_id, service_id, status, n in rows:
        counts[(office_id, service_id)][status] += n
        counts[(office_id, service_id)]["accepted"] += n
    return {k: dict(v) for k, v in counts.items()}


def statistics(
    *,
    session: Session,
    since: date,
    office: str | None = None,
    service: str | None = None,
    staff: StaffPrincipal | None = None,
) -> StatsPublic:
    """The public figures per office and service from ``since`` (a first of month) on."""
    offices: dict[int, Office] = {o.id: o for o in session.exec(select(Office)).all() if o.id is not None}
    services: dict[int, Service] = {s.id: s for s in session.exec(select(Service)).all() if s.id is not None}
    if office is not None:
        offices = {k: o for k, o in offices.items() if o.code == office.lower()}
    if service is not None:
        services = {k: s for k, s in services.items() if s.code == service.lower()}
    since_at = datetime.combine(since, datetime.min.time()).astimezone(ZoneInfo("UTC"))
    key = (str(session.get_bind().engine.url), since)
    requests = _cached(("requests", *key), lambda: _request_counts(session, since_at))
    bookings = _cached(("bookings", *key), lambda: _booking_counts(session, since_at))
    draws: dict[tuple[int, int], list[DrawStatistics]] = defaultdict(list)
    if offices and services:
        for row in session.exec(
            select(DrawStatistics).where(
                col(DrawStatistics.office_id).in_(list(offices)),
                col(DrawStatistics.service_id).in_(list(services)),
                col(DrawStatistics.month) >= since.strftime("%Y-%m"),
            )
        ).all():
            draws[(row.office_id, row.service_id)].append(row)
    code_to_id = {o.code: i for i, o in offices.items()}
    pairs: set[tuple[int, int]] = set(draws)
    pairs |= {(code_to_id[o], s) for (o, s) in requests if o in code_to_id and s in services}
    pairs |= {pair for pair in bookings if pair[0] in offices and pair[1] in services}
    items = [
        _item(
            offices[o],
            services[s],
            draws.get((o, s), []),
            requests.get((offices[o].code, s), {}),
            bookings.get((o, s), {}),
            staff,
        )
        for o, s in sorted(pairs, key=lambda p: (offices[p[0]].code, services[p[1]].code))
    ]
    return StatsPublic(since=since.strftime("%Y-%m"), items=items)


def _item(
    office: Office,
    service: Service,
    draws: Iterable[DrawStatistics],
    requests: dict[str, int],
    bookings: dict[str, int],
    staff: StaffPrincipal | None,
) -> StatsItem:
    draws = list(draws)
    months: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for d in draws:
        months[d.month][0] += d.entries
        months[d.month][1] += d.offered
    # A month below MIN_COUNT is null and left out of every other figure of its measure (totals, bands,
    # quantiles): a total over the months shown, whatever ``since`` a reader picks, reveals no hidden month.
    counted = {measure: {m for m, pair in months.items() if pair[measure] >= MIN_COUNT} for measure in (0, 1)}
    bands = {band: {"entries": 0, "offered": 0} for band in BANDS}
    waited: list[int] = []
    for d in draws:
        for band, counts in d.by_band.items():
            if d.month in counted[0]:
                bands[band]["entries"] += counts["entries"]
            if d.month in counted[1]:
                bands[band]["offered"] += counts["offered"]
        if d.month in counted[1]:
            waited += d.draws_before_offer
    pending = requests.get("pending", 0)
    by_channel = {
        channel: requests.get(f"channel:{channel}", 0) for channel in ("online", "counter", "partner")
    }
    by_partner = {key.split(":", 1)[1]: n for key, n in requests.items() if key.startswith("partner:")}
    cells = _Cells()
    cells.add("entries", sum(pair[0] for m, pair in months.items() if m in counted[0]))
    cells.add("offered", sum(pair[1] for m, pair in months.items() if m in counted[1]))
    for name in ("entries", "offered"):
        cells.total(name, {f"band:{b}:{name}": c[name] for b, c in bands.items()})
    cells.bounded += [(f"band:{b}:offered", f"band:{b}:entries") for b in bands] + [("offered", "entries")]
    cells.total("pending", {f"channel:{c}": n for c, n in by_channel.items()})
    methods = {f"method:{m.value}": requests.get(f"method:{m.value}", 0) for m in VerificationMethod}
    verifies = catalog.policy_of(service).needs_verification
    if verifies:
        verified = requests.get("verified", 0)
        cells.total(
            "pending", {"verified": verified, "unverified": pending - verified}, hidden=["unverified"]
        )
        cells.total("verified", methods)
    else:
        cells.total("pending", methods)  # nothing to verify: every pending request counts
    for channel in ("counter", "partner"):  # a counter or partner filing is verified by its channel
        cells.total(f"channel:{channel}", {f"method:{channel}": methods[f"method:{channel}"]})
    statuses = ("attended", "no_show", "forfeited", "released")
    counted_bookings = {f"booking:{s}": bookings.get(s, 0) for s in statuses}
    accepted = bookings.get("accepted", 0)
    counted_bookings["booking:other"] = accepted - sum(counted_bookings.values())  # booked, cancelled
    cells.total("booking:accepted", counted_bookings, hidden=["booking:other"])
    for name in ("lapsed", "declared", "confirmed", "not_evidenced", "refuted"):
        cells.add(name, requests.get(f"claims:{name}" if name != "lapsed" else "lapsed", 0))
    cells.add("draws", len(draws))
    shown = cells.published()

    def share() -> float | None:
        if shown("pending") is None:
            return None
        if not verifies:
            return 1.0
        count = shown("verified")
        return None if count is None else round(count / pending, 4)

    item = StatsItem(
        office=office.code,
        service=service.code,
        requests=RequestCounts(
            pending=shown("pending"),
            by_channel={channel: shown(f"channel:{channel}") for channel in by_channel},
            verified_share=share(),
            lapsed=shown("lapsed"),
            by_method={m.value: shown(f"method:{m.value}") for m in VerificationMethod},
        ),
        draws=shown("draws"),
        entries=shown("entries"),
        offered=shown("offered"),
        accepted=shown("booking:accepted"),
        attended=shown("booking:attended"),
        no_show=shown("booking:no_show"),
        forfeited=shown("booking:forfeited"),
        released=shown("booking:released"),
        draws_before_offer=Quantiles(p50=quantile(waited, 0.5), p90=quantile(waited, 0.9)),
        by_urgency=[
            UrgencyBand(
                band=band, entries=shown(f"band:{band}:entries"), offered=shown(f"band:{band}:offered")
            )
            for band in bands
        ],
        claims=ClaimCounts(
            declared=shown("declared"),
            confirmed=shown("confirmed"),
            not_evidenced=shown("not_evidenced"),
            refuted=shown("refuted"),
        ),
        by_month=[
            MonthCounts(month=month, entries=suppress(e), offered=suppress(o))
            for month, (e, o) in sorted(months.items())
        ],
    )
    if staff is not None and staff.can(Action.READ_STATISTICS, office=office.code):
        item.staff = StaffBreakdown(pending_by_channel=by_channel, pending_by_partner=by_partner)
    return item
