"""The scheduler: recurring releases, due draws, offer expiries, releases of unconfirmed bookings, lapses of
unverified requests, re-draws of returned slots, no-shows, reminders, notifications, and the daily capacity
advice of each office.

Each job runs in its own short transaction and takes its rows with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of workers can run side by side and each piece of work happens once. In the
embedded mode one background thread of ``fairslot serve`` runs the same loop.

Nothing outside the database may hold a pass for long: messages go out outlet by outlet, each for at most
``OUTLET_SECONDS_PER_PASS`` (one-time codes first), and an outlet whose server is dead is left alone for a
while; a beacon relay has one deadline for its whole answer, and a relay that failed is not asked again in
the same pass. So a hung SMTP server, a silent SMSC or a relay trickling bytes delays a due draw by one
bounded attempt at most.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from app.runtime import Runtime
from app.services import audit, idempotency_store
from app.services.beacons import rounds
from app.services.bookings import confirmations, no_shows, offers
from app.services.draws import drawing, news, returns
from app.services.evidence import chances, stats
from app.services.intake import verification
from app.services.messages import catcher, outbox
from app.services.operations import capacity, release_rules
from app.services.unit_of_work import unit_of_work

log = logging.getLogger("fairslot.scheduler")


@dataclass
class TickReport:
    """What one pass of the scheduler did."""

    draws: list[int] = field(default_factory=list)
    rounds: list[int] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    redraws: list[int] = field(default_factory=list)
    no_shows: list[str] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    #: Requests told that a draw did not select them.
    news: list[str] = field(default_factory=list)
    #: Bookings reminded (window open, due tomorrow, appointment tomorrow) and released unconfirmed.
    booking_reminders: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    #: Unverified requests lapsed at their ``verify_by``.
    lapsed: list[str] = field(default_factory=list)
    #: Recurring rules run: the week each published, or skipped and why.
    rule_runs: list[release_rules.RuleRun] = field(default_factory=list)
    #: The capacity advice recomputed in this pass, if any.
    advice: int | None = None
    sent: int = 0
    sealed: int = 0
    forgotten: int = 0

    @property
    def busy(self) -> bool:
        """Whether anything happened (the loop then runs again at once)."""
        return bool(
            self.draws
            or self.expired
            or self.redraws
            or self.no_shows
            or self.reminders
            or self.booking_reminders
            or self.released
            or self.lapsed
            or self.rule_runs
            or self.sent
        )


def _drain(runtime: Runtime, step: Callable[[Session], object | None], limit: int = 1000) -> list[object]:
    done: list[object] = []
    for _ in range(limit):
        with unit_of_work(runtime.engine, runtime.clock) as session:
            outcome = step(session)
        if outcome is None:
            break
        done.append(outcome)
    return done


def outlets_of(runtime: Runtime) -> outbox.Outlets:
    """The message outlets the runtime's settings configure (SMTP, SMPP, or the log)."""
    settings = runtime.settings
    return outbox.outlets_for(
        smtp_url=settings.smtp_url,
        smpp_url=settings.smpp_url,
        mail_from=settings.mail_from,
        public_url=settings.public_url,
        timeout=settings.message_timeout_seconds,
        secret=runtime.secret,
        reveal_codes=settings.env == "development",
        pepper=runtime.pepper,
        catcher=catcher.CAUGHT if settings.dev_messages_enabled else None,
    )


#: How long one pass may spend sending through one outlet: what is left waits for the next pass, so a slow
#: or dead server never holds the draws, expiries and releases the pass runs (the loop comes round again at
#: once while there is work). A batch already started may overrun it by one bounded attempt.
OUTLET_SECONDS_PER_PASS = 5.0

#: The order outlets are served in a pass: one-time codes first (an applicant is waiting for them, nothing
#: bulk stands before them), then the other SMS, then e-mail; each outlet with its own time.
_SENDING_ORDER: tuple[tuple[outbox.Channel, bool | None], ...] = (
    (outbox.Channel.SMS, True),
    (outbox.Channel.SMS, False),
    (outbox.Channel.EMAIL, None),
)


def send_messages(
    runtime: Runtime, outlets: outbox.Outlets, limit: int = 1000, budget: float = OUTLET_SECONDS_PER_PASS
) -> int:
    """Send what is due, outlet by outlet (codes first), each for at most ``budget`` seconds and ``limit``
    batches, skipping an outlet that is leaving a dead server alone; returns how many were handled."""
    sent = 0
    spent: dict[outbox.Channel, float] = {}
    for channel, codes in _SENDING_ORDER:
        started = time.monotonic()
        until = started + budget - spent.get(channel, 0.0)
        for _ in range(limit):
            if time.monotonic() >= until or channel not in outlets.ready():
                break
            count = outbox.send_due(
                runtime.engine,
                outlets=outlets,
                now=runtime.clock.now(),
                channels=[channel],
                codes=codes,
                until=until,
            )
            if count == 0:
                break
            sent += count
        spent[channel] = spent.get(channel, 0.0) + time.monotonic() - started
    return sent


def tick(runtime: Runtime, outlets: outbox.Outlets | None = None) -> TickReport:
    """One pass over every job; each job is drained of its due work (``outlets``: the worker's, kept
    across passes; built for this pass alone when not given)."""
    settings = runtime.settings
    now = runtime.clock.now
    setup = rounds.setup_for(settings)
    report = TickReport()
    # Expiries and releases first: their slots then join the re-draws scheduled below.
    for batch in _drain(
        runtime,
        lambda s: confirmations.release_unconfirmed(s, now=now(), redraw_within=settings.redraw_within),
    ):
        report.released.extend(batch)  # type: ignore[arg-type]
    for request_id in _drain(
        runtime, lambda s: offers.expire_next(s, now=now(), redraw_within=settings.redraw_within)
    ):
        report.expired.append(str(request_id))
    for batch in _drain(runtime, lambda s: verification.lapse_next(s, now=now())):
        report.lapsed.extend(batch)  # type: ignore[arg-type]
    with unit_of_work(runtime.engine, runtime.clock) as session:
        report.redraws = returns.schedule_redraws(
            session,
            now=now(),
            redraw_within=settings.redraw_within,
            ttl_hours=settings.offer_ttl_hours,
            secret=runtime.secret,
            setup=setup,
        )
    # Recurring releases due now: each publication once, whatever the number of workers.
    for run in _drain(
        runtime,
        lambda s: release_rules.publish_next_due(
            s, now=now(), secret=runtime.secret, setup=setup, default_ttl_hours=settings.offer_ttl_hours
        ),
    ):
        assert isinstance(run, release_rules.RuleRun)
        log.info("release rule %s: %s %s", run.rule_id, run.week, run.outcome)
        report.rule_runs.append(run)
    # Public rounds of due releases, fetched with no transaction open; those not out yet wait.
    report.rounds = rounds.fetch_due(
        engine=runtime.engine,
        setup=setup,
        now=now(),
        retry_after=timedelta(seconds=settings.beacon_retry_seconds),
    )
    secret = runtime.secret
    for summary in _drain(runtime, lambda s: drawing.draw_next_due(session=s, now=now(), secret=secret)):
        assert isinstance(summary, drawing.DrawSummary)
        log.info(
            "drew release %s: %s entries, %s offered", summary.release_id, summary.entries, summary.offered
        )
        report.draws.append(summary.draw_id)
    _drain(runtime, stats.summarise_next)  # each new draw's statistics row, once
    _drain(runtime, lambda s: chances.forecast_next(s, now=now()))  # coming releases' estimates, hourly
    # News to the entrants not selected, with the estimates just refreshed.
    for batch in _drain(runtime, lambda s: news.notify_next(s, now=now())):
        report.news.extend(batch)  # type: ignore[arg-type]
    grace = timedelta(minutes=settings.no_show_grace_minutes)
    for booking_id in _drain(runtime, lambda s: no_shows.mark_next(s, now=now(), grace=grace)):
        report.no_shows.append(str(booking_id))
    for request_id in _drain(runtime, lambda s: offers.remind_next(s, now=now())):
        report.reminders.append(str(request_id))
    for reminder in confirmations.REMINDERS:
        for batch in _drain(runtime, lambda s, r=reminder: confirmations.send_reminder(s, r, now=now())):  # type: ignore[misc]
            report.booking_reminders.extend(batch)  # type: ignore[arg-type]
    # One capacity advice a pass at most (seconds of simulation, with no transaction open).
    report.advice = capacity.refresh_next(runtime.engine, now=now())
    with unit_of_work(runtime.engine, runtime.clock) as session:
        report.sealed = audit.seal(session)
    report.forgotten = idempotency_store.sweep(
        runtime.engine, now(), timedelta(hours=settings.idempotency_ttl_hours)
    )
    own = outlets is None
    outlets = outlets or outlets_of(runtime)
    try:
        report.sent = send_messages(runtime, outlets)
    finally:
        if own:
            outlets.close()
    return report


def run_forever(runtime: Runtime, stop: threading.Event) -> None:
    """Tick until ``stop`` is set, sleeping between idle passes."""
    interval = runtime.settings.scheduler_interval_seconds
    outlets = outlets_of(runtime)
    try:
        while not stop.is_set():
            try:
                report = tick(runtime, outlets)
            except Exception:
                log.exception("scheduler pass failed; retrying after the interval")
                report = TickReport()
            if not report.busy:
                stop.wait(interval)
    finally:
        outlets.close()


class BackgroundScheduler:
    """The scheduler in a daemon thread of the web process (embedded mode)."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=run_forever, args=(runtime, self._stop), daemon=True, name="scheduler"
        )

    def start(self) -> None:
        """Start the loop."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the loop to stop and wait for the current pass."""
        self._stop.set()
        self._thread.join(timeout=30)
