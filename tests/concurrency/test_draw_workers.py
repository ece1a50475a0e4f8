"""Exactly-once draws with real worker processes on PostgreSQL, and a worker killed mid-draw."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import TEST_SECRET
from tests.factories import World, auth

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def _worker(database_url: str, *args: str, app_name: str = "fairslot-worker") -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": f"{database_url}?application_name={app_name}",
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_SCHEDULER_INTERVAL_SECONDS": "0.05",
        "FAIRSLOT_ENV": "test",
        "FAIRSLOT_PUBLIC_URL": "http://127.0.0.1:8000",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _stop(process: subprocess.Popen[bytes]) -> str:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
    return err.decode(errors="replace")


def _scalar(engine, sql: str, **params):
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def test_four_workers_and_the_manual_endpoint_draw_each_release_exactly_once(client, runtime, clock):
    clock.set(datetime.now(UTC))
    world = World(client, runtime)
    for _ in range(30):
        world.applicant()
    releases = [world.release(slots=2, draw_in=timedelta(seconds=2)) for _ in range(5)]
    workers = [_worker(runtime.settings.database_url) for _ in range(4)]
    answers: list[int] = []
    done = threading.Event()

    def press_the_draw_button() -> None:
        while not done.is_set():
            clock.set(datetime.now(UTC))
            for release in releases:
                response = client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
                answers.append(response.status_code)
                if response.status_code == 409:
                    assert response.json()["code"] in ("too_early", "already_drawn")
            time.sleep(0.01)

    button = threading.Thread(target=press_the_draw_button)
    button.start()
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if _scalar(runtime.engine, "SELECT count(*) FROM release WHERE status = 'drawn'") == 5:
                break
            time.sleep(0.1)
        time.sleep(0.5)  # let every racer see the drawn state at least once more
    finally:
        done.set()
        button.join()
        errors = [_stop(w) for w in workers]

    assert _scalar(runtime.engine, "SELECT count(*) FROM draw") == 5
    assert _scalar(runtime.engine, "SELECT count(DISTINCT release_id) FROM draw") == 5
    assert _scalar(runtime.engine, "SELECT count(*) FROM offer") == 10
    assert _scalar(runtime.engine, "SELECT count(DISTINCT slot_id) FROM offer") == 10
    # Each request took part in each draw at most once and holds at most one offer.
    assert (
        _scalar(runtime.engine, "SELECT max(c) FROM (SELECT count(*) c FROM offer GROUP BY request_id) t")
        == 1
    )
    assert set(answers) <= {200, 409}
    tracebacks = [err for err in errors if "Traceback" in err]
    assert not tracebacks, "\n".join(tracebacks)[-3000:]


#: Entries of the draw a worker is killed in: enough for its COPY of the entries to be caught in flight.
ENTRIES = 100_000


def _seed_pending_requests(engine, service_id: int, office: str, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                """
                INSERT INTO appointment_request (
                    id, entry, service_id, offices, identity_key, active_identity_key, vulnerabilities,
                    language, access_code_hash, status, submitted_at, updated_at)
                SELECT gen_random_uuid()::text, 'FS-BULK-' || lpad(i::text, 8, '0'), :service,
                       json_build_array(CAST(:office AS text)), md5(i::text) || md5('k' || i::text),
                       md5(i::text) || md5('k' || i::text), '[]'::json, 'fr', md5('c' || i::text),
                       'pending', now() - interval '1 hour', now()
                FROM generate_series(1, :count) AS i
                """
            ),
            {"service": service_id, "office": office, "count": count},
        )


def test_a_worker_killed_mid_draw_leaves_nothing_and_the_next_worker_completes_it(client, runtime, clock):
    clock.set(datetime.now(UTC))
    world = World(client, runtime)
    service_id = _scalar(runtime.engine, "SELECT id FROM service WHERE code = :c", c=world.service)
    _seed_pending_requests(runtime.engine, service_id, world.office, ENTRIES)
    release = world.release(slots=500, desks=2, draw_in=timedelta(seconds=1))
    time.sleep(1.1)

    observer = create_engine(runtime.settings.database_url)
    victim = _worker(runtime.settings.database_url, app_name="fairslot-victim")
    try:
        deadline = time.monotonic() + 120
        seen_copy = False
        while time.monotonic() < deadline and victim.poll() is None:
            query = _scalar(
                observer,
                "SELECT query FROM pg_stat_activity WHERE application_name = 'fairslot-victim' "
                "AND state = 'active' AND query LIKE 'COPY draw_entry%' LIMIT 1",
            )
            if query:
                seen_copy = True
                victim.send_signal(signal.SIGKILL)
                break
            time.sleep(0.002)
        victim.wait(timeout=30)
        assert seen_copy, "the worker never reached the middle of the draw"

        deadline = time.monotonic() + 30
        while _scalar(
            observer, "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'fairslot-victim'"
        ):
            assert time.monotonic() < deadline, "the killed worker's session never ended"
            time.sleep(0.05)

        assert _scalar(observer, "SELECT count(*) FROM draw") == 0
        assert _scalar(observer, "SELECT count(*) FROM draw_entry") == 0
        assert _scalar(observer, "SELECT count(*) FROM offer") == 0
        assert _scalar(observer, "SELECT status FROM release WHERE id = :r", r=release["id"]) == "scheduled"
        assert _scalar(observer, "SELECT count(*) FROM appointment_request WHERE status <> 'pending'") == 0

        survivor = _worker(runtime.settings.database_url, "--once")
        err = _stop(survivor) if survivor.wait(timeout=180) is not None else ""
        assert survivor.returncode == 0, err
        assert _scalar(observer, "SELECT count(*) FROM draw") == 1
        assert _scalar(observer, "SELECT entry_count FROM draw") == ENTRIES
        assert _scalar(observer, "SELECT count(*) FROM draw_entry") == ENTRIES
        assert _scalar(observer, "SELECT count(*) FROM offer") == 1000
        assert _scalar(observer, "SELECT status FROM release WHERE id = :r", r=release["id"]) == "drawn"
    finally:
        if victim.poll() is None:
            victim.kill()
        observer.dispose()
