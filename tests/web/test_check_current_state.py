"""The /check page shows an attestation's statement as of its date and, beside it, where the request stands
now: a booking cancelled since reads as cancelled."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from tests.api.bookings.test_confirm_window import _booked
from tests.api.channels.test_attestation_current_state import _attest
from tests.factories import World, auth


def test_the_check_page_shows_the_statement_and_that_the_booking_was_cancelled_since(client, runtime, clock):
    client.headers["Accept-Language"] = "en"
    world = World(client, runtime)
    booked = _booked(world, clock, days_ahead=2)
    attested = _attest(world, booked)
    code = parse_qs(urlparse(attested["check_url"]).query)["d"][0]
    unchanged = client.get("/check", params={"d": code}).text
    clock.advance(timedelta(days=1))
    world.client.post(f"/api/v1/requests/{booked['id']}/cancel", headers=auth(booked["access_code"]))

    page = client.get("/check", params={"d": code}).text

    assert "Nothing has changed since this attestation was issued." in unchanged
    assert "Since this attestation was issued, the request has changed." in page
    assert 'id="current-status">Cancelled since' in page
    assert 'id="statement-status">Appointment booked' in page  # the statement as of its date, beside
