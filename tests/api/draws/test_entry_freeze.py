"""Entries frozen at ``draw_at``: every act that would change a due v2 draw's entries or weights waits.

Between a release's ``draw_at`` and its draw (which may wait for its public round while relays are down),
whoever can read the seed and the round knows every entry's rank. So a verifier's verdict, the registry
import, a verification by phone or through the registry, a sanction at the desk and a recovery for a
squatted identity each answer ``409 draw_pending`` (the import leaves the rows for its next run and exits 1),
and the draw's entries are the ones frozen at ``draw_at``. Withdrawals and declined offers have their tests
in ``test_beacon_draws``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from app.clock import FrozenClock
from app.services import scheduler
from tests.api.draws.test_beacon_draws import BEFORE, ROUND_AT, BeaconWorld, beacon_app
from tests.assertions import assert_problem
from tests.beacon_relay import recorded, relays
from tests.cli.test_cli import _fairslot
from tests.factories import auth, create_key, create_office, create_service, request_body, submit_request
from tests.verified import ask_code, sealed_code, type_code

SOON = (BEFORE + timedelta(days=20)).date().isoformat()


@pytest.fixture
def world(engine: Engine, database_url: str) -> Iterator[BeaconWorld]:
    clock = FrozenClock(BEFORE)
    with (
        relays((recorded, False)) as (relay,),
        beacon_app(engine, database_url, clock, [relay.url]) as (client, rt),
    ):
        yield BeaconWorld(client, rt)


def _freeze(world: BeaconWorld) -> None:
    """Past the releases' draw_at, before their round is out: their entries are frozen."""
    assert isinstance(world.runtime.clock, FrozenClock)
    world.runtime.clock.set(ROUND_AT - timedelta(seconds=1))


def _draw(world: BeaconWorld) -> list[int]:
    """The round is out: the scheduler draws."""
    assert isinstance(world.runtime.clock, FrozenClock)
    world.runtime.clock.set(ROUND_AT + timedelta(seconds=1))
    return scheduler.tick(world.runtime).draws


def _entries(world: BeaconWorld, draw_id: int) -> list[str]:
    return [e["entry"] for e in world.client.get(f"/api/v1/draws/{draw_id}").json()["entries"]]


def _status(world: BeaconWorld, request: dict[str, Any]) -> dict[str, Any]:
    return world.client.get(f"/api/v1/requests/{request['id']}", headers=auth(request["access_code"])).json()


def _claim_statuses(world: BeaconWorld) -> list[str]:
    with world.runtime.engine.connect() as conn:
        return [row[0] for row in conn.execute(text("SELECT status FROM claim ORDER BY id"))]


def test_a_verifiers_verdict_waits_until_the_draw_that_holds_the_request_is_done(world: BeaconWorld) -> None:
    elsewhere = create_office(world.client, world.admin)["code"]
    verifier = create_key(world.runtime, "verifier", [world.office, elsewhere])
    held = world.applicant(permit_expires_on=SOON)
    other = submit_request(world.client, world.service, [elsewhere], permit_expires_on=SOON)  # no due draw
    world.release(slots=1)
    verdict = {"claim": "permit_expiry", "verdict": "confirmed"}
    _freeze(world)

    refused = world.client.post(f"/api/v1/requests/{held['id']}/claims", json=verdict, headers=auth(verifier))
    judged = world.client.post(f"/api/v1/requests/{other['id']}/claims", json=verdict, headers=auth(verifier))

    assert_problem(refused, 409, "draw_pending")
    assert judged.status_code == 200, judged.text
    assert _claim_statuses(world) == ["declared", "confirmed"]
    (draw_id,) = _draw(world)
    assert _entries(world, draw_id) == [held["entry"]]
    assert _status(world, held)["status"] == "offered"  # the one entry of a one-slot draw


def test_a_verdict_after_the_draw_is_given_again(world: BeaconWorld) -> None:
    verifier = create_key(world.runtime, "verifier", [world.office])
    applicants = [world.applicant(permit_expires_on=SOON) for _ in range(2)]
    world.release(slots=1)
    _freeze(world)
    verdict = {"claim": "permit_expiry", "verdict": "refuted"}
    for applicant in applicants:
        answer = world.client.post(
            f"/api/v1/requests/{applicant['id']}/claims", json=verdict, headers=auth(verifier)
        )
        assert_problem(answer, 409, "draw_pending")

    _draw(world)
    (waiting,) = [a for a in applicants if _status(world, a)["status"] == "pending"]
    again = world.client.post(
        f"/api/v1/requests/{waiting['id']}/claims", json=verdict, headers=auth(verifier)
    )
    assert again.status_code == 200, again.text


def test_a_phone_verification_waits_since_the_verified_request_would_join_the_due_draw(
    world: BeaconWorld,
) -> None:
    world.service = create_service(
        world.client, world.admin, weight_policy={"beacon": "drand", "entry_verification": "phone"}
    )["code"]
    verified = world.applicant(contact={"phone": "+33612345601"})
    texting = world.applicant(contact={"phone": "+33612345602"})
    for applicant in (verified, texting):
        assert ask_code(world, applicant).status_code == 202
    assert type_code(world, verified, sealed_code(world.runtime, verified["id"])).status_code == 200
    world.release(slots=2)
    _freeze(world)

    refused = type_code(world, texting, sealed_code(world.runtime, texting["id"]))

    assert_problem(refused, 409, "draw_pending")
    assert _status(world, texting)["verification"]["status"] == "unverified"
    (draw_id,) = _draw(world)
    assert _entries(world, draw_id) == [verified["entry"]]
    assert ask_code(world, texting).status_code == 202  # the first code was sent, and forgotten
    assert type_code(world, texting, sealed_code(world.runtime, texting["id"])).status_code == 200


def test_a_request_a_counter_files_during_the_freeze_is_verified_and_enters_no_due_draw(
    world: BeaconWorld,
) -> None:
    first = world.applicant()
    world.release(slots=2)
    agent = create_key(world.runtime, "agent", [world.office])
    _freeze(world)

    filed = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(agent)
    )

    assert filed.status_code == 201, filed.text
    assert filed.json()["verification"]["status"] == "verified"
    (draw_id,) = _draw(world)
    assert _entries(world, draw_id) == [first["entry"]]


def test_a_squatted_identitys_recovery_waits_and_a_new_code_does_not(world: BeaconWorld) -> None:
    n = 8801
    applicant = world.applicant(n=n)
    world.release()
    agent = create_key(world.runtime, "agent", [world.office])
    document = {"service": world.service, "document_number": f"P{n:08d}", "birth_date": "1990-04-12"}
    _freeze(world)

    squatted = world.client.post(
        "/api/v1/identity-recoveries", json={**document, "reason": "squatted"}, headers=auth(agent)
    )
    renewed = world.client.post(
        "/api/v1/identity-recoveries", json={**document, "reason": "lost_code"}, headers=auth(agent)
    )

    assert_problem(squatted, 409, "draw_pending")
    assert renewed.status_code == 200, renewed.text  # a new code changes no entry
    (draw_id,) = _draw(world)
    assert _entries(world, draw_id) == [applicant["entry"]]


def test_a_refusal_at_the_desk_waits_while_it_would_exclude_a_homonym_from_a_due_draw(
    world: BeaconWorld,
) -> None:
    booked = world.applicant(n=8811, vulnerabilities=["disability"])
    world.release(slots=1)
    assert len(_draw(world)) == 1
    accepted = world.client.post(
        f"/api/v1/requests/{booked['id']}/accept", headers=auth(booked["access_code"])
    )
    token = accepted.json()["booking"]["token"]
    # An agent who saw both documents files the homonym: same names and birth date, same person key.
    agent = create_key(world.runtime, "agent", [world.office])
    homonym = request_body(world.service, [world.office], n=8811, distinct_person=True)
    homonym["identity"]["document_number"] = "H00008811"
    filed = world.client.post("/api/v1/requests", json=homonym, headers=auth(agent))
    assert filed.status_code == 201, filed.text
    # A second release waits for a round the relay does not have: its entries stay frozen.
    waiting = world.release(draw_in=timedelta(seconds=30))
    assert isinstance(world.runtime.clock, FrozenClock)
    world.runtime.clock.set(ROUND_AT + timedelta(seconds=40))
    assert scheduler.tick(world.runtime).draws == []
    check_in = {
        "token": token,
        "document_number": "P00008811",
        "birth_date": "1990-04-12",
        "claims": {"vulnerability": "refuted"},
    }

    refused = world.client.post("/api/v1/check-ins", json=check_in, headers=auth(world.desk))

    assert_problem(refused, 409, "draw_pending")
    assert _status(world, booked)["status"] == "booked"
    with world.runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM claim_sanction")).scalar_one() == 0
    assert world.client.get(f"/api/v1/releases/{waiting['id']}").json()["status"] == "scheduled"


def test_the_registry_import_leaves_rows_a_due_draw_holds_names_their_lines_and_exits_1(
    world: BeaconWorld, database_url: str, tmp_path: Any
) -> None:
    phone_service = create_service(
        world.client, world.admin, weight_policy={"beacon": "drand", "entry_verification": "phone"}
    )["code"]

    def file(n: int, service: str, **overrides: Any) -> dict[str, Any]:
        body = request_body(service, [world.office], n=n, permit_expires_on=SOON, **overrides)
        created = world.client.post("/api/v1/requests", json=body)
        assert created.status_code == 201, created.text
        return created.json()

    held = file(8821, world.service)  # its claim's verdict would change a frozen weight
    unverified = file(8822, phone_service, contact={"phone": "+33612345622"})  # would join once verified
    free = file(8823, world.v1_service)  # a v1 service: no freeze
    world.release(slots=1)
    world.release(service=phone_service, slots=1)
    export = tmp_path / "registry.csv"
    export.write_text(
        "document_number,birth_date,permit_expires_on\n"
        f"P00008821,1990-04-12,{SOON}\n"
        f"P00008822,1990-04-12,{SOON}\n"
        f"P00008823,1990-04-12,{SOON}\n",
        encoding="utf-8",
    )
    # The command runs on the real clock, long after these releases' draw_at (their round is from 2023).

    done = _fairslot(database_url, "claims", "import", str(export), "--office", world.office, cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert "held for a draw under way: 2" in lines, done.stdout
    assert any(line.startswith("line 2 was left unchanged: release ") for line in lines), done.stdout
    assert any(line.startswith("line 3 was left unchanged: release ") for line in lines), done.stdout
    assert "confirmed: 2" in lines and "verified by the registry: 0" in lines
    assert _status(world, free)["claims"][0]["status"] == "confirmed"
    assert _status(world, held)["claims"][0]["status"] == "declared"
    # An unverified request is no entry: its claim is judged, its verification waits.
    assert _status(world, unverified)["claims"][0]["status"] == "confirmed"
    assert _status(world, unverified)["verification"]["status"] == "unverified"
