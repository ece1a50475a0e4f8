"""The pages of messages and confirmation: delivery status on /status, the confirm button, the outbox
block of the staff page, the office address on the admin form."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import Office
from tests.api.bookings.test_confirm_window import _booked, _view
from tests.factories import World
from tests.web.helpers import apply, sign_in, token_for


def test_the_status_page_lists_each_message_with_its_delivery_status(client, runtime):
    world = World(client, runtime)
    request_id, code, token = apply(client, world.service, world.office, phone="06 12 34 56 78")
    page = client.post(
        "/status?lang=en", data={"csrf_token": token, "request_id": request_id, "access_code": code}
    ).text
    assert 'id="messages"' in page
    assert page.count("Request received") == 2
    assert "E-mail" in page and "SMS" in page
    assert "Waiting to be sent" in page


def test_the_confirm_button_shows_inside_the_window_and_confirms(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10)
    booking = _view(world, applicant)["booking"]
    token = token_for(client)
    creds = {"csrf_token": token, "request_id": applicant["id"], "access_code": applicant["access_code"]}

    early = client.post("/status?lang=en", data=creds).text
    assert 'id="booking-confirm"' in early
    assert 'action="/status/confirm"' not in early
    refused = client.post("/status/confirm?lang=en", data=creds)
    assert refused.status_code == 409
    assert "cannot be confirmed now" in refused.text

    clock.set(datetime.fromisoformat(booking["confirm_from"]))
    inside = client.post("/status?lang=en", data=creds).text
    assert 'action="/status/confirm"' in inside
    confirmed = client.post("/status/confirm?lang=en", data=creds)
    assert confirmed.status_code == 200, confirmed.text
    assert "Your appointment is confirmed." in confirmed.text
    assert 'id="booking-confirmed"' in confirmed.text
    assert 'action="/status/confirm"' not in confirmed.text
    assert _view(world, applicant)["booking"]["confirmed_at"] is not None


def test_the_confirm_form_refuses_a_post_without_the_csrf_token(client, runtime, clock):
    world = World(client, runtime)
    applicant = _booked(world, clock, days_ahead=10)
    answer = client.post(
        "/status/confirm", data={"request_id": applicant["id"], "access_code": applicant["access_code"]}
    )
    assert answer.status_code == 403
    assert _view(world, applicant)["booking"]["confirmed_at"] is None


def test_the_staff_page_shows_the_outbox_to_admins_and_not_to_planners(client, runtime):
    world = World(client, runtime)
    apply(client, world.service, world.office, phone="06 12 34 56 78")
    sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    assert 'id="outbox"' in page
    assert "Messages to applicants" in page
    client.cookies.clear()
    sign_in(client, world.planner)
    assert 'id="outbox"' not in client.get("/staff?lang=en").text


def test_an_admin_adds_an_office_with_or_without_an_address(client, runtime):
    world = World(client, runtime)
    token = sign_in(client, world.admin)
    for code, address in (("with-address", "2 place de la Gare, 97600 Mamoudzou"), ("no-address", "  ")):
        answer = client.post(
            "/staff/offices",
            data={
                "csrf_token": token,
                "code": code,
                "name": "Office",
                "timezone": "Indian/Mayotte",
                "address": address,
            },
        )
        assert answer.status_code == 201, answer.text
    with session_scope(runtime.engine) as session:
        found = {o.code: o.address for o in session.exec(select(Office)).all()}
    assert found["with-address"] == "2 place de la Gare, 97600 Mamoudzou"
    assert found["no-address"] is None
