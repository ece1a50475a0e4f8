"""Where to go and what to bring: every message about an appointment to come names the office's address,
phone and access notes and the service's papers, in the applicant's language (French where none is given)."""

from __future__ import annotations

from datetime import timedelta

from app.services.messages import texts
from tests.api.journey.world import ACCESS, ADDRESS, PHONE, JourneyWorld, outbox_of

LINK = "https://fairslot.test/status?id=x"


def test_offer_and_booking_messages_say_where_to_go_and_what_to_bring(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, language="en", contact={"email": "a@example.org", "phone": "+33612345678"})
    assert world.act(person, "accept").status_code == 200

    for kind in ("offer_made", "booking_confirmed"):
        email, sms = sorted(outbox_of(runtime, person["id"], kind), key=lambda m: m.channel)
        assert (email.channel, sms.channel) == ("email", "sms")
        _subject, body = texts.render_email(kind, email.language, email.context, LINK)
        assert f"Where: Test office, {ADDRESS}" in body
        assert f"Office phone: {PHONE}" in body
        assert f"Access: {ACCESS}" in body
        assert "What to bring:\n- Passport\n- Proof of address" in body
        text = texts.render_sms(kind, sms.language, sms.context, LINK)
        assert LINK in text and f"Address: {ADDRESS}" in text


def test_a_language_without_a_list_gets_the_french_papers_in_its_own_words(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, language="uk", contact={"email": "a@example.org"})

    (message,) = outbox_of(runtime, person["id"], "offer_made")
    _subject, body = texts.render_email("offer_made", message.language, message.context, LINK)

    assert f"Місце: Test office, {ADDRESS}" in body
    assert "Що взяти з собою:\n- Passeport\n- Justificatif de domicile" in body


def test_messages_about_an_ended_appointment_name_no_place(client, runtime, clock):
    world = JourneyWorld(client, runtime)
    (person,) = world.drawn(clock, contact={"phone": "+33612345678"})
    assert world.act(person, "accept").status_code == 200
    assert world.act(person, "cancel").status_code == 200

    (sms,) = outbox_of(runtime, person["id"], "booking_cancelled")
    assert ADDRESS not in texts.render_sms("booking_cancelled", "fr", sms.context, LINK)


def test_the_offer_sms_reaches_the_smsc_with_the_address_and_the_link(client, runtime, clock, database_url):
    import dataclasses

    from app.services import scheduler
    from tests.conftest import test_settings
    from tests.smsc import Smsc

    world = JourneyWorld(client, runtime)
    phone = "+33612345670"
    world.applicant(language="uk", contact={"phone": phone})
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    smsc = Smsc().start()
    try:
        texting = dataclasses.replace(runtime, settings=test_settings(database_url, smpp_url=smsc.url))
        assert len(scheduler.tick(texting).draws) == 1  # draws, then sends through the SMSC
        received = [text for destination, text in smsc.messages() if destination == phone.lstrip("+")]
    finally:
        smsc.stop()

    (offer,) = [text for text in received if "зареєстровано" not in text]  # besides "request received"
    assert f"Адреса: {ADDRESS}" in offer and "/status?id=" in offer
