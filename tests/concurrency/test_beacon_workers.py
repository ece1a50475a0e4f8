"""Three workers and the planner's button wait for each release's public round, then draw it exactly once."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.domain.draws import beacon, draw_record
from app.main import create_app
from app.runtime import Runtime
from app.services.beacons import rounds
from tests.beacon_relay import relays, signing
from tests.concurrency.test_draw_workers import _scalar, _stop, _worker
from tests.conftest import empty_tables, test_settings
from tests.factories import World, auth, create_release, create_service, submit_request

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def test_three_workers_wait_for_the_round_and_draw_each_release_exactly_once(
    engine, database_url, monkeypatch
):
    key = beacon.new_local_key(b"\x11" * 32)
    local = beacon.local_chain(key, genesis_time=int(time.time()) - 60, period=2)
    # Configured by its info, as an operator configures a chain other than the League's.
    info = json.dumps(local.info())
    chain = beacon.Chain.from_info(local.info())
    empty_tables(engine)
    rounds.forget_setups()
    clock = FrozenClock(datetime.now(UTC))
    with relays((signing(key, local), False)) as (relay,):
        settings = test_settings(
            database_url,
            beacon_chain=info,
            beacon_urls=relay.url,
            beacon_retry_seconds=0.2,
            beacon_timeout_seconds=1,
        )
        runtime = Runtime(settings=settings, engine=engine, clock=clock)
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            world = World(client, runtime)
            service = create_service(client, world.admin, weight_policy={"beacon": "drand"})["code"]
            for _ in range(20):
                submit_request(client, service, [world.office])
            releases = [
                create_release(
                    client,
                    world.planner,
                    office=world.office,
                    service=service,
                    now=clock.now(),
                    slots=2,
                    draw_in=timedelta(seconds=1 + i),
                )
                for i in range(3)
            ]
            assert all(r["beacon_source"]["chain_hash"] == chain.chain_hash for r in releases)
            monkeypatch.setenv("FAIRSLOT_BEACON_CHAIN", info)
            monkeypatch.setenv("FAIRSLOT_BEACON_URLS", relay.url)
            monkeypatch.setenv("FAIRSLOT_BEACON_RETRY_SECONDS", "0.2")
            workers = [_worker(database_url) for _ in range(3)]
            answers: list[tuple[int, str]] = []
            done = threading.Event()

            def press_the_draw_button() -> None:
                while not done.is_set():
                    clock.set(datetime.now(UTC))
                    for release in releases:
                        answer = client.post(
                            f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner)
                        )
                        code = answer.json().get("code", "") if answer.status_code != 200 else ""
                        answers.append((answer.status_code, code))
                    time.sleep(0.05)

            button = threading.Thread(target=press_the_draw_button)
            button.start()
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    if _scalar(engine, "SELECT count(*) FROM release WHERE status = 'drawn'") == 3:
                        break
                    time.sleep(0.1)
                time.sleep(0.5)
            finally:
                done.set()
                button.join()
                errors = [_stop(w) for w in workers]

            assert _scalar(engine, "SELECT count(*) FROM draw") == 3
            assert _scalar(engine, "SELECT count(DISTINCT release_id) FROM draw") == 3
            assert _scalar(engine, "SELECT count(*) FROM offer") == 6
            assert _scalar(engine, "SELECT count(DISTINCT request_id) FROM offer") == 6
            assert {status for status, _code in answers} <= {200, 409}
            assert {code for status, code in answers if status == 409} <= {
                "too_early",
                "beacon_pending",
                "already_drawn",
            }
            for release in releases:
                draw_id = client.get(f"/api/v1/releases/{release['id']}").json()["draw_id"]
                record = client.get(f"/api/v1/draws/{draw_id}").json()
                assert (
                    record["beacon"] == beacon.sign_round(key, release["beacon_source"]["round"]).randomness
                )
                assert draw_record.verify_record(record, {chain.chain_hash: chain}) == []
            tracebacks = [err for err in errors if "Traceback" in err]
            assert not tracebacks, "\n".join(tracebacks)[-3000:]
    rounds.forget_setups()
