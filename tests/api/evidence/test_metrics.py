"""``/metrics``: the application's own figures, and with ``fairslot serve --workers 2`` their sum over both."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from app.services import scheduler
from app.services.evidence import stats
from tests.conftest import TEST_SECRET
from tests.factories import World, auth, request_body


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text).get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_intake_draws_and_check_in_refusals_in_one_process(client, runtime, clock):
    world = World(client, runtime)
    for _ in range(3):
        world.applicant()
    before = client.get("/metrics").text
    assert client.post("/api/v1/requests", json={"service": world.service}).status_code == 422
    world.applicant()
    world.release(slots=2)
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    refused = client.post(
        "/api/v1/check-ins",
        json={"token": "not-a-token", "document_number": "X1", "birth_date": "1990-01-01"},
        headers=auth(world.desk),
    )
    assert refused.status_code == 401
    stats.forget_cached()  # the queue gauge is cached for a few seconds
    after = client.get("/metrics").text
    for name, labels, delta in (
        ("fairslot_intake_total", {"channel": "api", "outcome": "invalid"}, 1),
        ("fairslot_intake_total", {"channel": "api", "outcome": "accepted"}, 1),
        ("fairslot_draw_entries_count", {}, 1),
        ("fairslot_draw_offered_total", {}, 2),
        ("fairslot_checkins_total", {"verdict": "token_invalid"}, 1),
    ):
        assert _value(after, name, **labels) - _value(before, name, **labels) == delta, name
    assert ("fairslot_outbox_backlog", ()) in _samples(after)


def _queue(text: str, world: World) -> float | None:
    return _samples(text).get(
        ("fairslot_queue_length", tuple(sorted({"office": world.office, "service": world.service}.items())))
    )


def test_without_a_metrics_token_no_per_office_count_below_five_is_published(client, runtime):
    world = World(client, runtime)
    for _ in range(4):
        world.applicant()
    assert _queue(client.get("/metrics").text, world) is None
    world.applicant()
    stats.forget_cached()

    assert _queue(client.get("/metrics").text, world) == 5


def test_with_a_metrics_token_only_its_bearer_reads_the_metrics_and_they_are_exact(client, runtime):
    import dataclasses

    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.assertions import assert_problem
    from tests.conftest import test_settings

    token = "metrics-token-0123456789"
    settings = test_settings(runtime.settings.database_url, metrics_token=token)
    world = World(client, runtime)
    world.applicant()
    with TestClient(create_app(dataclasses.replace(runtime, settings=settings))) as guarded:
        for headers in ({}, auth("wrong-token"), {"Authorization": f"Basic {token}"}):
            refused = guarded.get("/metrics", headers=headers)
            assert_problem(refused, 401, "unauthorized")
            assert refused.headers["www-authenticate"] == "Bearer"
            assert "fairslot_" not in refused.text
        allowed = guarded.get("/metrics", headers=auth(token))

    assert allowed.status_code == 200
    assert _queue(allowed.text, world) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _per_process_intake(directory: Path) -> dict[str, float]:
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = {}
    for path in directory.glob("counter_*.db"):
        total = 0.0
        for metric in MultiProcessCollector.merge([str(path)], accumulate=False):
            for sample in metric.samples:
                if sample.name == "fairslot_intake_total":
                    total += sample.value
        counts[path.stem] = total
    return counts


@pytest.mark.slow
@pytest.mark.once
def test_two_worker_processes_report_the_sum_of_their_counts(client, runtime, database_url, tmp_path):
    world = World(client, runtime)
    metrics_dir = tmp_path / "metrics"
    port = _free_port()
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_ENV": "test",
        "FAIRSLOT_RATE_LIMITS": "off",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--workers",
            "2",
            "--port",
            str(port),
            "--no-scheduler",
            "--no-access-log",
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)

        def submit(n: int) -> int:
            # A fresh connection each time, so that both workers take some of the traffic.
            body = request_body(world.service, [world.office], n=900_000 + n)
            return httpx.post(base + "/api/v1/requests", json=body, timeout=30).status_code

        def invalid(_n: int) -> int:
            return httpx.post(
                base + "/api/v1/requests", json={"service": world.service}, timeout=30
            ).status_code

        accepted = refused = 0
        for round_ in range(5):  # until both processes have counted some intake
            with ThreadPoolExecutor(8) as pool:
                statuses = list(pool.map(submit, range(round_ * 40, round_ * 40 + 30)))
                statuses += list(pool.map(invalid, range(10)))
            accepted += statuses.count(201)
            refused += statuses.count(422)
            busy = [c for c in _per_process_intake(metrics_dir).values() if c > 0]
            if len(busy) >= 2:
                break
        assert accepted == 30 * (round_ + 1) and refused == 10 * (round_ + 1)
        per_process = _per_process_intake(metrics_dir)
        assert len([c for c in per_process.values() if c > 0]) >= 2, per_process
        assert sum(per_process.values()) == accepted + refused

        for _ in range(6):  # whichever worker answers the scrape reports the sum
            text = httpx.get(base + "/metrics", timeout=10, headers={"Connection": "close"}).text
            assert _value(text, "fairslot_intake_total", channel="api", outcome="accepted") == accepted
            assert _value(text, "fairslot_intake_total", channel="api", outcome="invalid") == refused
            assert (
                _value(text, "fairslot_queue_length", office=world.office, service=world.service) == accepted
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.once
def test_the_worker_exports_its_own_draws_on_its_metrics_port(client, runtime, clock, database_url, tmp_path):
    world = World(client, runtime)
    for _ in range(3):
        world.applicant()
    world.release(slots=2, draw_in=timedelta(seconds=2))  # due a moment after the (real-time) worker starts
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"},
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_ENV": "test",
        "FAIRSLOT_SCHEDULER_INTERVAL_SECONDS": "0.2",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", "--metrics-port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert worker.poll() is None, "the worker stopped"
            try:
                text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
                if _value(text, "fairslot_draw_entries_count") == 1:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the worker did not draw, or did not export it"
            time.sleep(0.3)
        assert _value(text, "fairslot_draw_offered_total") == 2
    finally:
        worker.terminate()
        worker.wait(timeout=30)
