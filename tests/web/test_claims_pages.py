"""Claims on the pages: the desk asks a verdict per claim, the verifier works its queue, the form refuses
an excluded person, the draw page counts wins on unconfirmed claims and shows no personal data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, Claim, DrawEntry
from app.main import create_app
from app.services import scheduler
from app.services.bookings import token_keys
from tests.factories import World, auth, create_key, create_service, request_body
from tests.web.helpers import apply_data, sign_in, text_of, token_for

TODAY = date(2026, 12, 1)
SOON = (TODAY + timedelta(days=12)).isoformat()
BIRTH = "1975-05-05"


@pytest.fixture(autouse=True)
def _fresh_keyring_cache():
    token_keys.clear_cache()
    yield
    token_keys.clear_cache()


def identity(document: str) -> dict:
    return {
        "document_type": "passport",
        "document_number": document,
        "family_name": "Traoré",
        "given_names": "Awa",
        "birth_date": BIRTH,
    }


def booked(world: World, clock, document: str, **declared) -> dict:
    response = world.client.post(
        "/api/v1/requests",
        json=request_body(world.service, [world.office], identity=identity(document), **declared),
    )
    assert response.status_code == 201, response.text
    person = response.json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    accepted = world.client.post(
        f"/api/v1/requests/{person['id']}/accept", headers=auth(person["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    return {**accepted.json()["booking"], "request": person}


def desk_post(desk: TestClient, csrf: str, token: str, document: str, **verdicts: str):
    data = {"csrf_token": csrf, "token": token, "document_number": document, "birth_date": BIRTH}
    data.update({f"claim_{kind}": value for kind, value in verdicts.items()})
    return desk.post("/desk/check-in?lang=en", data=data)


def test_the_desk_page_shows_the_declared_date_and_kinds_and_asks_a_verdict_for_each(client, runtime, clock):
    world = World(client, runtime)
    booking = booked(world, clock, "TR000001", permit_expires_on=SOON, vulnerabilities=["minor_children"])
    with TestClient(create_app(runtime)) as desk:
        csrf = sign_in(desk, world.desk)

        asked = desk_post(desk, csrf, booking["token"], "TR000001")

        assert asked.status_code == 422
        assert 'id="claims-to-judge"' in asked.text
        assert "Permit declared to expire on" in asked.text and "13 December 2026" in asked.text
        assert "Minor children in my care" in asked.text
        assert 'name="claim_permit_expiry" value="refuted"' in asked.text
        assert 'name="claim_vulnerability" value="not_evidenced"' in asked.text
        assert "TR000001" in asked.text  # the fields are kept for the second submission

        ok = desk_post(
            desk, csrf, booking["token"], "TR000001", permit_expiry="confirmed", vulnerability="not_evidenced"
        )

        assert ok.status_code == 200
        assert "verdict--ok" in ok.text
        assert text_of(ok.text, "verdict-name") == "Awa Traoré"
    with session_scope(runtime.engine) as session:
        assert dict(session.exec(select(Claim.kind, Claim.status)).all()) == {
            "permit_expiry": "confirmed",
            "vulnerability": "not_evidenced",
        }


def test_a_refusal_at_the_desk_page_forfeits_and_is_kept(client, runtime, clock):
    world = World(client, runtime)
    booking = booked(world, clock, "TR000002", permit_expires_on=SOON)
    with TestClient(create_app(runtime)) as desk:
        csrf = sign_in(desk, world.desk)

        refused = desk_post(desk, csrf, booking["token"], "TR000002", permit_expiry="refuted")

        assert "verdict--refused" in refused.text
        assert "the appointment is forfeited" in refused.text
        assert 'id="verdict-excluded"' in refused.text and "30 May 2027" in refused.text
    with session_scope(runtime.engine) as session:
        assert session.exec(select(AppointmentRequest.status)).all() == ["forfeited"]


def test_the_apply_form_refuses_an_excluded_person_with_the_date(client, runtime, clock):
    world = World(client, runtime)
    booking = booked(world, clock, "TR000003", permit_expires_on=SOON)
    refused = world.client.post(
        "/api/v1/check-ins",
        json={
            "token": booking["token"],
            "document_number": "TR000003",
            "birth_date": BIRTH,
            "claims": {"permit_expiry": "refuted"},
        },
        headers=auth(world.desk),
    )
    assert refused.status_code == 409

    csrf = token_for(client)
    form = apply_data(
        world.service,
        world.office,
        document_number="OTHER123",
        family_name="Traoré",
        given_names="Awa",
        birth_date=BIRTH,
    )
    response = client.post("/apply?lang=en", data={"csrf_token": csrf, **form})

    assert response.status_code == 409
    assert "found false at the desk" in response.text
    assert "30 May 2027" in response.text


def test_the_verifier_confirms_and_refutes_on_the_claims_page(client, runtime):
    world = World(client, runtime)
    world.service = create_service(client, world.admin, weight_policy={"verify_claims": "before_draw"})[
        "code"
    ]
    verifier = create_key(runtime, "verifier", [world.office])
    created = world.applicant(
        identity=identity("TR000004"), permit_expires_on=SOON, vulnerabilities=["elderly"]
    )
    with TestClient(create_app(runtime)) as page:
        assert 'name="next" value="claims"' in page.get("/claims").text
        csrf = sign_in(page, verifier, next_page="claims")

        queue = page.get("/claims?lang=fr")
        assert queue.status_code == 200
        assert created["entry"] in queue.text and "Awa Traoré" in queue.text
        assert "13 décembre 2026" in queue.text

        done = page.post(
            "/claims/decide?lang=en",
            data={
                "csrf_token": csrf,
                "request_id": created["id"],
                "claim": "permit_expiry",
                "verdict": "confirmed",
            },
        )
        assert done.status_code == 200
        assert "Claim confirmed" in done.text
        twice = page.post(
            "/claims/decide?lang=en",
            data={
                "csrf_token": csrf,
                "request_id": created["id"],
                "claim": "permit_expiry",
                "verdict": "refuted",
            },
        )
        assert twice.status_code == 409
        assert "already has a verdict" in twice.text
    shown = client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
    assert shown["weight"]["total"] == "4.0000"


def test_the_claims_page_is_for_verifiers_only(client, runtime):
    world = World(client, runtime)
    with TestClient(create_app(runtime)) as page:
        sign_in(page, world.desk)
        assert page.get("/claims").status_code == 403


def test_the_draw_page_counts_wins_on_unconfirmed_claims_and_shows_no_claim(client, runtime, clock):
    world = World(client, runtime)
    booked(world, clock, "TR000005", vulnerabilities=["pregnancy"])
    with session_scope(runtime.engine) as session:
        entry = session.exec(select(DrawEntry)).one()
    page = client.get(f"/draws/{entry.draw_id}?lang=en")

    assert text_of(page.text, "unconfirmed-wins") == "1"
    assert "pregnancy" not in page.text.lower() and "Traoré" not in page.text
    record = client.get(f"/api/v1/draws/{entry.draw_id}").text
    assert "unconfirmed" not in record and "pregnancy" not in record


def test_the_status_page_lists_what_was_declared_and_where_it_stands(client, runtime):
    world = World(client, runtime)
    world.service = create_service(client, world.admin, weight_policy={"verify_claims": "before_draw"})[
        "code"
    ]
    created = world.applicant(
        identity=identity("TR000006"), permit_expires_on=SOON, vulnerabilities=["elderly"]
    )
    csrf = token_for(client, "/status")

    page = client.post(
        "/status?lang=fr",
        data={"csrf_token": csrf, "request_id": created["id"], "access_code": created["access_code"]},
    )

    assert page.status_code == 200
    assert 'id="claim-permit_expiry"' in page.text and "13 décembre 2026" in page.text
    assert 'id="claim-vulnerability"' in page.text
    assert "Déclaré, pas encore vérifié" in page.text
    assert "non compté tant que la déclaration n\u2019est pas vérifiée" in page.text


def test_the_apply_form_tells_a_second_document_of_the_same_person_what_a_homonym_can_do(client, runtime):
    world = World(client, runtime)
    assert (
        client.post(
            "/api/v1/requests",
            json=request_body(world.service, [world.office], identity=identity("TR000007")),
        ).status_code
        == 201
    )
    csrf = token_for(client)
    form = apply_data(
        world.service,
        world.office,
        document_number="TR999999",
        family_name="Traoré",
        given_names="Awa",
        birth_date=BIRTH,
    )

    response = client.post("/apply?lang=en", data={"csrf_token": csrf, **form})

    assert response.status_code == 409
    assert "one person, one chance" in response.text
    assert "an agent can file your request" in response.text
