"""Recurring releases published exactly once however many workers run: two real worker processes racing over
due rules, and the interleaving spelled out (a worker holding a rule makes the other skip it, then find it no
longer due)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from app.db.engine import make_engine
from app.db.models import ReleaseRule
from app.runtime import Runtime
from app.services.beacons import rounds
from app.services.operations import release_rules
from app.services.unit_of_work import unit_of_work
from tests.conftest import TEST_SECRET
from tests.factories import World, auth, create_service
from tests.planning import office_hours, put_schedule

pytestmark = pytest.mark.postgres_only


def _due_rules(world: World, services: list[str], weeks: range) -> None:
    """A rule per service and per ``weeks_ahead``, all due now (their publication time just passed)."""
    for service in services:
        put_schedule(world.client, world.planner, world.office, service, office_hours(desks=2))
        for ahead in weeks:
            body = {
                "office": world.office,
                "service": service,
                "publish_weekday": 1,
                "publish_time": "08:00",
                "weeks_ahead": ahead,
                "draw_after_hours": 24,
            }
            response = world.client.post("/api/v1/release-rules", json=body, headers=auth(world.planner))
            assert response.status_code == 201, response.text
    with unit_of_work(world.runtime.engine) as session:
        session.execute(update(ReleaseRule).values(next_run_at=world.now - timedelta(minutes=1)))


def _rows(runtime: Runtime, sql: str) -> list[tuple]:
    with runtime.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql)).all()]


def _worker(database_url: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_SCHEDULER_INTERVAL_SECONDS": "0.05",
        "FAIRSLOT_ENV": "test",
        "FAIRSLOT_BEACON_CHAIN": "none",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "worker"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
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


@pytest.mark.slow
def test_two_worker_processes_publish_each_due_rule_exactly_once(client, runtime, clock) -> None:
    clock.set(datetime.now(UTC))
    world = World(client, runtime)
    services = [world.service, create_service(client, world.admin)["code"]]
    _due_rules(world, services, range(2, 8))
    workers = [_worker(runtime.settings.database_url) for _ in range(2)]
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _rows(runtime, "SELECT count(*) FROM release_rule WHERE last_outcome IS NULL") == [(0,)]:
                break
            time.sleep(0.2)
        time.sleep(1.0)  # let a duplicate, if there were one, be written
    finally:
        errors = [_stop(worker) for worker in workers]

    published = _rows(runtime, "SELECT service_id, week, count(*) FROM release GROUP BY service_id, week")
    assert len(published) == 12, errors
    assert not [e for e in errors if "Traceback" in e], [e[-3000:] for e in errors]
    assert {count for _service, _week, count in published} == {1}
    assert _rows(runtime, "SELECT DISTINCT last_outcome FROM release_rule") == [("published",)]
    audited = _rows(
        runtime,
        "SELECT count(*) FROM audit_event WHERE action LIKE 'release_rule.%' AND actor = 'scheduler'",
    )
    assert audited == [(12,)]


def test_a_rule_a_worker_holds_is_skipped_by_the_other_then_no_longer_due(
    runtime: Runtime, client, clock
) -> None:
    world = World(client, runtime)
    _due_rules(world, [world.service], range(2, 3))
    setup = rounds.setup_for(runtime.settings)
    now = clock.now()
    other_engine = make_engine(runtime.settings.database_url)
    holding, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def first_worker() -> None:
        with unit_of_work(runtime.engine) as session:
            outcomes["first"] = release_rules.publish_next_due(
                session, now=now, secret=runtime.secret, setup=setup, default_ttl_hours=48
            )
            holding.set()
            release.wait(10)  # the transaction stays open, the rule row locked

    thread = threading.Thread(target=first_worker)
    thread.start()
    try:
        assert holding.wait(10)
        with unit_of_work(other_engine) as session:
            outcomes["while_held"] = release_rules.publish_next_due(
                session, now=now, secret=runtime.secret, setup=setup, default_ttl_hours=48
            )
    finally:
        release.set()
        thread.join()
    with unit_of_work(other_engine) as session:
        outcomes["after"] = release_rules.publish_next_due(
            session, now=now, secret=runtime.secret, setup=setup, default_ttl_hours=48
        )
    other_engine.dispose()

    first = outcomes["first"]
    assert isinstance(first, release_rules.RuleRun)
    assert first.outcome == "published"
    assert outcomes["while_held"] is None
    assert outcomes["after"] is None
    assert _rows(runtime, "SELECT count(*) FROM release") == [(1,)]
    with unit_of_work(runtime.engine) as session:
        rule = session.exec(select(ReleaseRule)).one()
        assert rule.next_run_at > now
