"""What an applicant can expect: the next draws of their offices and service, and an honest estimate.

How the estimate is made (never a promise): the scheduler (:func:`forecast_next`) takes each scheduled
release whose forecast is missing or older than ``REFRESH``, freezes its entries exactly as the draw would
now (the same query, weights as of the draw's day, availability), and runs the draw's race many times
with fresh randomness: with numpy's exponentials when every entry fits every slot (the same law as the
spec's keys; 200 races of 10,000 entries take a fraction of a second), else with the draw's own
:func:`app.domain.draws.lottery.run_draw`, fewer times. The share of races in which an entry of a given weight
was offered a slot is stored per weight in ``release_forecast``. A request's
view reads the row of each coming release and looks up its own weight on that day; there is no
simulation per page view.

What it cannot know: requests filed or withdrawn before the draw, other draws the same people win first,
and slots that come back. So it is shown as "about N in 100 as of <time>", with these caveats.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Office, Release, ReleaseForecast, Service, Slot
from app.domain.draws import lottery
from app.domain.statuses import ReleaseStatus
from app.services.draws import entrants
from app.services.requests.repository import current_weight

REFRESH = timedelta(hours=1)
#: No forecast this close to the draw: it would hold the release row while the draw is due.
QUIET_BEFORE_DRAW = timedelta(minutes=5)
#: Races per forecast: enough for a stable share per weight, bounded by the work (entries x runs).
MAX_RUNS, MIN_RUNS, WORK, WORK_WITH_AVAILABILITY = 200, 10, 5_000_000, 200_000
NEXT_DRAWS_SHOWN = 5


@dataclass(frozen=True)
class NextDraw:
    """A coming draw of one of the request's offices, with the estimate for this request."""

    release_id: int
    office: str
    draw_at: datetime
    slots: int
    chance: float | None
    estimated_at: datetime | None


def forecast_release(
    session: Session, release: Release, now: datetime, rng: secrets.SystemRandom
) -> ReleaseForecast:
    """Simulate the release's race from the entries it would freeze now; store the share won per weight."""
    office = session.get(Office, release.office_id)
    service = session.get(Service, release.service_id)
    assert office is not None and service is not None and release.id is not None
    zone = ZoneInfo(office.timezone)
    entries = entrants.entrants(session, release, office, service, zone).draw_entries()
    slots = session.exec(
        select(Slot).where(Slot.release_id == release.id, col(Slot.closed_at).is_(None))
    ).all()
    draw_slots = [lottery.DrawSlot(str(s.id), s.starts_at.astimezone(zone)) for s in slots]
    chances = _race(entries, draw_slots, rng) if entries and draw_slots else {}
    forecast = session.get(ReleaseForecast, release.id)
    if forecast is None:
        forecast = ReleaseForecast(release_id=release.id, computed_at=now, entries=0, slots=0)
    forecast.computed_at = now
    forecast.entries = len(entries)
    forecast.slots = len(draw_slots)
    forecast.chances = chances
    session.add(forecast)
    session.flush()
    return forecast


def _race(
    entries: list[lottery.DrawEntry], slots: list[lottery.DrawSlot], rng: secrets.SystemRandom
) -> dict[str, float]:
    """The share of simulated races in which an entry of each weight is offered a slot."""
    count: dict[str, int] = defaultdict(int)
    for e in entries:
        count[format(e.weight, "f")] += 1
    won: dict[str, float] = defaultdict(float)
    if all(e.availability == lottery.ANY_DAY for e in entries):
        # Every entry fits every slot: the draw offers its slots to the len(slots) smallest keys. Its key
        # -log(u)/w with u uniform (from a hash) is an exponential of rate w, so the same race is run
        # with numpy's exponentials, all entries at once.
        weights = np.array([float(e.weight) for e in entries])
        names = [format(e.weight, "f") for e in entries]
        runs = max(MIN_RUNS, min(MAX_RUNS, WORK // len(entries)))
        generator = np.random.default_rng(rng.getrandbits(128))
        take = min(len(slots), len(entries))
        hits = np.zeros(len(entries))
        for _ in range(runs):
            keys = generator.exponential(size=len(entries)) / weights
            hits[np.argpartition(keys, take - 1)[:take]] += 1
        for name, h in zip(names, hits, strict=True):
            won[name] += h
    else:
        # Availability matters: the draw's own assignment, fewer times (it is slower).
        runs = max(MIN_RUNS, min(MAX_RUNS, WORK_WITH_AVAILABILITY // len(entries)))
        weight_of = {e.entry: format(e.weight, "f") for e in entries}
        for _ in range(runs):
            seed = rng.randbytes(lottery.SEED_BYTES)
            for result in lottery.run_draw(seed=seed, beacon="", entries=entries, slots=slots):
                if result.outcome == lottery.OFFERED:
                    won[weight_of[result.entry]] += 1
    return {weight: round(float(won[weight]) / (n * runs), 6) for weight, n in count.items()}


def forecast_next(session: Session, *, now: datetime) -> int | None:
    """The scheduler's step: refresh the forecast of one scheduled release that needs it; its id."""
    stale = now - REFRESH
    release = session.exec(
        select(Release)
        .outerjoin(ReleaseForecast, col(ReleaseForecast.release_id) == Release.id)
        .where(
            Release.status == ReleaseStatus.SCHEDULED,
            Release.draw_at > now + QUIET_BEFORE_DRAW,
            (col(ReleaseForecast.release_id).is_(None)) | (col(ReleaseForecast.computed_at) <= stale),
        )
        .order_by(col(Release.draw_at))
        .limit(1)
        .with_for_update(skip_locked=True, of=Release)
    ).first()
    if release is None:
        return None
    forecast_release(session, release, now, secrets.SystemRandom())
    return release.id


def next_draws(session: Session, request: AppointmentRequest, now: datetime) -> list[NextDraw]:
    """The coming draws this request would enter, soonest first, with its estimated chance in each."""
    if request.status != "pending":
        return []
    service = session.get(Service, request.service_id)
    assert service is not None
    offices = {
        o.id: o for o in session.exec(select(Office).where(col(Office.code).in_(request.offices))).all()
    }
    coming = session.exec(
        select(Release, ReleaseForecast)
        .outerjoin(ReleaseForecast, col(ReleaseForecast.release_id) == Release.id)
        .where(
            Release.service_id == request.service_id,
            col(Release.office_id).in_(list(offices)),
            Release.status == ReleaseStatus.SCHEDULED,
            Release.draw_at > now,
            Release.draw_at > request.submitted_at,
        )
        .order_by(col(Release.draw_at), col(Release.id))
        .limit(NEXT_DRAWS_SHOWN)
    ).all()
    shown = []
    weights: dict[date, str] = {}
    for release, forecast in coming:
        office = offices[release.office_id]
        day = release.draw_at.astimezone(ZoneInfo(office.timezone)).date()
        if day not in weights:
            weights[day] = format(current_weight(session, request, service, day).total, "f")
        chance = None
        if forecast is not None:
            chance = forecast.chances.get(weights[day])
        shown.append(
            NextDraw(
                release_id=release.id,  # type: ignore[arg-type]
                office=office.code,
                draw_at=release.draw_at,
                slots=release.slot_count,
                chance=chance,
                estimated_at=forecast.computed_at if forecast is not None else None,
            )
        )
    return shown
