"""No-shows: a booking not checked in by slot end plus grace becomes ``no_show``; the identity's next
requests for that service weigh half for 180 days.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.services import scheduler
from tests.factories import World, auth, request_body

DOCUMENT = "NS 4455 6677"
BIRTH_DATE = "1979-02-14"


def _body(world: World) -> dict:
    return request_body(
        world.service,
        [world.office],
        identity={
            "document_type": "passport",
            "document_number": DOCUMENT,
            "family_name": "Haddad",
            "given_names": "Samir",
            "birth_date": BIRTH_DATE,
        },
    )


def _view(client, applicant) -> dict:
    response = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert response.status_code == 200, response.text
    return response.json()


def _booked(world: World, clock) -> tuple[dict, dict]:
    """The fixed identity's request, drawn and accepted; returns the request and its booking."""
    applicant = world.client.post("/api/v1/requests", json=_body(world)).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    accepted = world.client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    return applicant, accepted.json()["booking"]


def _deadline(runtime, booking: dict) -> datetime:
    return datetime.fromisoformat(booking["ends_at"]) + timedelta(
        minutes=runtime.settings.no_show_grace_minutes
    )


def _no_show_factor(view: dict) -> dict:
    return next(f for f in view["weight"]["factors"] if f["name"] == "no_show")


def test_a_booking_not_checked_in_by_slot_end_plus_grace_becomes_a_no_show(client, runtime, clock):
    world = World(client, runtime)
    applicant, booking = _booked(world, clock)
    clock.set(_deadline(runtime, booking) - timedelta(minutes=1))
    scheduler.tick(runtime)
    assert _view(client, applicant)["status"] == "booked"

    clock.set(_deadline(runtime, booking))
    scheduler.tick(runtime)

    view = _view(client, applicant)
    assert view["status"] == "no_show"
    assert view["booking"]["status"] == "no_show"
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM no_show")).scalar() == 1
        assert conn.execute(text("SELECT status FROM booking")).scalar() == "no_show"


def test_attended_and_cancelled_bookings_never_become_no_shows(client, runtime, clock):
    world = World(client, runtime)
    applicant, booking = _booked(world, clock)
    checked = client.post(
        "/api/v1/check-ins",
        json={"token": booking["token"], "document_number": DOCUMENT, "birth_date": BIRTH_DATE},
        headers=auth(world.desk),
    )
    assert checked.status_code == 200, checked.text
    clock.set(_deadline(runtime, booking) + timedelta(days=1))
    scheduler.tick(runtime)
    assert _view(client, applicant)["status"] == "attended"

    other = world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    headers = auth(other["access_code"])
    late = client.post(f"/api/v1/requests/{other['id']}/accept", headers=headers).json()["booking"]
    assert client.post(f"/api/v1/requests/{other['id']}/cancel", headers=headers).status_code == 200
    clock.set(_deadline(runtime, late) + timedelta(days=1))
    scheduler.tick(runtime)
    assert _view(client, other)["status"] == "cancelled"
    with runtime.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM no_show")).scalar() == 0


def test_the_identitys_next_request_shows_a_halved_no_show_factor_that_is_gone_after_181_days(
    client, runtime, clock
):
    world = World(client, runtime)
    _applicant, booking = _booked(world, clock)
    clock.set(_deadline(runtime, booking))
    scheduler.tick(runtime)
    missed_on = datetime.fromisoformat(booking["starts_at"]).date()

    again = client.post("/api/v1/requests", json=_body(world))

    assert again.status_code == 201, again.text
    factor = next(f for f in again.json()["weight"]["factors"] if f["name"] == "no_show")
    assert Decimal(factor["value"]) == Decimal("0.5")
    assert missed_on.isoformat() in factor["reason"]
    assert Decimal(again.json()["weight"]["total"]) == Decimal("0.5")

    moment = datetime.fromisoformat(booking["starts_at"])
    clock.set(moment + timedelta(days=180))
    assert Decimal(_no_show_factor(_view(client, again.json()))["value"]) == Decimal("0.5")
    clock.set(moment + timedelta(days=181))
    view = _view(client, again.json())
    assert Decimal(_no_show_factor(view)["value"]) == 1
    assert Decimal(view["weight"]["total"]) == 1


def test_a_draw_weighs_the_no_show_identity_at_half(client, runtime, clock):
    world = World(client, runtime)
    _applicant, booking = _booked(world, clock)
    clock.set(_deadline(runtime, booking))
    scheduler.tick(runtime)
    again = client.post("/api/v1/requests", json=_body(world)).json()
    other = world.applicant()
    release = world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)

    draw_id = client.get(f"/api/v1/releases/{release['id']}").json()["draw_id"]
    weights = {e["entry"]: e["weight"] for e in client.get(f"/api/v1/draws/{draw_id}").json()["entries"]}
    assert weights == {again["entry"]: "0.5000", other["entry"]: "1.0000"}


def test_a_no_show_for_one_service_does_not_lower_the_weight_for_another(client, runtime, clock):
    world = World(client, runtime)
    _applicant, booking = _booked(world, clock)
    clock.set(_deadline(runtime, booking))
    scheduler.tick(runtime)
    other_service = client.post(
        "/api/v1/services",
        json={
            "code": "naturalisation",
            "name": "Naturalisation",
            "slot_minutes": 45,
            "weight_policy": {"entry_verification": "none"},
        },
        headers=auth(world.admin),
    ).json()["code"]
    body = {**_body(world), "service": other_service}
    response = client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    assert Decimal(response.json()["weight"]["total"]) == 1


def test_a_scheduler_tick_marks_a_no_show(client, runtime, clock):
    world = World(client, runtime)
    applicant, booking = _booked(world, clock)
    clock.set(_deadline(runtime, booking))
    report = scheduler.tick(runtime)
    assert report.no_shows == [booking["id"]]
    assert _view(client, applicant)["status"] == "no_show"


def test_a_booking_cannot_be_cancelled_after_its_slot_has_ended_to_escape_the_no_show(client, runtime, clock):
    world = World(client, runtime)
    applicant, booking = _booked(world, clock)
    clock.set(datetime.fromisoformat(booking["ends_at"]) + timedelta(minutes=5))

    late = client.post(f"/api/v1/requests/{applicant['id']}/cancel", headers=auth(applicant["access_code"]))

    assert late.status_code == 409
    assert late.json()["code"] == "not_cancellable"
    clock.set(_deadline(runtime, booking))
    scheduler.tick(runtime)
    assert _view(client, applicant)["status"] == "no_show"
