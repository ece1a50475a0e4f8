"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlmodel import Session

from app import metrics as app_metrics
from app.db.engine import read_snapshot
from app.domain.errors import Unavailable
from app.http.deps import RuntimeDep
from app.http.problems import problem
from app.services.evidence import stats

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Database unreachable"}})
def readyz(runtime: RuntimeDep) -> Response:
    """The database answers."""
    try:
        with read_snapshot(runtime.engine) as conn:  # never waits for SQLite's write lock
            conn.execute(text("SELECT 1"))
    except Exception:
        return problem(503, Unavailable.code, "Not ready", "the database does not answer")
    return Response('{"status":"ready"}', media_type="application/json")


@router.get("/metrics", response_class=Response)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics in the text exposition format, summed over every process of the service."""

    def read() -> tuple[list[tuple[str, str, int]], int]:
        with Session(runtime.engine) as session:
            return stats.queue_lengths(session), stats.outbox_backlog(session)

    registry = app_metrics.registry(app_metrics.DatabaseGauges(read))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
