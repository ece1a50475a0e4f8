"""Admission: a bounded number of requests at once, the rest wait in turn or answer 503 busy_retry, and the
worker threads and the database pool are sized so an admitted request always finds both."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient

from app.http.admission import SPARE_THREADS
from app.main import create_app
from app.runtime import Runtime
from app.settings import BACKGROUND_CONNECTIONS
from tests.conftest import test_settings


def _app_with_a_held_route(runtime: Runtime, limit: int, wait: float, held: threading.Event):
    settings = runtime.settings.model_copy(
        update={"max_requests_in_flight": limit, "admission_wait_seconds": wait}
    )
    app = create_app(dataclasses.replace(runtime, settings=settings))
    entered = threading.Event()

    @app.get("/test/held")
    def held_route() -> dict:
        entered.set()
        held.wait(10)
        return {"held": True}

    @app.get("/test/threads")
    async def threads_route() -> dict:
        return {"tokens": anyio.to_thread.current_default_thread_limiter().total_tokens}

    return app, entered


def test_a_request_past_the_limit_waits_then_answers_busy_retry_and_the_admitted_one_finishes(runtime):
    held = threading.Event()
    app, entered = _app_with_a_held_route(runtime, limit=1, wait=0.3, held=held)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(1) as pool:
        first = pool.submit(client.get, "/test/held")
        assert entered.wait(10)
        refused = client.get("/api/v1/offices")
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["code"] == "busy_retry"
        held.set()
        assert first.result(10).json() == {"held": True}
        assert client.get("/api/v1/offices").status_code == 200  # the place is free again


def test_a_waiting_request_is_admitted_when_a_place_frees_in_time(runtime):
    held = threading.Event()
    app, entered = _app_with_a_held_route(runtime, limit=1, wait=10.0, held=held)
    with TestClient(app, raise_server_exceptions=False) as client, ThreadPoolExecutor(2) as pool:
        first = pool.submit(client.get, "/test/held")
        assert entered.wait(10)
        second = pool.submit(client.get, "/api/v1/offices")
        assert not second.done()
        held.set()
        assert first.result(10).status_code == 200
        assert second.result(10).status_code == 200


def test_the_worker_threads_cover_every_admitted_request(runtime):
    app, _ = _app_with_a_held_route(runtime, limit=60, wait=1.0, held=threading.Event())
    with TestClient(app) as client:
        assert client.get("/test/threads").json()["tokens"] >= 60 + SPARE_THREADS


@pytest.mark.postgres_only
def test_the_database_pool_holds_a_connection_per_admitted_request_and_the_background(database_url):
    settings = test_settings(database_url, max_requests_in_flight=5)
    runtime = Runtime.from_settings(settings)
    try:
        pool = runtime.engine.pool
        assert pool.size() + pool._max_overflow == 5 + BACKGROUND_CONNECTIONS  # type: ignore[attr-defined]
    finally:
        runtime.engine.dispose()
