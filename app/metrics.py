"""The application's Prometheus metrics, summed across every process that serves or schedules.

Counters and histograms are defined here once and incremented where the thing happens (intake, rate
limits, draws, check-ins, the outbox, claims). With several processes, prometheus_client's multiprocess
mode keeps each process's values in files of one directory, and ``/metrics`` merges them:
``fairslot serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` itself before uvicorn starts its workers (a fresh
temporary directory, removed on exit, unless the operator gave one), so any worker answering a scrape
reports the sum of all. ``fairslot worker`` exports its own on ``--metrics-port``. Gauges that describe
the database (queue length per office and service, outbox backlog) are read from it at scrape time, once,
so they are never summed across processes.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

INTAKE = Counter(
    "fairslot_intake", "Intake submissions (API and web form) by outcome.", ["channel", "outcome"]
)
RATE_LIMITED = Counter("fairslot_rate_limited", "Requests refused with 429, by limit scope.", ["scope"])
DRAW_SECONDS = Histogram(
    "fairslot_draw_duration_seconds",
    "Time to compute and write one draw.",
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
DRAW_ENTRIES = Histogram(
    "fairslot_draw_entries",
    "Entries per draw.",
    buckets=(1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000),
)
DRAW_OFFERED = Counter("fairslot_draw_offered", "Slots offered by draws.")
OUTBOX = Counter("fairslot_outbox_deliveries", "Outbox delivery attempts by outcome.", ["channel", "outcome"])
CHECKINS = Counter(
    "fairslot_checkins", "Desk check-ins by verdict (attended, or the refusal's code).", ["verdict"]
)
CLAIMS = Counter("fairslot_claims", "Claim verdicts by claim and verdict.", ["claim", "verdict"])
PHONE_CODES = Counter(
    "fairslot_phone_codes",
    "One-time codes by outcome: sent, verified, failed (a wrong code), locked, expired, refused (asked too "
    "often).",
    ["outcome"],
)
LAPSED = Counter(
    "fairslot_requests_lapsed", "Requests lapsed unverified (at verify_by, or beaten by a rival)."
)

P = ParamSpec("P")
R = TypeVar("R")


def count_verdicts(
    counter: Counter, verdict_of: Callable[[Any], str]
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Count each call of the decorated function by its verdict: ``verdict_of(result)``, or the error's code."""

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(function)
        def counted(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                result = function(*args, **kwargs)
            except Exception as exc:
                counter.labels(verdict=getattr(exc, "code", "error")).inc()
                raise
            counter.labels(verdict=verdict_of(result)).inc()
            return result

        return counted

    return decorate


class DatabaseGauges(Collector):
    """Gauges read from the database at scrape time (one process answers a scrape: never summed)."""

    def __init__(self, read: Callable[[], tuple[Iterable[tuple[str, str, int]], int]]) -> None:
        self.read = read

    def collect(self) -> Iterator[Metric]:
        """Queue length per office and service, and the outbox backlog."""
        queue = GaugeMetricFamily(
            "fairslot_queue_length",
            "Pending requests by first-choice office and service.",
            labels=["office", "service"],
        )
        backlog = GaugeMetricFamily("fairslot_outbox_backlog", "Messages waiting in the outbox.")
        try:
            rows, waiting = self.read()
        except Exception:  # a scrape must not fail because the database is briefly away
            return
        for office, service, count in rows:
            queue.add_metric([office, service], count)
        backlog.add_metric([], waiting)
        yield queue
        yield backlog


def registry(database: Collector | None = None) -> CollectorRegistry:
    """What ``/metrics`` exports: every process's values (multiprocess mode) or this one's, and the database's."""
    if os.environ.get(MULTIPROC_ENV):
        merged = CollectorRegistry()
        MultiProcessCollector(merged)
        target = merged
    else:
        target = CollectorRegistry()
        target.register(_Default())
    if database is not None:
        target.register(database)
    return target


class _Default(Collector):
    """This process's own metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        """Everything the default registry holds."""
        yield from REGISTRY.collect()
