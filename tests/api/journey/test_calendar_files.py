"""The booking's calendar file: from the API, and attached to the booking e-mails a real SMTP server receives."""

from __future__ import annotations

from icalendar import Calendar

from tests.api.journey.world import ADDRESS, JourneyWorld
from tests.factories import auth
from tests.services.messages.test_outbox import _send, _smtp_runtime, smtp  # noqa: F401 (the fixture)


def _ics(client, person, code: str | None = None):
    return client.get(
        f"/api/v1/requests/{person['id']}/booking.ics", headers=auth(code or person["access_code"])
    )


def _event(text: str):
    (event,) = Calendar.from_ical(text).walk("VEVENT")
    return event


def test_the_calendar_file_follows_the_booking_and_is_cancelled_when_it_ends(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    owner, other = world.drawn(clock, applicants=2, slots=2)
    assert _ics(client, owner).status_code == 404  # an offer is not a booking yet
    assert world.act(owner, "accept").status_code == 200

    booked = _ics(client, owner)
    assert booked.status_code == 200
    assert booked.headers["content-type"].startswith("text/calendar")
    event = _event(booked.text)
    booking = world.view(owner)["booking"]
    assert str(event["UID"]) == f"{booking['id']}@fairslot"
    assert (int(event["SEQUENCE"]), str(event["STATUS"])) == (0, "CONFIRMED")
    assert event["DTSTART"].dt.isoformat() == booking["starts_at"]
    assert event["DTSTART"].params["TZID"] == "Europe/Paris"
    assert ADDRESS in str(event["LOCATION"])
    assert _ics(client, owner, code=other["access_code"]).status_code == 404
    assert _ics(client, owner, code="wrong-code").status_code == 404

    assert world.act(owner, "cancel").status_code == 200
    ended = _event(_ics(client, owner).text)
    assert str(ended["UID"]) == str(event["UID"])
    assert (int(ended["SEQUENCE"]), str(ended["STATUS"])) == (1, "CANCELLED")


def test_the_booking_and_cancellation_e_mails_carry_the_calendar_file(
    client,
    runtime,
    clock,
    smtp,  # noqa: F811
    database_url,
):
    controller, inbox = smtp
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, language="es", contact={"email": "ana@example.org"})
    assert world.act(person, "accept").status_code == 200
    assert world.act(person, "cancel").status_code == 200

    _send(_smtp_runtime(runtime, database_url, controller.port))

    calendars = []
    for message in inbox.messages:
        for part in message.iter_attachments():
            assert (part.get_content_type(), part.get_filename()) == ("text/calendar", "booking.ics")
            calendars.append(_event(part.get_content()))
            assert ADDRESS in message.get_body(("plain",)).get_content() or "CANCELLED" in part.get_content()
    sequences = sorted((int(e["SEQUENCE"]), str(e["STATUS"])) for e in calendars)
    assert sequences == [(0, "CONFIRMED"), (1, "CANCELLED")]
    assert len({str(e["UID"]) for e in calendars}) == 1
