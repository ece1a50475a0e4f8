"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from app.db.engine import read_snapshot
from app.domain.errors import Unavailable
from app.http.deps import BearerDep, RuntimeDep
from app.http.problems import problem
from app.services.evidence import exposition

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


@router.get(
    "/metrics",
    response_class=Response,
    responses={401: {"description": "FAIRSLOT_METRICS_TOKEN is set and was not sent as the bearer"}},
)
def metrics(runtime: RuntimeDep, credential: BearerDep) -> Response:
    """Prometheus metrics in the text exposition format, summed over every process of the service.

    With ``FAIRSLOT_METRICS_TOKEN`` set, send ``Authorization: Bearer <token>``; without it, no per-office
    count below 5 is published."""
    body = exposition.exposition(
        engine=runtime.engine, token=runtime.settings.metrics_token, credential=credential
    )
    return Response(body, media_type=CONTENT_TYPE_LATEST)
