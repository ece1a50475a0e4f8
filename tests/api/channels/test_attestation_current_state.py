"""An attestation states the request as of its date; its check also tells where the request stands now, so a
cancelled booking no longer reads as "booked" to the third party who checks it."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.api.bookings.test_confirm_window import _booked
from tests.factories import World, auth


def _attest(world: World, request: dict) -> dict:
    got = world.client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    )
    assert got.status_code == 200, got.text
    return got.json()


def _verify(world: World, token: str) -> dict:
    answer = world.client.post("/api/v1/attestations/verify", json={"attestation": token})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_booked_attestation_checked_after_the_cancellation_says_cancelled_since_then(
    client, runtime, clock
):
    world = World(client, runtime)
    booked = _booked(world, clock, days_ahead=2)
    attested = _attest(world, booked)
    assert attested["statement"]["status"] == "booked"
    still = _verify(world, attested["attestation"])
    clock.advance(timedelta(days=1))
    cancelled_at = clock.now()
    cancel = world.client.post(f"/api/v1/requests/{booked['id']}/cancel", headers=auth(booked["access_code"]))
    assert cancel.status_code == 200, cancel.text

    after = _verify(world, attested["attestation"])

    assert still["current"]["status"] == "booked"
    assert datetime.fromisoformat(still["current"]["since"]) <= clock.now()
    assert after["valid"] is True
    assert after["statement"] == attested["statement"]  # the statement stays what it was on its date
    assert after["current"]["status"] == "cancelled"
    assert datetime.fromisoformat(after["current"]["since"]) == cancelled_at


def test_an_invalid_attestation_has_no_current_state(client, runtime):
    world = World(client, runtime)

    answer = _verify(world, "eyJ.not.an-attestation")

    assert answer["valid"] is False
    assert "current" not in answer
