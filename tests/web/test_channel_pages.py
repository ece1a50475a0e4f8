"""The counter, partner, check and recovery pages, on the same services as the API."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import text

from app.services import scheduler
from tests.api.bookings.test_confirm_window import release_and_draw
from tests.factories import World, auth, create_key, create_office, request_body
from tests.web.helpers import apply_data, csrf_of, sign_in, text_of


@pytest.fixture
def world(client, runtime) -> World:
    client.headers["Accept-Language"] = "en"
    return World(client, runtime)


def _rows(runtime, sql: str, **params) -> list:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text(sql), params))


def test_an_agent_files_at_the_counter_sees_the_code_once_and_prints_the_receipt(client, world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")
    page = client.get("/counter")
    assert page.status_code == 200
    assert 'action="/counter/requests"' in page.text
    filed = client.post(
        "/counter/requests", data={"csrf_token": token, **apply_data(world.service, world.office)}
    )
    assert filed.status_code == 201, filed.text
    code = text_of(filed.text, "filed-access-code")
    request_id = text_of(filed.text, "filed-id")
    api = client.get(f"/api/v1/requests/{request_id}", headers=auth(code))
    assert api.json()["channel"] == "counter"
    receipt = client.get(f"/counter/requests/{request_id}/receipt.pdf")
    assert receipt.headers["content-type"] == "application/pdf"
    assert client.get("/counter").text.count(code) == 0  # shown once


def test_the_counter_refuses_an_office_the_agent_does_not_serve_with_a_clear_error(client, world, runtime):
    other = create_office(client, world.admin)["code"]
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")
    response = client.post(
        "/counter/requests", data={"csrf_token": token, **apply_data(world.service, other)}
    )
    assert response.status_code == 422
    assert "does not serve this office" in response.text
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 0


def test_a_partner_lists_files_and_accepts_for_the_person_on_its_page(client, world, runtime, clock):
    partner = create_key(runtime, "partner", [world.office])
    token = sign_in(client, partner, "partner")
    assert "You have not filed any request yet." in client.get("/partner").text
    filed = client.post(
        "/partner/requests", data={"csrf_token": token, **apply_data(world.service, world.office)}
    )
    assert filed.status_code == 201, filed.text
    entry = text_of(filed.text, "filed-entry")
    listing = client.get("/partner").text
    assert entry in listing
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    token = sign_in(client, partner, "partner")  # an idle hour ended the session
    shown = client.get(f"/partner/requests/{entry}")
    assert "Accept this appointment" in shown.text
    (request_id,) = _rows(runtime, "SELECT id FROM appointment_request WHERE entry = :e", e=entry)[0]
    accepted = client.post(f"/partner/requests/{request_id}/accept", data={"csrf_token": token})
    assert accepted.status_code == 200
    assert text_of(accepted.text, "request-status") == "Appointment booked" or "booked" in accepted.text
    assert 'id="booking-qr"' in accepted.text
    (actor,) = _rows(runtime, "SELECT actor FROM audit_event WHERE action = 'offer.accepted'")[0]
    assert actor.startswith("staff:")


def test_a_partner_downloads_the_calendar_file_of_the_persons_appointment(client, world, runtime, clock):
    partner = create_key(runtime, "partner", [world.office])
    token = sign_in(client, partner, "partner")
    filed = client.post(
        "/partner/requests", data={"csrf_token": token, **apply_data(world.service, world.office)}
    )
    entry = text_of(filed.text, "filed-entry")
    (request_id,) = _rows(runtime, "SELECT id FROM appointment_request WHERE entry = :e", e=entry)[0]
    assert client.get(f"/partner/requests/{request_id}/booking.ics").status_code == 404  # no appointment yet
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    token = sign_in(client, partner, "partner")
    client.post(f"/partner/requests/{request_id}/accept", data={"csrf_token": token})

    page = client.get(f"/partner/requests/{entry}?lang=uk")
    assert f'href="/partner/requests/{request_id}/booking.ics"' in page.text
    assert "Файл календаря із записом (.ics)" in page.text
    calendar = client.get(f"/partner/requests/{request_id}/booking.ics")
    assert calendar.status_code == 200 and calendar.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VEVENT" in calendar.text and "STATUS:CONFIRMED" in calendar.text
    other = world.applicant()
    assert client.get(f"/partner/requests/{other['id']}/booking.ics").status_code == 404


def test_a_partner_page_on_a_request_it_did_not_file_is_a_404_and_logged(client, world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    other = world.applicant()
    token = sign_in(client, partner, "partner")
    assert client.get(f"/partner/requests/{other['id']}").status_code == 404
    assert (
        client.post(f"/partner/requests/{other['id']}/cancel", data={"csrf_token": token}).status_code == 404
    )
    assert client.get(f"/partner/requests/{other['id']}/receipt.pdf").status_code == 404
    assert _rows(runtime, "SELECT status FROM appointment_request")[0][0] == "pending"
    assert _rows(runtime, "SELECT count(*) FROM audit_event WHERE action = 'request.out_of_scope'")[0][0] == 3


def test_a_desk_key_on_the_partner_or_counter_screen_is_told_another_key_is_needed(client, world, runtime):
    sign_in(client, world.desk, "desk")
    for path in ("/partner", "/counter"):
        response = client.get(path)
        assert response.status_code == 403
        assert "Another key is needed" in response.text


def test_the_check_page_opens_a_receipts_link_and_says_genuine(client, world):
    request = world.applicant()
    got = client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    ).json()
    link = urlparse(got["check_url"])
    page = client.get(f"{link.path}?{link.query}")
    assert page.status_code == 200
    assert "Genuine" in page.text
    assert "Aïcha Diallo" in text_of(page.text, "statement-name")
    assert parse_qs(link.query)["d"][0]


def test_the_check_page_says_not_genuine_with_the_reason_for_a_pasted_forgery(client, world):
    request = world.applicant()
    got = client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(request["access_code"])
    ).json()
    token = csrf_of(client.get("/check").text)
    forged = got["attestation"][:-4] + "AAAA"
    page = client.post("/check", data={"csrf_token": token, "attestation": forged})
    assert page.status_code == 200
    assert "Not genuine" in page.text
    assert "changed after it was signed" in text_of(page.text, "verdict-reason")
    good = client.post("/check", data={"csrf_token": token, "attestation": got["attestation"]})
    assert "Genuine" in good.text
    assert client.get("/check?d=nonsense").status_code == 404


def test_a_lost_code_is_renewed_from_the_counter_and_a_squatted_request_superseded_from_the_desk(
    client, world, runtime
):
    request = world.applicant(n=31337)
    agent = create_key(runtime, "agent", [world.office])
    token = sign_in(client, agent, "counter")
    form = {"service": world.service, "document_number": "P00031337", "birth_date": "1990-04-12"}
    renewed = client.post("/counter/recovery", data={"csrf_token": token, **form, "reason": "lost_code"})
    assert renewed.status_code == 200, renewed.text
    code = text_of(renewed.text, "recovery-access-code")
    assert client.get(f"/api/v1/requests/{request['id']}", headers=auth(code)).status_code == 200
    desk_client = client
    desk_client.cookies.clear()
    token = sign_in(desk_client, world.desk, "desk")
    assert "/desk/recovery" in desk_client.get("/desk").text
    squatted = desk_client.post("/desk/recovery", data={"csrf_token": token, **form, "reason": "squatted"})
    assert squatted.status_code == 200, squatted.text
    assert _rows(runtime, "SELECT status FROM appointment_request")[0][0] == "superseded"
    missing = desk_client.post("/desk/recovery", data={"csrf_token": token, **form, "reason": "squatted"})
    assert missing.status_code == 404
    assert "No active request of this document" in missing.text


def test_the_status_page_offers_the_receipt_and_it_is_a_pdf(client, world):
    request = world.applicant()
    token = csrf_of(client.get("/status").text)
    shown = client.post(
        "/status",
        data={
            "csrf_token": token,
            "request_id": request["entry"],
            "access_code": request["access_code"].lower(),
        },
    )
    assert shown.status_code == 200
    assert 'action="/status/receipt"' in shown.text
    receipt = client.post(
        "/status/receipt",
        data={"csrf_token": token, "request_id": request["id"], "access_code": request["access_code"]},
    )
    assert receipt.headers["content-type"] == "application/pdf"
    refused = client.post(
        "/status/receipt", data={"csrf_token": token, "request_id": request["id"], "access_code": "nope"}
    )
    assert refused.status_code == 404


def test_the_staff_key_used_on_the_api_files_the_same_rows_as_the_counter_page(client, world, runtime):
    agent = create_key(runtime, "agent", [world.office])
    api = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], n=1), headers=auth(agent)
    )
    token = sign_in(client, agent, "counter")
    client.post(
        "/counter/requests",
        data={"csrf_token": token, **apply_data(world.service, world.office, document_number="P00000002")},
    )
    rows = _rows(runtime, "SELECT channel, filed_by, status FROM appointment_request ORDER BY seq")
    assert len(rows) == 2
    assert rows[0] == rows[1]
    assert api.json()["channel"] == "counter"


def test_an_agent_reprints_a_receipt_by_its_reference_and_gets_404_outside_its_offices(
    client, world, runtime
):
    other = create_office(client, world.admin)["code"]
    agent = create_key(runtime, "agent", [world.office])
    mine = world.applicant()
    elsewhere = world.client.post(
        "/api/v1/requests",
        json=request_body(world.service, [other]),
        headers=auth(create_key(runtime, "agent", [other])),
    ).json()
    sign_in(client, agent, "counter")
    receipt = client.get("/counter/receipt", params={"reference": mine["entry"].lower()})
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert client.get("/counter/receipt", params={"reference": elsewhere["entry"]}).status_code == 404


def test_the_staff_channels_page_shows_what_each_key_filed(client, world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    client.post("/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner))
    sign_in(client, world.admin)
    assert "/staff/channels" in client.get("/staff").text
    page = client.get("/staff/channels")
    assert page.status_code == 200
    assert 'id="filers"' in page.text
    client.cookies.clear()
    sign_in(client, partner, "partner")
    assert client.get("/staff/channels").status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/counter/requests",
        "/counter/recovery",
        "/desk/recovery",
        "/partner/requests",
        "/partner/requests/FS-AAAAA-AAAAA/accept",
        "/check",
        "/status/receipt",
    ],
)
def test_every_new_form_refuses_a_post_without_the_csrf_token(client, world, runtime, path):
    partner = create_key(runtime, "partner", [world.office])
    sign_in(client, partner, "partner")
    response = client.post(path, data={"attestation": "x", **apply_data(world.service, world.office)})
    assert response.status_code == 403
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 0


def test_a_partner_revoked_while_signed_in_is_signed_out_at_once(client, world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    token = sign_in(client, partner, "partner")
    assert 'id="mine-title"' in client.get("/partner").text
    (key_id,) = _rows(runtime, "SELECT id FROM staff_key WHERE role = 'partner'")[0]
    world.client.delete(f"/api/v1/staff-keys/{key_id}", headers=auth(world.admin))
    page = client.get("/partner")
    assert 'action="/staff/sign-in"' in page.text
    filed = client.post(
        "/partner/requests",
        data={"csrf_token": token, **apply_data(world.service, world.office)},
        follow_redirects=False,
    )
    assert filed.status_code == 303
    assert _rows(runtime, "SELECT count(*) FROM appointment_request")[0][0] == 0


def test_the_confirmation_after_applying_offers_the_receipt(client, world):
    from tests.web.helpers import token_for

    token = token_for(client)
    confirmed = client.post("/apply", data={"csrf_token": token, **apply_data(world.service, world.office)})
    assert confirmed.status_code == 201
    assert 'action="/status/receipt"' in confirmed.text
    receipt = client.post(
        "/status/receipt",
        data={
            "csrf_token": csrf_of(confirmed.text),
            "request_id": text_of(confirmed.text, "request-id"),
            "access_code": text_of(confirmed.text, "access-code"),
        },
    )
    assert receipt.headers["content-type"] == "application/pdf"


def test_a_partner_confirms_the_appointment_for_the_person_inside_its_window_only(
    client, world, runtime, clock
):
    partner = create_key(runtime, "partner", [world.office])
    filed = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner)
    )
    assert filed.status_code == 201, filed.text
    request_id = filed.json()["id"]
    release_and_draw(world, clock, days_ahead=10)
    token = sign_in(client, partner, "partner")
    assert (
        client.post(f"/partner/requests/{request_id}/accept", data={"csrf_token": token}).status_code == 200
    )

    early = client.post(f"/partner/requests/{request_id}/confirm", data={"csrf_token": token})
    assert early.status_code == 409
    assert 'id="partner-confirm"' not in early.text
    booking = client.get(f"/api/v1/requests/{request_id}", headers=auth(partner)).json()["booking"]
    assert booking["confirmed_at"] is None

    clock.advance(timedelta(days=4))  # inside [confirm_from, confirm_by) of the default [7, 2] window
    token = sign_in(client, partner, "partner")  # four idle days ended the session
    assert 'id="partner-confirm"' in client.get(f"/partner/requests/{request_id}").text
    confirmed = client.post(f"/partner/requests/{request_id}/confirm", data={"csrf_token": token})
    assert confirmed.status_code == 200, confirmed.text
    assert "The appointment is confirmed for the person" in confirmed.text
    assert 'id="booking-confirmed"' in confirmed.text
    booking = client.get(f"/api/v1/requests/{request_id}", headers=auth(partner)).json()["booking"]
    assert booking["confirmed_at"] is not None
    (actor,) = _rows(runtime, "SELECT actor FROM audit_event WHERE action = 'booking.confirmed'")[0]
    assert actor.startswith("staff:")
