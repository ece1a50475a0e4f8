"""fairslot-draw-v2 end to end: a release fixes a public round, the draw waits for it, fetches it from
relays on 127.0.0.1 serving real drand rounds, verifies it, draws once, and the record proves it."""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import Draw
from app.domain.draws import beacon, draw_record
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.beacons import rounds
from tests.beacon_relay import ROUNDS, Relay, forged, other_chain, recorded, relays
from tests.conftest import empty_tables, test_settings
from tests.factories import World, auth, create_release, create_service, submit_request
from tests.web.helpers import sign_in, token_for

QUICKNET_ROUND = ROUNDS["quicknet"]["round"]  # out at 2023-09-15 11:00:03 UTC
ROUND_AT = beacon.QUICKNET.round_time(QUICKNET_ROUND)
#: The test time: a minute before that round; releases drawn at ROUND_AT - 2 s fix it.
BEFORE = ROUND_AT - timedelta(minutes=1)


@contextmanager
def beacon_app(
    engine: Engine, database_url: str, clock: FrozenClock, urls: list[str], **settings: Any
) -> Iterator[tuple[TestClient, Runtime]]:
    empty_tables(engine)
    rounds.forget_setups()
    values: dict[str, Any] = {
        "beacon_chain": "quicknet",
        "beacon_urls": ",".join(urls),
        "beacon_timeout_seconds": 0.3,
        **settings,
    }
    runtime = Runtime(settings=test_settings(database_url, **values), engine=engine, clock=clock)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
        yield client, runtime


class BeaconWorld(World):
    """A world whose service draws with the configured public chain."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        super().__init__(client, runtime)
        self.service = create_service(client, self.admin, weight_policy={"beacon": "drand"})["code"]
        self.v1_service = create_service(client, self.admin)["code"]

    def applicant(self, service: str | None = None, **overrides: Any) -> dict[str, Any]:
        return submit_request(self.client, service or self.service, [self.office], **overrides)

    def release(self, **overrides: Any) -> dict[str, Any]:
        draw_in = ROUND_AT - timedelta(seconds=2) - self.now
        return create_release(
            self.client,
            self.planner,
            office=self.office,
            service=overrides.pop("service", self.service),
            now=self.now,
            draw_in=overrides.pop("draw_in", draw_in),
            **overrides,
        )


@pytest.fixture
def good_relay() -> Iterator[Relay]:
    with relays((recorded, False)) as (relay,):
        yield relay


@pytest.fixture
def world(engine: Engine, database_url: str, good_relay: Relay) -> Iterator[BeaconWorld]:
    clock = FrozenClock(BEFORE)
    with beacon_app(engine, database_url, clock, [good_relay.url]) as (client, runtime):
        yield BeaconWorld(client, runtime)


def _draw(world: World, release_id: int, **body: Any) -> Any:
    return world.client.post(
        f"/api/v1/releases/{release_id}/draw", json=body or None, headers=auth(world.planner)
    )


def _at(world: World, moment: datetime) -> None:
    assert isinstance(world.runtime.clock, FrozenClock)
    world.runtime.clock.set(moment)


def test_a_new_release_fixes_the_first_round_at_or_after_draw_at_and_shows_it_at_once(
    world: BeaconWorld,
) -> None:
    created = world.release()
    expected = {"scheme": "drand", "chain_hash": beacon.QUICKNET.chain_hash, "round": QUICKNET_ROUND}
    assert created["beacon_source"] == expected
    assert created["beacon_trust"] == "public"
    assert created["beacon_status"] == "fixed"
    shown = world.client.get(f"/api/v1/releases/{created['id']}").json()
    assert shown["beacon_source"] == expected
    assert datetime.fromisoformat(shown["beacon_round_at"]) == ROUND_AT
    assert "nobody" in shown["beacon_note"]
    assert world.client.get("/api/v1/releases").json()[0]["beacon_source"] == expected


def test_a_release_whose_draw_at_has_just_passed_fixes_a_round_out_after_it_is_made(
    world: BeaconWorld,
) -> None:
    world.applicant()
    made_at = ROUND_AT - timedelta(seconds=1)  # the recorded round is the first out after this
    _at(world, made_at)
    # draw_at 59 s ago (within the leeway): the rounds out since then are public already.
    release = world.release(draw_in=timedelta(seconds=-59))

    assert release["beacon_source"]["round"] == QUICKNET_ROUND
    assert beacon.QUICKNET.round_time(QUICKNET_ROUND) > made_at
    shown = world.client.get(f"/api/v1/releases/{release['id']}").json()
    assert made_at < datetime.fromisoformat(shown["draw_at"]) < made_at + timedelta(seconds=1)  # from now
    _at(world, ROUND_AT + timedelta(seconds=1))
    (draw_id,) = scheduler.tick(world.runtime).draws
    record = world.client.get(f"/api/v1/draws/{draw_id}").json()
    assert [e["outcome"] for e in record["entries"]] == ["offered"]
    assert draw_record.verify_record(record) == []  # the first round at or after draw_at, as written


def test_the_seed_is_sealed_at_rest_until_the_draw_reveals_it(world: BeaconWorld) -> None:
    release = world.release()
    with world.runtime.engine.connect() as conn:
        seed, sealed = conn.execute(
            text("SELECT seed, seed_sealed FROM release WHERE id = :id"), {"id": release["id"]}
        ).one()
    assert seed is None
    assert sealed.startswith("aesgcm1:")
    _at(world, ROUND_AT + timedelta(seconds=1))
    scheduler.tick(world.runtime)
    shown = world.client.get(f"/api/v1/releases/{release['id']}").json()
    assert shown["seed"] is not None
    assert hashlib.sha256(bytes.fromhex(shown["seed"])).hexdigest() == release["seed_commitment"]
    assert shown["seed"] not in sealed


def test_the_draw_waits_for_the_round_then_draws_once_with_its_verified_randomness(
    world: BeaconWorld, good_relay: Relay
) -> None:
    for _ in range(5):
        world.applicant()
    release = world.release(slots=2)

    _at(world, ROUND_AT - timedelta(seconds=1))  # past draw_at, the round is not out
    assert scheduler.tick(world.runtime).draws == []
    shown = world.client.get(f"/api/v1/releases/{release['id']}").json()
    assert (shown["status"], shown["beacon_status"]) == ("scheduled", "waiting")
    assert good_relay.asked == []  # nothing to ask before the round's time
    pending = _draw(world, release["id"])
    assert (pending.status_code, pending.json()["code"]) == (409, "beacon_pending")

    _at(world, ROUND_AT + timedelta(seconds=1))
    report = scheduler.tick(world.runtime)
    assert report.rounds == [release["id"]]
    assert len(report.draws) == 1
    assert scheduler.tick(world.runtime).draws == []
    again = _draw(world, release["id"])
    assert (again.status_code, again.json()["code"]) == (409, "already_drawn")

    record = world.client.get(f"/api/v1/draws/{report.draws[0]}").json()
    assert record["spec"] == "fairslot-draw-v2"
    assert record["beacon"] == ROUNDS["quicknet"]["randomness"]
    assert record["beacon_source"] == release["beacon_source"]
    assert record["beacon_proof"]["signature"] == ROUNDS["quicknet"]["signature"]
    assert record["beacon_proof"]["previous_signature"] is None
    assert draw_record.verify_record(record) == []
    assert draw_record.record_trust(record) == "public"
    assert world.client.get(f"/api/v1/releases/{release['id']}").json()["beacon_status"] == "used"


def test_a_planners_manual_draw_fetches_the_round_itself(world: BeaconWorld) -> None:
    world.applicant()
    release = world.release()
    _at(world, ROUND_AT + timedelta(seconds=1))
    answer = _draw(world, release["id"])
    assert answer.status_code == 200, answer.text
    record = world.client.get(f"/api/v1/draws/{answer.json()['draw_id']}").json()
    assert record["beacon"] == ROUNDS["quicknet"]["randomness"]


def test_a_free_text_beacon_is_refused_for_a_release_with_a_public_round(world: BeaconWorld) -> None:
    release = world.release()
    _at(world, ROUND_AT + timedelta(seconds=1))
    answer = _draw(world, release["id"], beacon="my lucky number")
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["path"] == "beacon"
    assert world.client.get(f"/api/v1/releases/{release['id']}").json()["status"] == "scheduled"


def test_before_draw_at_a_manual_draw_is_still_too_early(world: BeaconWorld) -> None:
    release = world.release()
    answer = _draw(world, release["id"])
    assert (answer.status_code, answer.json()["code"]) == (409, "too_early")


@pytest.mark.parametrize(
    ("bad", "hang"),
    [(recorded, True), (forged, False), (other_chain, False)],
    ids=["hangs", "forged", "other"],
)
def test_relays_that_hang_forge_or_serve_another_chain_leave_the_draw_waiting(
    engine: Engine, database_url: str, bad: Any, hang: bool
) -> None:
    clock = FrozenClock(BEFORE)
    with (
        relays((bad, hang)) as (relay,),
        beacon_app(engine, database_url, clock, [relay.url]) as (client, rt),
    ):
        world = BeaconWorld(client, rt)
        world.applicant()
        release = world.release()
        clock.set(ROUND_AT + timedelta(seconds=1))

        answer = _draw(world, release["id"])
        assert (answer.status_code, answer.json()["code"]) == (503, "beacon_unavailable")
        assert scheduler.tick(rt).draws == []
        assert client.get(f"/api/v1/releases/{release['id']}").json()["beacon_status"] == "waiting"

        # The relay comes back honest: the next attempt (after the retry pause) draws.
        relay.hang, relay.rounds = False, recorded
        clock.set(ROUND_AT + timedelta(seconds=1 + rt.settings.beacon_retry_seconds + 1))
        drawn = scheduler.tick(rt).draws
        assert len(drawn) == 1
        record = client.get(f"/api/v1/draws/{drawn[0]}").json()
        assert record["beacon"] == ROUNDS["quicknet"]["randomness"]
        assert draw_record.verify_record(record) == []


def test_a_hanging_relay_is_skipped_for_the_next_one(engine: Engine, database_url: str) -> None:
    clock = FrozenClock(BEFORE)
    with (
        relays((recorded, True), (forged, False), (recorded, False)) as (hanging, lying, honest),
        beacon_app(engine, database_url, clock, [hanging.url, lying.url, honest.url]) as (client, rt),
    ):
        world = BeaconWorld(client, rt)
        release = world.release()
        clock.set(ROUND_AT + timedelta(seconds=1))
        answer = _draw(world, release["id"])
        assert answer.status_code == 200, answer.text
        assert hanging.asked and lying.asked and honest.asked


def test_a_relay_that_trickles_its_answer_is_cut_at_the_deadline_for_the_scheduler_and_draw_now(
    engine: Engine, database_url: str
) -> None:
    clock = FrozenClock(BEFORE)
    with (
        relays((recorded, False), trickle=True) as (trickling,),
        beacon_app(engine, database_url, clock, [trickling.url], beacon_timeout_seconds=3) as (client, rt),
    ):
        world = BeaconWorld(client, rt)
        world.applicant()
        release = world.release()
        clock.set(ROUND_AT + timedelta(seconds=1))

        # Each byte comes well inside the read timeout, the whole answer would take minutes: the
        # scheduler's pass hangs up at the deadline and the release records why it waits.
        assert scheduler.tick(rt).draws == []
        assert trickling.cut.wait(10)
        assert client.get(f"/api/v1/releases/{release['id']}").json()["beacon_status"] == "waiting"
        with engine.connect() as conn:
            error = conn.execute(
                text("SELECT beacon_error FROM release WHERE id = :id"), release
            ).scalar_one()
        # Cut by the last read's timeout, or found past the deadline before the next read: both say why.
        assert "Timeout" in error or "DeadlinePassed" in error
        trickling.cut.clear()
        answer = _draw(world, release["id"])  # the planner's "draw now" too
        assert (answer.status_code, answer.json()["code"]) == (503, "beacon_unavailable")
        assert trickling.cut.wait(10)

    # With an honest relay after it, a pass pays the trickler its deadline once, not once per round.
    clock.set(BEFORE)
    with (
        relays((recorded, False), trickle=True) as (trickling,),
        relays((recorded, False)) as (honest,),
        beacon_app(engine, database_url, clock, [trickling.url, honest.url], beacon_timeout_seconds=3) as (
            client,
            rt,
        ),
    ):
        world = BeaconWorld(client, rt)
        world.applicant()
        world.release()  # the recorded round
        world.release(draw_in=ROUND_AT + timedelta(seconds=1) - world.now)  # the next round
        clock.set(ROUND_AT + timedelta(seconds=4))
        assert len(scheduler.tick(rt).draws) == 1
        assert len(trickling.asked) == 1 and len(honest.asked) == 2


def test_entries_are_frozen_from_draw_at_until_the_draw_completes(world: BeaconWorld) -> None:
    early = world.applicant()
    frozen = world.applicant()
    v1 = world.applicant(service=world.v1_service)
    release = world.release(slots=1)
    world.release(service=world.v1_service)

    cancel = world.client.post(f"/api/v1/requests/{early['id']}/cancel", headers=auth(early["access_code"]))
    assert cancel.status_code == 200  # before draw_at: free to withdraw

    _at(world, ROUND_AT - timedelta(seconds=1))
    refused = world.client.post(
        f"/api/v1/requests/{frozen['id']}/cancel", headers=auth(frozen["access_code"])
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "draw_pending")
    status = world.client.get(f"/api/v1/requests/{frozen['id']}", headers=auth(frozen["access_code"]))
    assert status.json()["status"] == "pending"
    # A v1 release (beacon "none") keeps v1 behaviour: no freeze.
    free = world.client.post(f"/api/v1/requests/{v1['id']}/cancel", headers=auth(v1["access_code"]))
    assert free.status_code == 200

    _at(world, ROUND_AT + timedelta(seconds=1))
    assert len(scheduler.tick(world.runtime).draws) == 2
    after = world.client.post(f"/api/v1/requests/{frozen['id']}/cancel", headers=auth(frozen["access_code"]))
    assert after.status_code == 200
    draw_id = world.client.get(f"/api/v1/releases/{release['id']}").json()["draw_id"]
    record = world.client.get(f"/api/v1/draws/{draw_id}").json()
    assert [e["entry"] for e in record["entries"]] == [frozen["entry"]]


def test_a_service_that_opts_out_draws_v1_and_says_the_seed_holder_could_know(world: BeaconWorld) -> None:
    world.applicant(service=world.v1_service)
    release = world.release(service=world.v1_service)
    assert release["beacon_source"] is None
    assert release["beacon_trust"] == "none"
    assert "could know the draw in advance" in release["beacon_note"]
    _at(world, ROUND_AT - timedelta(seconds=1))
    answer = _draw(world, release["id"], beacon="free text stays allowed in v1")
    assert answer.status_code == 200, answer.text
    record = world.client.get(f"/api/v1/draws/{answer.json()['draw_id']}").json()
    assert record["spec"] == "fairslot-draw-v1"
    assert draw_record.verify_record(record) == []
    assert draw_record.record_trust(record) == "none"


def _drawn_record(world: BeaconWorld) -> dict[str, Any]:
    for _ in range(4):
        world.applicant()
    release = world.release(slots=2)
    _at(world, ROUND_AT + timedelta(seconds=1))
    (draw_id,) = scheduler.tick(world.runtime).draws
    record: dict[str, Any] = world.client.get(f"/api/v1/draws/{draw_id}").json()
    assert release["id"] == record["release_id"]
    return record


def test_tampered_proofs_are_refused_by_verification(world: BeaconWorld) -> None:
    record = _drawn_record(world)
    signature = bytearray(bytes.fromhex(record["beacon_proof"]["signature"]))
    signature[-1] ^= 1
    cases = {
        "forged signature": {"beacon_proof": {**record["beacon_proof"], "signature": signature.hex()}},
        "another beacon": {"beacon": "0" * 64},
        "another round": {
            "beacon_source": {**record["beacon_source"], "round": QUICKNET_ROUND + 1},
            "beacon_proof": {**record["beacon_proof"], "round": QUICKNET_ROUND + 1},
        },
        "another chain": {
            "beacon_proof": {**record["beacon_proof"], "chain_hash": beacon.MAINNET.chain_hash}
        },
        "draw_at moved after the round": {"draw_at": (ROUND_AT + timedelta(seconds=5)).isoformat()},
        "no proof": {"beacon_proof": None},
    }
    for name, change in cases.items():
        differences = draw_record.verify_record({**record, **change})
        assert differences, name
        assert draw_record.record_trust({**record, **change}) == "none", name
    without = {k: v for k, v in record.items() if k != "beacon_proof"}
    assert "missing field 'beacon_proof'" in draw_record.verify_record(without)


def _verify_draw_cli(path: Path, *args: str) -> Any:
    from typer.testing import CliRunner

    from app.cli import app

    return CliRunner().invoke(app, ["verify-draw", str(path), *args])


def test_verify_draw_checks_a_v2_record_and_prints_its_trust(world: BeaconWorld, tmp_path: Path) -> None:
    record = _drawn_record(world)
    good = tmp_path / "good.json"
    good.write_text(json.dumps(record))
    result = _verify_draw_cli(good, "--require-public-beacon")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK fairslot-draw-v2")
    assert "beacon trust: public chain" in result.output

    record["beacon_proof"]["signature"] = ROUNDS["quicknet"]["signature"][:-2] + "00"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(record))
    refused = _verify_draw_cli(bad)
    assert refused.exit_code == 1
    assert "signature does not verify" in refused.output


def test_the_public_draw_page_shows_the_check_and_the_trust(world: BeaconWorld) -> None:
    record = _drawn_record(world)
    page = world.client.get(f"/draws/{_draw_id(world, record)}?lang=en")
    assert page.status_code == 200
    assert "fairslot-draw-v2" in page.text
    assert f"{QUICKNET_ROUND}" in page.text
    assert "Public chain: nobody" in page.text
    assert 'class="beacon-check beacon-check--ok"' in page.text


def _draw_id(world: BeaconWorld, record: dict[str, Any]) -> int:
    shown = world.client.get(f"/api/v1/releases/{record['release_id']}").json()
    return int(shown["draw_id"])


def test_the_staff_page_says_a_release_waits_for_the_public_round(world: BeaconWorld) -> None:
    release = world.release()
    _at(world, ROUND_AT - timedelta(seconds=1))
    sign_in(world.client, world.planner)
    page = world.client.get("/staff?lang=en")
    assert page.status_code == 200
    assert "Waiting for the public round" in page.text
    assert str(release["beacon_source"]["round"]) in page.text


def test_a_local_chain_draws_offline_and_is_labelled_as_no_guarantee(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    clock = FrozenClock(start)
    key_file = tmp_path / "beacon-key"
    with beacon_app(engine, database_url, clock, [], beacon_chain="local", beacon_key_file=key_file) as (
        client,
        rt,
    ):
        assert key_file.stat().st_mode & 0o777 == 0o600
        setup = rounds.setup_for(rt.settings)
        assert setup.chain is not None and setup.chain.trust == "local"
        world = BeaconWorld(client, rt)
        world.applicant()
        release = create_release(
            client,
            world.planner,
            office=world.office,
            service=world.service,
            now=start,
            draw_in=timedelta(minutes=1),
        )
        assert release["beacon_trust"] == "local"
        assert "no guarantee against whoever runs the host" in release["beacon_note"]
        chain_hash = release["beacon_source"]["chain_hash"]
        assert client.get(f"/beacon/{chain_hash}/info").json()["schemeID"] == "pedersen-bls-unchained"
        round_number = release["beacon_source"]["round"]
        assert client.get(f"/beacon/{chain_hash}/public/{round_number}").status_code == 404  # not yet

        clock.set(start + timedelta(minutes=2))
        served = client.get(f"/beacon/{chain_hash}/public/{round_number}").json()
        latest = client.get(f"/beacon/{chain_hash}/public/latest").json()
        assert latest["round"] > round_number
        assert client.get(f"/beacon/{'0' * 64}/info").status_code == 404  # it relays its own chain only
        (draw_id,) = scheduler.tick(rt).draws
        record = client.get(f"/api/v1/draws/{draw_id}").json()
        assert record["beacon"] == served["randomness"]
        assert draw_record.verify_record(record) == []
        assert draw_record.record_trust(record) == "local"
        path = tmp_path / "local.json"
        path.write_text(json.dumps(record))
        assert _verify_draw_cli(path).exit_code == 0
        strict = _verify_draw_cli(path, "--require-public-beacon")
        assert strict.exit_code == 1
        assert "local chain" in strict.output
        info = tmp_path / "chain.json"
        info.write_text(json.dumps(client.get(f"/beacon/{chain_hash}/info").json()))
        assert _verify_draw_cli(path, "--require-public-beacon", "--trust-chain", str(info)).exit_code == 0


def test_the_staff_draw_button_waits_for_the_round_with_a_clear_page_then_draws(world: BeaconWorld) -> None:
    world.applicant()
    release = world.release()
    token = sign_in(world.client, world.planner)
    _at(world, ROUND_AT - timedelta(seconds=1))
    page = world.client.get("/staff?lang=en")
    assert f'id="beacon-{release["id"]}"' not in page.text  # no free-text beacon field for a v2 release
    waiting = world.client.post(f"/staff/releases/{release['id']}/draw?lang=en", data={"csrf_token": token})
    assert waiting.status_code == 409
    assert "waits for its public randomness round" in waiting.text
    _at(world, ROUND_AT + timedelta(seconds=1))
    drawn = world.client.post(f"/staff/releases/{release['id']}/draw?lang=en", data={"csrf_token": token})
    assert drawn.status_code == 200, drawn.text
    assert world.client.get(f"/api/v1/releases/{release['id']}").json()["status"] == "drawn"


def test_a_v1_draw_page_says_the_seed_holder_could_know_the_draw(world: BeaconWorld) -> None:
    world.applicant(service=world.v1_service)
    release = world.release(service=world.v1_service)
    _at(world, ROUND_AT)
    answer = _draw(world, release["id"])
    page = world.client.get(f"/draws/{answer.json()['draw_id']}?lang=fr")
    shown = html.unescape(page.text)
    assert "Pas d'aléa public : qui détient la graine pourrait connaître le tirage à l'avance." in shown
    assert "beacon-check" not in page.text


def test_a_draw_page_shows_a_failed_proof_when_the_stored_record_was_tampered_with(
    world: BeaconWorld,
) -> None:
    record = _drawn_record(world)
    draw_id = _draw_id(world, record)
    with session_scope(world.runtime.engine) as session:
        draw = session.get(Draw, draw_id)
        assert draw is not None
        draw.header = {**draw.header, "beacon": "0" * 64}
        session.add(draw)
    page = world.client.get(f"/draws/{draw_id}?lang=en")
    assert 'class="beacon-check beacon-check--failed"' in page.text
    assert "No public beacon" in page.text


def test_withdrawing_on_the_status_page_during_the_freeze_says_to_retry_shortly(world: BeaconWorld) -> None:
    applicant = world.applicant()
    world.release()
    _at(world, ROUND_AT - timedelta(seconds=1))
    token = token_for(world.client, "/status")
    creds = {
        "csrf_token": token,
        "request_id": applicant["id"],
        "access_code": applicant["access_code"],
        "confirm": "yes",
    }
    refused = world.client.post("/status/cancel?lang=en", data=creds)
    assert refused.status_code == 409
    assert "A draw of this request is under way. Try again in a few minutes." in refused.text


def test_a_draw_at_written_in_the_offices_local_time_fixes_the_same_round(world: BeaconWorld) -> None:
    draw_at = (ROUND_AT - timedelta(seconds=2)).astimezone(ZoneInfo("Europe/Paris"))
    assert draw_at.isoformat().endswith("+02:00")  # summer time in September
    first = (world.now + timedelta(days=2)).isoformat()
    body = {
        "office": world.office,
        "service": world.service,
        "draw_at": draw_at.isoformat(),
        "slots": [{"starts_at": first}],
    }
    created = world.client.post("/api/v1/releases", json=body, headers=auth(world.planner))
    assert created.status_code == 201, created.text
    assert created.json()["beacon_source"]["round"] == QUICKNET_ROUND
    body["draw_at"] = (
        (ROUND_AT + timedelta(microseconds=1)).astimezone(ZoneInfo("America/Cayenne")).isoformat()
    )
    later = world.client.post("/api/v1/releases", json=body, headers=auth(world.planner))
    assert later.json()["beacon_source"]["round"] == QUICKNET_ROUND + 1


def test_releases_drawn_at_one_time_ask_the_relays_once_for_their_shared_round(
    world: BeaconWorld, good_relay: Relay
) -> None:
    first, second = world.release(), world.release()
    assert first["beacon_source"] == second["beacon_source"]
    _at(world, ROUND_AT + timedelta(seconds=1))
    report = scheduler.tick(world.runtime)
    assert sorted(report.rounds) == sorted([first["id"], second["id"]])
    assert len(report.draws) == 2
    assert len(good_relay.asked) == 1


def test_declining_an_offer_while_a_v2_draw_is_due_waits_since_it_would_add_an_entry(
    world: BeaconWorld,
) -> None:
    applicant = world.applicant()
    first = world.release(slots=1)
    second = world.release(slots=1, draw_in=ROUND_AT - timedelta(seconds=1) - world.now)
    assert first["beacon_source"] == second["beacon_source"]
    _at(world, ROUND_AT + timedelta(seconds=1))
    assert _draw(world, first["id"]).json()["offered"] == 1
    headers = auth(applicant["access_code"])

    refused = world.client.post(f"/api/v1/requests/{applicant['id']}/decline", headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (409, "draw_pending")
    assert (
        world.client.get(f"/api/v1/requests/{applicant['id']}", headers=headers).json()["status"] == "offered"
    )

    assert len(scheduler.tick(world.runtime).draws) == 1
    declined = world.client.post(f"/api/v1/requests/{applicant['id']}/decline", headers=headers)
    assert declined.status_code == 200, declined.text


def test_giving_a_booking_back_while_a_v2_draw_is_due_waits_since_it_would_add_an_entry(
    world: BeaconWorld,
) -> None:
    applicant = world.applicant()
    first = world.release(slots=1)
    world.release(slots=1, draw_in=ROUND_AT - timedelta(seconds=1) - world.now)
    _at(world, ROUND_AT + timedelta(seconds=1))
    assert _draw(world, first["id"]).json()["offered"] == 1
    headers = auth(applicant["access_code"])
    assert world.client.post(f"/api/v1/requests/{applicant['id']}/accept", headers=headers).status_code == 200

    refused = world.client.post(f"/api/v1/requests/{applicant['id']}/booking/give-back", headers=headers)

    assert (refused.status_code, refused.json()["code"]) == (409, "draw_pending")
    view = world.client.get(f"/api/v1/requests/{applicant['id']}", headers=headers).json()
    assert (view["status"], view["booking"]["status"]) == ("booked", "booked")


def test_a_mainnet_release_draws_with_the_chained_round_and_its_previous_signature(
    engine: Engine, database_url: str, good_relay: Relay
) -> None:
    mainnet_at = beacon.MAINNET.round_time(ROUNDS["mainnet"]["round"])
    clock = FrozenClock(mainnet_at - timedelta(minutes=1))
    with beacon_app(engine, database_url, clock, [good_relay.url], beacon_chain="mainnet") as (client, rt):
        world = BeaconWorld(client, rt)
        world.applicant()
        release = world.release(draw_in=timedelta(seconds=40))  # 20 s before the round
        assert release["beacon_source"] == {
            "scheme": "drand",
            "chain_hash": beacon.MAINNET.chain_hash,
            "round": ROUNDS["mainnet"]["round"],
        }
        clock.set(mainnet_at + timedelta(seconds=1))
        (draw_id,) = scheduler.tick(rt).draws
        record = client.get(f"/api/v1/draws/{draw_id}").json()
        assert record["beacon"] == ROUNDS["mainnet"]["randomness"]
        assert record["beacon_proof"]["scheme"] == "pedersen-bls-chained"
        assert record["beacon_proof"]["previous_signature"] == ROUNDS["mainnet"]["previous_signature"]
        assert draw_record.verify_record(record) == []
        assert draw_record.record_trust(record) == "public"


def test_no_transaction_is_held_while_the_relays_are_asked(engine: Engine, database_url: str) -> None:
    clock = FrozenClock(BEFORE)
    with (
        relays((recorded, True)) as (relay,),
        beacon_app(engine, database_url, clock, [relay.url], beacon_timeout_seconds=30) as (client, rt),
    ):
        world = BeaconWorld(client, rt)
        release = world.release()
        clock.set(ROUND_AT + timedelta(seconds=1))
        answers: dict[str, Any] = {}
        pressing = threading.Thread(target=lambda: answers.setdefault("draw", _draw(world, release["id"])))
        pressing.start()
        try:
            while not relay.asked:  # the draw is now waiting on the relay
                time.sleep(0.01)
            # On SQLite a held transaction is the one write lock: this intake would wait behind it, then fail.
            submitted = world.applicant()
            assert pressing.is_alive() and not relay.released.is_set()
        finally:
            relay.released.set()  # the relay hangs up without an answer
            pressing.join()
        assert submitted["status"] == "pending"
        assert (answers["draw"].status_code, answers["draw"].json()["code"]) == (503, "beacon_unavailable")
