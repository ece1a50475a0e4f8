"""The applicant's journey on the pages: where to go and what to bring, the calendar file, giving a booking
back, declining with a confirmation, recovering a lost code."""

from __future__ import annotations

from datetime import timedelta

from app.services import scheduler
from tests.api.journey.world import ACCESS, ADDRESS, PHONE, JourneyWorld
from tests.web.helpers import token_for


def _credentials(client, person) -> dict[str, str]:
    return {"csrf_token": token_for(client), "request_id": person["id"], "access_code": person["access_code"]}


def test_the_status_page_and_the_printout_say_where_to_go_and_what_to_bring(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, language="ar")
    data = _credentials(client, person)

    offer = client.post("/status?lang=ar", data=data)
    assert offer.status_code == 200
    assert 'dir="rtl"' in offer.text
    for shown in (ADDRESS, PHONE, ACCESS, "Passeport", "Justificatif de domicile", "أين تذهب وماذا تُحضر"):
        assert shown in offer.text
    assert world.act(person, "accept").status_code == 200
    printout = client.post("/status/print?lang=en", data=data)
    assert ADDRESS in printout.text and "Proof of address" in printout.text


def test_the_status_page_offers_the_calendar_file_of_the_booking(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, language="pt")
    data = _credentials(client, person)
    assert client.post("/status/booking.ics?lang=pt", data=data).status_code == 404  # no booking yet
    assert world.act(person, "accept").status_code == 200

    page = client.post("/status?lang=pt", data=data)
    assert 'action="/status/booking.ics"' in page.text and 'id="calendar-button"' in page.text
    calendar = client.post("/status/booking.ics", data=data)
    assert calendar.status_code == 200 and "BEGIN:VEVENT" in calendar.text
    wrong = client.post("/status/booking.ics", data={**data, "access_code": "nope"})
    assert wrong.status_code == 404 and "BEGIN:VEVENT" not in wrong.text


def test_giving_back_on_the_status_page_asks_first_and_keeps_the_place(client, runtime, clock):
    world = JourneyWorld(client, runtime, confirm_window_days=None)
    (person,) = world.drawn(clock, language="es")
    assert world.act(person, "accept").status_code == 200
    data = _credentials(client, person)
    assert 'action="/status/give-back"' in client.post("/status?lang=es", data=data).text

    asked = client.post("/status/give-back?lang=es", data=data)
    assert "¿Devolver la cita?" in asked.text and "Conserva su lugar" in asked.text
    assert world.view(person)["status"] == "booked"  # nothing changed yet
    done = client.post("/status/give-back?lang=es", data={**data, "confirm": "yes"})
    assert done.status_code == 200 and "Ha devuelto la cita." in done.text
    assert world.view(person)["status"] == "pending"
    again = client.post("/status/give-back?lang=es", data={**data, "confirm": "yes"})
    assert again.status_code == 409 and "no tiene ninguna cita que devolver" in again.text


def test_a_lost_code_is_recovered_on_the_recover_page(client, runtime, clock):
    from tests.verified import phone_world, sealed_code, texting, verify

    world = phone_world(client, runtime)
    person = texting(world)
    verify(world, person)
    clock.advance(timedelta(minutes=2))
    token = token_for(client, "/recover?lang=uk")
    asked = {"csrf_token": token, "entry": person["entry"], "birth_date": "1990-04-12"}

    stranger = client.post("/recover?lang=uk", data={**asked, "entry": "FS-AAAAA-AAAAA"})
    sent = client.post("/recover?lang=uk", data=asked)
    assert stranger.status_code == sent.status_code == 202
    assert 'lang="uk"' in sent.text and "Введіть його нижче" in sent.text
    assert stranger.text.replace("FS-AAAAA-AAAAA", person["entry"]) == sent.text  # nothing tells them apart
    wrong = client.post("/recover/confirm?lang=uk", data={**asked, "code": "12345x"})
    assert wrong.status_code == 422
    done = client.post("/recover/confirm?lang=uk", data={**asked, "code": sealed_code(runtime, person["id"])})
    assert done.status_code == 200 and 'id="new-access-code"' in done.text
    assert client.get("/recover?lang=ar").status_code == 200


def test_a_partner_gives_back_for_the_person_in_the_third_person(client, runtime, clock):
    from tests.factories import auth, create_key, request_body
    from tests.web.helpers import sign_in

    world = JourneyWorld(client, runtime, confirm_window_days=None)
    partner = create_key(runtime, "partner", [world.office])
    filed = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner)
    ).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    assert client.post(f"/api/v1/requests/{filed['id']}/accept", headers=auth(partner)).status_code == 200
    token = sign_in(client, partner, "partner")

    shown = client.get(f"/partner/requests/{filed['id']}?lang=fr").text
    assert "La pièce d'identité utilisée pour la demande de la personne." in shown
    assert "utilisée pour votre demande" not in shown
    path = f"/partner/requests/{filed['id']}/give-back?lang=fr"
    asked = client.post(path, data={"csrf_token": token})
    assert (
        "La personne garde sa place" in asked.text
        and client.get(f"/api/v1/requests/{filed['id']}", headers=auth(partner)).json()["status"] == "booked"
    )
    done = client.post(path, data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 200 and "rendu pour la personne" in done.text
    refused = client.post(path, data={"csrf_token": token, "confirm": "yes"})
    assert refused.status_code == 409 and "pas de rendez-vous à rendre" in refused.text


def test_on_a_phone_the_offer_comes_before_the_folded_history(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock)
    page = client.post("/status", data=_credentials(client, person)).text

    offer = page.index('id="offer-title"')
    assert all(
        offer < page.index(f'<details class="history" id="{name}"') for name in ("request-details", "draws")
    )
