"""Capacity advice: how many slots a week an office needs for a service to bring waits under a target.

**Measured** (over the last 8 weeks, or the history there is): ``inflow_per_week``, the verified requests
whose first choice is the office, submitted per week; ``slots_per_week``, the slots of the planner's releases
published per week (withdrawn releases and slots a closure removed left out; re-draws of returned slots are
not new capacity); ``backlog``, the verified requests waiting now (first choice the office); and
``urgent_share``, the share of that backlog whose declared permit expires within 60 days.

**Simulated**, with the project's own market engine (:func:`app.simulation.office_queue.run_office_queue`:
the service's weight policy, the draw, re-draws of returned slots, no-shows, confirm or release): the queue
starts from today's backlog, new applicants arrive at the measured inflow, and a release of the tried
capacity opens every week for 12 weeks; each figure is pooled over 20 runs. The wait of an applicant is the
days from their request to their appointment; the 90th-percentile wait *at the end of the 12 weeks* counts
the applicants seen in the last two weeks and, at their wait so far, those still waiting then.
``expected_wait_days_p90`` is that figure at the measured capacity; ``slots_per_week_needed`` is the smallest
weekly capacity for which it is at most the target (a search from the capacity that would clear the backlog over the 12 weeks, doubling or halving, then
bisecting to within 5%).
Queues larger than ``MAX_SIMULATED`` applicants are simulated at scale (backlog, inflow and capacity divided
by the same factor, the capacity found multiplied back), which keeps each computation to seconds.

With under 2 weeks of history both simulated figures are null and ``method`` says why. The scheduler computes
the advice of every office and service that has a schedule or recent releases daily (for the default
target); the route serves the latest with its ``computed_at``, and computes it on demand when there is none.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.db.models import (
    AppointmentRequest,
    CapacityAdvice,
    Office,
    OpeningSchedule,
    Release,
    Service,
    Slot,
)
from app.domain.access import Action
from app.domain.statuses import ReleaseKind, ReleaseStatus, RequestStatus
from app.domain.verification import VerificationStatus
from app.schemas.planning import CapacityAdvicePublic
from app.services import jobs
from app.services.operations import catalog
from app.services.requests import repository
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import unit_of_work
from app.simulation.office_queue import QueueRun, run_office_queue

HISTORY_WEEKS = 8
MIN_HISTORY_WEEKS = 2
HORIZON_WEEKS = 12
RUNS = 20
#: The last weeks of the horizon whose appointments measure the wait reached.
MEASURED_WEEKS = 2
URGENT_DAYS = 60
MAX_SIMULATED = 200
DEFAULT_TARGET_DAYS = 30
#: How often the scheduler recomputes an advice, and how long a worker holds one while computing it.
REFRESH = timedelta(days=1)
LEASE = timedelta(minutes=15)
#: Bisection stops when the bracket is within this share of the capacity found.
PRECISION = 0.05

METHOD = (
    "Measured over the last {weeks:g} weeks: verified requests (first choice this office) and slots "
    "published per week, the backlog waiting now and its share with a permit expiring within 60 days. "
    "Simulated with Fairslot's own market engine (this service's weights, draws, re-draws, no-shows): "
    "from today's backlog, at the measured inflow, one release a week for 12 weeks, 20 runs pooled{scale}. "
    "The wait is the 90th percentile, at the end of the 12 weeks, of the days from request to appointment "
    "(those seen in the last two weeks, and those still waiting at their wait so far). "
    "slots_per_week_needed is the smallest weekly capacity whose wait is at most {target} days."
)
TOO_LITTLE_HISTORY = (
    "Only {weeks:g} weeks of history here (requests or releases): at least 2 are needed before the "
    "inflow and the capacity say anything, so the wait and the capacity needed are not estimated yet."
)
NO_CAPACITY = " No slot was published in the period: without capacity the wait grows without bound."
UNREACHABLE = (
    " Even serving every applicant in the first week leaves a 90th-percentile wait above {target} days: "
    "weekly releases, drawn a week before their appointments, cannot bring waits that low."
)


@dataclass(frozen=True)
class Measured:
    """The office's figures for one service, now."""

    inflow_per_week: float | None
    slots_per_week: float | None
    backlog: int
    urgent_share: float | None
    weeks_of_history: float


def measure(session: Session, office: Office, service: Service, now: datetime) -> Measured:
    """Inflow, capacity, backlog and urgent share, from the database."""
    first = repository.first_choice_office(session)
    requests = (
        col(AppointmentRequest.service_id) == service.id,
        first == office.code,
        col(AppointmentRequest.verification_status) == VerificationStatus.VERIFIED.value,
        col(AppointmentRequest.status) != RequestStatus.LAPSED,
    )
    planned = (
        col(Release.office_id) == office.id,
        col(Release.service_id) == service.id,
        col(Release.kind) == ReleaseKind.RELEASE,
    )
    oldest = [
        session.execute(sa_select(func.min(AppointmentRequest.submitted_at)).where(*requests)).scalar(),
        session.execute(sa_select(func.min(Release.created_at)).where(*planned)).scalar(),
    ]
    began = min((moment for moment in oldest if moment is not None), default=None)
    history = 0.0 if began is None else max(0.0, (now - began).total_seconds() / (7 * 86400))
    weeks = round(min(float(HISTORY_WEEKS), history), 1)
    since = now - timedelta(weeks=HISTORY_WEEKS)
    arrived = session.execute(
        sa_select(func.count()).where(*requests, col(AppointmentRequest.submitted_at) >= since)
    ).scalar_one()
    published = session.execute(
        sa_select(func.count())
        .select_from(Slot)
        .join(Release, col(Release.id) == Slot.release_id)
        .where(
            *planned,
            col(Release.status) != ReleaseStatus.WITHDRAWN,
            col(Release.created_at) >= since,
            col(Slot.closed_at).is_(None),
        )
    ).scalar_one()
    today = now.astimezone(ZoneInfo(office.timezone)).date()
    waiting = session.execute(
        sa_select(col(AppointmentRequest.permit_expires_on)).where(
            *requests, col(AppointmentRequest.status) == RequestStatus.PENDING
        )
    ).all()
    urgent = sum(1 for (expires,) in waiting if expires is not None and (expires - today).days <= URGENT_DAYS)
    span = max(weeks, 1.0)
    return Measured(
        inflow_per_week=None if began is None else round(arrived / span, 2),
        slots_per_week=None if began is None else round(published / span, 2),
        backlog=len(waiting),
        urgent_share=round(urgent / len(waiting), 4) if waiting else None,
        weeks_of_history=weeks,
    )


def wait_p90(runs: Sequence[QueueRun], weeks: int = HORIZON_WEEKS) -> float:
    """The 90th-percentile wait at the end of ``weeks`` weeks, pooled over ``runs`` (nearest rank)."""
    end = 7 * weeks
    waits: list[int] = []
    for run in runs:
        for arrived, seen in zip(run.arrivals, run.seen, strict=True):
            if arrived >= end:
                continue
            if seen is not None and end - 7 * MEASURED_WEEKS <= seen < end:
                waits.append(seen - arrived)
            elif seen is None or seen >= end:
                waits.append(end - arrived)
    if not waits:
        return 0.0
    waits.sort()
    return float(waits[max(1, math.ceil(0.9 * len(waits))) - 1])


@dataclass(frozen=True)
class _Scaled:
    """A queue as simulated: divided by ``factor`` when it is larger than ``MAX_SIMULATED``."""

    backlog: int
    inflow: float
    factor: float
    urgent_share: float
    policy: dict[str, Any]

    def p90(self, slots_per_week: int) -> float:
        runs = [
            run_office_queue(
                backlog=self.backlog,
                inflow_per_week=self.inflow,
                slots_per_week=slots_per_week,
                weeks=HORIZON_WEEKS,
                urgent_share=self.urgent_share,
                policy=self.policy,
                seed=seed,
            )
            for seed in range(1, RUNS + 1)
        ]
        return wait_p90(runs)


def _scaled(measured: Measured, policy: dict[str, Any]) -> _Scaled:
    inflow = measured.inflow_per_week or 0.0
    people = measured.backlog + HORIZON_WEEKS * inflow
    factor = max(1.0, people / MAX_SIMULATED)
    return _Scaled(
        backlog=round(measured.backlog / factor),
        inflow=inflow / factor,
        factor=factor,
        urgent_share=measured.urgent_share or 0.0,
        policy=policy,
    )


def smallest_capacity(p90: Callable[[int], float], target: float, guess: int, ceiling: int) -> int | None:
    """The smallest weekly capacity ``c`` (1..``ceiling``) with ``p90(c) <= target``, assuming the wait does
    not grow with capacity, searched from ``guess`` (doubling or halving, then bisecting to ``PRECISION``);
    None when even ``ceiling`` misses the target."""
    guess = min(max(1, guess), ceiling)
    if p90(guess) <= target:
        low, high = guess // 2, guess  # p90(high) meets the target; p90(low) is to be seen
        while low > 0 and p90(low) <= target:
            low, high = low // 2, low
    else:
        low, high = guess, min(ceiling, guess * 2)
        while p90(high) > target:
            if high == ceiling:
                return None
            low, high = high, min(ceiling, high * 2)
    # Now p90(low) misses the target (or low is 0, which serves nobody) and p90(high) meets it.
    while high - low > max(1, math.floor(PRECISION * high)):
        middle = (low + high) // 2
        if p90(middle) <= target:
            high = middle
        else:
            low = middle
    return high


def advise(measured: Measured, target_days: int, policy: dict[str, Any]) -> dict[str, Any]:
    """The advice's figures and its method (the simulation runs here: seconds of CPU, no database)."""
    figures: dict[str, Any] = {
        "inflow_per_week": measured.inflow_per_week,
        "slots_per_week": measured.slots_per_week,
        "backlog": measured.backlog,
        "urgent_share": measured.urgent_share,
        "weeks_of_history": measured.weeks_of_history,
        "expected_wait_days_p90": None,
        "slots_per_week_needed": None,
    }
    if measured.weeks_of_history < MIN_HISTORY_WEEKS:
        figures["method"] = TOO_LITTLE_HISTORY.format(weeks=measured.weeks_of_history)
        return figures
    queue = _scaled(measured, policy)
    scale = f", at 1/{queue.factor:.3g} scale" if queue.factor > 1 else ""
    method = METHOD.format(weeks=measured.weeks_of_history, scale=scale, target=target_days)
    seen: dict[int, float] = {}

    def p90(capacity: int) -> float:
        if capacity not in seen:
            seen[capacity] = queue.p90(capacity) if capacity > 0 else math.inf
        return seen[capacity]

    current = round((measured.slots_per_week or 0) / queue.factor)
    if current > 0:
        figures["expected_wait_days_p90"] = p90(current)
    else:
        method += NO_CAPACITY
    # Everyone waiting served in one week bounds the search; the guess clears the backlog over the horizon.
    ceiling = max(1, queue.backlog + math.ceil(queue.inflow))
    guess = math.ceil(queue.inflow + queue.backlog / HORIZON_WEEKS)
    needed = smallest_capacity(p90, target_days, guess, ceiling)
    if needed is None:
        method += UNREACHABLE.format(target=target_days)
    else:
        figures["slots_per_week_needed"] = math.ceil(needed * queue.factor)
    figures["method"] = method
    return figures


def _public(office: Office, service: Service, row: CapacityAdvice) -> CapacityAdvicePublic:
    return CapacityAdvicePublic(
        office=office.code,
        service=service.code,
        target_wait_days=row.target_wait_days,
        computed_at=row.computed_at,
        **row.figures,
    )


def _row(session: Session, office: Office, service: Service, target: int) -> CapacityAdvice | None:
    return session.exec(
        select(CapacityAdvice).where(
            CapacityAdvice.office_id == office.id,
            CapacityAdvice.service_id == service.id,
            CapacityAdvice.target_wait_days == target,
        )
    ).first()


def _store(
    session: Session, office: Office, service: Service, target: int, figures: dict[str, Any], now: datetime
) -> CapacityAdvice:
    row = _row(session, office, service, target)
    if row is None:
        assert office.id is not None and service.id is not None
        row = CapacityAdvice(
            office_id=office.id, service_id=service.id, target_wait_days=target, computed_at=now, due_at=now
        )
    row.figures = figures
    row.computed_at = now
    row.due_at = now + REFRESH
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:  # computed by someone else meanwhile: theirs is as good
        found = _row(session, office, service, target)
        assert found is not None
        return found
    return row


def get_advice(
    *, session: Session, staff: StaffPrincipal, office: str, service: str, target_days: int, now: datetime
) -> CapacityAdvicePublic:
    """The latest advice (planner or auditor of the office, admin), computed now when there is none yet."""
    staff.require(Action.READ_CAPACITY_ADVICE)
    found = catalog.office_at(session, office)
    staff.require(Action.READ_CAPACITY_ADVICE, office=found.code)
    kind = catalog.service_at(session, service)
    row = _row(session, found, kind, target_days)
    if row is None or not row.figures:
        figures = advise(measure(session, found, kind, now), target_days, dict(kind.weight_policy or {}))
        row = _store(session, found, kind, target_days, figures, now)
    return _public(found, kind, row)


def cached_advice(
    session: Session, office: Office, service: Service, target_days: int = DEFAULT_TARGET_DAYS
) -> CapacityAdvicePublic | None:
    """The latest advice if one was computed (pages show it without computing)."""
    row = _row(session, office, service, target_days)
    return _public(office, service, row) if row is not None and row.figures else None


def _planned_pairs(session: Session, now: datetime) -> set[tuple[int, int]]:
    """Offices and services with a schedule or a release in the measured period."""
    pairs = set(
        session.execute(sa_select(col(OpeningSchedule.office_id), col(OpeningSchedule.service_id))).tuples()
    )
    pairs.update(
        session.execute(
            sa_select(col(Release.office_id), col(Release.service_id))
            .where(
                col(Release.kind) == ReleaseKind.RELEASE,
                col(Release.created_at) >= now - timedelta(weeks=HISTORY_WEEKS),
            )
            .distinct()
        ).tuples()
    )
    return pairs


def refresh_next(engine: Engine, *, now: datetime) -> int | None:
    """The scheduler's step: recompute one advice that is due (or missing for the default target), with no
    transaction open while it simulates; returns its id."""
    with unit_of_work(engine) as session:
        have = set(
            session.execute(
                sa_select(col(CapacityAdvice.office_id), col(CapacityAdvice.service_id)).where(
                    col(CapacityAdvice.target_wait_days) == DEFAULT_TARGET_DAYS
                )
            ).tuples()
        )
        for office_id, service_id in sorted(_planned_pairs(session, now) - have):
            try:
                with session.begin_nested():
                    session.add(
                        CapacityAdvice(
                            office_id=office_id,
                            service_id=service_id,
                            target_wait_days=DEFAULT_TARGET_DAYS,
                            computed_at=now,
                            due_at=now,
                        )
                    )
                    session.flush()
            except IntegrityError:
                pass  # another worker added it: the savepoint took this one back
    with unit_of_work(engine) as session:
        due = (
            select(CapacityAdvice)
            .where(col(CapacityAdvice.due_at) <= now)
            .order_by(col(CapacityAdvice.due_at), col(CapacityAdvice.id))
        )
        claimed = jobs.claim_rows(session, due, 1)
        if not claimed:
            return None
        row = claimed[0]
        row.due_at = now + LEASE  # held while this worker computes; another takes it if this one dies
        session.add(row)
        office = session.get(Office, row.office_id)
        service = session.get(Service, row.service_id)
        assert office is not None and service is not None and row.id is not None
        measured = measure(session, office, service, now)
        target, policy, advice_id = row.target_wait_days, dict(service.weight_policy or {}), row.id
    figures = advise(measured, target, policy)
    with unit_of_work(engine) as session:
        stored = session.get(CapacityAdvice, advice_id)
        if stored is not None:
            stored.figures = figures
            stored.computed_at = now
            stored.due_at = now + REFRESH
            session.add(stored)
    return advice_id
