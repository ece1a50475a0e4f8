"""The scheduler: due draws, offer expiries, re-draws of returned slots, no-shows, notifications.

Each job runs in its own short transaction and takes its rows with ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so any number of workers can run side by side and each piece of work happens once. In the
embedded mode one background thread of ``fairslot serve`` runs the same loop.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from app.runtime import Runtime
from app.services import audit, draws, no_shows, notifications, offers, slot_returns
from app.services.unit_of_work import unit_of_work

log = logging.getLogger("fairslot.scheduler")


@dataclass
class TickReport:
    """What one pass of the scheduler did."""

    draws: list[int] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    redraws: list[int] = field(default_factory=list)
    no_shows: list[str] = field(default_factory=list)
    reminders: list[str] = field(default_factory=list)
    sent: int = 0
    sealed: int = 0

    @property
    def busy(self) -> bool:
        """Whether anything happened (the loop then runs again at once)."""
        return bool(
            self.draws or self.expired or self.redraws or self.no_shows or self.reminders or self.sent
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


def tick(runtime: Runtime) -> TickReport:
    """One pass over every job; each job is drained of its due work."""
    settings = runtime.settings
    now = runtime.clock.now
    report = TickReport()
    # Expiries first: their slots then join the re-draws scheduled below.
    for request_id in _drain(
        runtime, lambda s: offers.expire_next(s, now=now(), redraw_within=settings.redraw_within)
    ):
        report.expired.append(str(request_id))
    with unit_of_work(runtime.engine, runtime.clock) as session:
        report.redraws = slot_returns.schedule_redraws(
            session, now=now(), redraw_within=settings.redraw_within, ttl_hours=settings.offer_ttl_hours
        )
    for summary in _drain(runtime, lambda s: draws.draw_next_due(session=s, now=now())):
        assert isinstance(summary, draws.DrawSummary)
        log.info(
            "drew release %s: %s entries, %s offered", summary.release_id, summary.entries, summary.offered
        )
        report.draws.append(summary.draw_id)
    grace = timedelta(minutes=settings.no_show_grace_minutes)
    for booking_id in _drain(runtime, lambda s: no_shows.mark_next(s, now=now(), grace=grace)):
        report.no_shows.append(str(booking_id))
    for request_id in _drain(runtime, lambda s: offers.remind_next(s, now=now())):
        report.reminders.append(str(request_id))
    with unit_of_work(runtime.engine, runtime.clock) as session:
        report.sealed = audit.seal(session)
    sender = notifications.sender_for(settings.smtp_url, settings.mail_from)
    for count in _drain(
        runtime,
        lambda s: notifications.send_due(s, sender=sender, mail_from=settings.mail_from, now=now()) or None,
    ):
        report.sent += int(count)  # type: ignore[call-overload]
    return report


def run_forever(runtime: Runtime, stop: threading.Event) -> None:
    """Tick until ``stop`` is set, sleeping between idle passes."""
    interval = runtime.settings.scheduler_interval_seconds
    while not stop.is_set():
        try:
            report = tick(runtime)
        except Exception:
            log.exception("scheduler pass failed; retrying after the interval")
            report = TickReport()
        if not report.busy:
            stop.wait(interval)


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
