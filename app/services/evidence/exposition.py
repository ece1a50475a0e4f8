"""What ``/metrics`` publishes, and to whom.

With ``FAIRSLOT_METRICS_TOKEN`` set, only a scraper sending ``Authorization: Bearer <token>`` reads the
metrics (``401 unauthorized`` otherwise, compared in constant time), and it reads exact figures: it is the
operator's own monitoring. Without the setting anyone may read them, so they follow the public statistics'
rule: a per-office figure below ``stats.MIN_COUNT`` (a queue of 3 people at one office) is left out,
where ``/stats`` shows it as null. The other metrics count events over the whole service (intake
outcomes, draws, deliveries), never a group of people at one office.
"""

from __future__ import annotations

import hmac

from prometheus_client import generate_latest
from sqlalchemy import Engine
from sqlmodel import Session

from app import metrics
from app.domain.errors import Unauthorized
from app.services.evidence import stats


def exposition(*, engine: Engine, token: str | None, credential: str | None) -> bytes:
    """The metrics in Prometheus's text format for a scraper presenting ``credential``."""
    if token is not None and (
        credential is None or not hmac.compare_digest(credential.encode(), token.encode())
    ):
        raise Unauthorized(
            "send Authorization: Bearer <FAIRSLOT_METRICS_TOKEN>", headers={"WWW-Authenticate": "Bearer"}
        )
    exact = token is not None

    def read() -> tuple[list[tuple[str, str, int]], int]:
        with Session(engine) as session:
            queues = stats.queue_lengths(session)
            backlog = stats.outbox_backlog(session)
        if not exact:
            queues = [(office, service, n) for office, service, n in queues if n >= stats.MIN_COUNT]
        return queues, backlog

    return generate_latest(metrics.registry(metrics.DatabaseGauges(read)))
