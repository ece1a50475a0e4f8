"""Verification before the draw: claims count once a verifier confirms them; the queue keeps to its offices."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import Claim, ClaimSanction, DrawEntry
from app.services import scheduler
from tests.assertions import assert_problem
from tests.factories import World, auth, create_key, create_office, create_service

TODAY = date(2026, 12, 1)
SOON = (TODAY + timedelta(days=10)).isoformat()


@pytest.fixture
def world(client, runtime) -> World:
    world = World(client, runtime)
    world.service = create_service(client, world.admin, weight_policy={"verify_claims": "before_draw"})[
        "code"
    ]
    world.verifier = create_key(runtime, "verifier", [world.office])  # type: ignore[attr-defined]
    return world


def verdict(world: World, request_id: str, claim: str, value: str, key: str | None = None, **extra):
    return world.client.post(
        f"/api/v1/requests/{request_id}/claims",
        json={"claim": claim, "verdict": value, **extra},
        headers=auth(key or world.verifier),  # type: ignore[attr-defined]
    )


def test_under_before_draw_a_declared_claim_counts_one_until_a_verifier_confirms_it(world):
    created = world.applicant(permit_expires_on=SOON, vulnerabilities=["elderly"])

    assert created["weight"]["total"] == "1.0000"
    expiry = created["weight"]["factors"][0]
    assert (expiry["value"], expiry["claim"]) == ("1", "permit_expiry")
    assert "not counted until the claim is confirmed" in expiry["reason"]

    response = verdict(world, created["id"], "permit_expiry", "confirmed", note="registry checked")

    assert response.status_code == 200, response.text
    assert response.json() == [
        {"claim": "permit_expiry", "declared": SOON, "status": "confirmed"},
        {"claim": "vulnerability", "declared": ["elderly"], "status": "declared"},
    ]
    shown = world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
    assert shown["weight"]["total"] == "4.0000"


def test_the_draw_uses_the_weight_shown_and_a_confirmed_claim_needs_no_desk_verdict(world, clock):
    identity = {
        "document_type": "passport",
        "document_number": "VERIF001",
        "family_name": "Ferreira",
        "given_names": "Ana",
        "birth_date": "1961-07-08",
    }
    created = world.applicant(identity=identity, permit_expires_on=SOON, vulnerabilities=["elderly"])
    assert verdict(world, created["id"], "permit_expiry", "confirmed").status_code == 200
    shown = world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)

    with session_scope(world.runtime.engine) as session:
        entry = session.exec(select(DrawEntry)).one()
    assert entry.weight == shown["weight"]["total"] == "4.0000"
    assert entry.unconfirmed_claims is None  # the vulnerability counted 1: nothing for the desk to judge
    accepted = world.client.post(
        f"/api/v1/requests/{created['id']}/accept", headers=auth(created["access_code"])
    )
    token = accepted.json()["booking"]["token"]
    checked = world.client.post(
        "/api/v1/check-ins",
        json={"token": token, "document_number": "VERIF001", "birth_date": "1961-07-08"},
        headers=auth(world.desk),
    )
    assert checked.status_code == 200, checked.text


def test_a_claim_refuted_before_the_draw_counts_one_and_carries_no_penalty(world):
    created = world.applicant(permit_expires_on=SOON)

    response = verdict(world, created["id"], "permit_expiry", "refuted")

    assert response.status_code == 200, response.text
    assert response.json()[0]["status"] == "refuted"
    shown = world.client.get(f"/api/v1/requests/{created['id']}", headers=auth(created["access_code"])).json()
    assert shown["status"] == "pending"
    assert shown["weight"]["total"] == "1.0000"
    with session_scope(world.runtime.engine) as session:
        assert session.exec(select(ClaimSanction)).all() == []


def test_the_queue_lists_declared_claims_of_pending_requests_in_the_keys_offices_only(world, client, runtime):
    elsewhere = create_office(client, world.admin)["code"]
    mine = world.applicant(permit_expires_on=SOON, vulnerabilities=["pregnancy"])
    world.applicant()  # no claim
    client.post(
        "/api/v1/requests",
        json={
            "service": world.service,
            "offices": [elsewhere],
            "identity": {
                "document_type": "passport",
                "document_number": "ELSE1234",
                "family_name": "Autre",
                "given_names": "Bureau",
                "birth_date": "1970-01-01",
            },
            "permit_expires_on": SOON,
        },
    )

    page = client.get("/api/v1/claims?status=declared", headers=auth(world.verifier))

    assert page.status_code == 200, page.text
    items = page.json()["items"]
    assert [(i["request_id"], i["claim"]) for i in items] == [
        (mine["id"], "permit_expiry"),
        (mine["id"], "vulnerability"),
    ]
    assert items[0]["entry"] == mine["entry"]
    assert items[0]["declared"] == SOON
    assert items[0]["family_name"].startswith("Diallo")
    assert page.json()["next_cursor"] is None


def test_the_queue_pages_with_a_cursor(world, client, runtime):
    from app.services.claims import verdicts as claim_service

    for _ in range(3):
        world.applicant(permit_expires_on=SOON)
    with session_scope(runtime.engine) as session:
        from app.services.staff.keys import authenticate

        staff = authenticate(session, world.verifier)
        first = claim_service.queue(session=session, staff=staff, limit=2)
        second = claim_service.queue(session=session, staff=staff, cursor=first.next_cursor, limit=2)
    assert len(first.items) == 2 and first.next_cursor
    assert len(second.items) == 1 and second.next_cursor is None
    assert not {i.request_id for i in first.items} & {i.request_id for i in second.items}
    assert_problem(
        client.get("/api/v1/claims?cursor=%%%", headers=auth(world.verifier)), 422, "validation_error"
    )


def test_verdicts_outside_the_keys_offices_are_404_and_by_another_role_403(world, client, runtime):
    created = world.applicant(permit_expires_on=SOON)
    elsewhere = create_office(client, world.admin)["code"]
    stranger = create_key(runtime, "verifier", [elsewhere])

    assert_problem(
        verdict(world, created["id"], "permit_expiry", "confirmed", key=stranger), 404, "not_found"
    )
    assert_problem(
        verdict(world, created["id"], "permit_expiry", "confirmed", key=world.desk), 403, "forbidden"
    )
    assert_problem(client.get("/api/v1/claims", headers=auth(world.desk)), 403, "forbidden")
    assert_problem(verdict(world, "not-a-request", "permit_expiry", "confirmed"), 404, "not_found")
    with session_scope(runtime.engine) as session:
        assert session.exec(select(Claim.status)).all() == ["declared"]


def test_a_verdict_on_a_claim_not_declared_or_given_twice_is_refused_and_changes_nothing(world, runtime):
    created = world.applicant(permit_expires_on=SOON)

    assert_problem(verdict(world, created["id"], "vulnerability", "confirmed"), 422, "claim_not_declared")
    assert verdict(world, created["id"], "permit_expiry", "confirmed").status_code == 200
    assert verdict(world, created["id"], "permit_expiry", "confirmed").status_code == 200  # same: no-op
    assert_problem(verdict(world, created["id"], "permit_expiry", "refuted"), 409, "claim_decided")
    assert_problem(verdict(world, created["id"], "permit_expiry", "not_evidenced"), 422, "validation_error")
    with session_scope(runtime.engine) as session:
        assert session.exec(select(Claim.status)).all() == ["confirmed"]


def test_a_verdict_once_the_request_left_pending_is_refused(world, clock):
    created = world.applicant(permit_expires_on=SOON)
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)

    assert_problem(verdict(world, created["id"], "permit_expiry", "confirmed"), 409, "claims_closed")


@pytest.mark.parametrize(
    "policy",
    [
        {"verify_claims": "sometimes"},
        {"false_claim_exclusion_days": -1},
        {"false_claim_exclusion_days": 99999},
    ],
    ids=["unknown-stage", "negative-days", "too-many-days"],
)
def test_a_service_refuses_an_invalid_claims_policy(client, runtime, policy):
    admin = create_key(runtime, "admin")
    response = client.post(
        "/api/v1/services",
        json={"code": "bad-policy", "name": "Bad", "slot_minutes": 30, "weight_policy": policy},
        headers=auth(admin),
    )
    assert_problem(response, 422, "validation_error")


def test_a_service_shows_its_claims_policy(client, runtime):
    admin = create_key(runtime, "admin")
    created = create_service(
        client, admin, weight_policy={"verify_claims": "before_draw", "false_claim_exclusion_days": 90}
    )
    assert created["weight_policy"]["verify_claims"] == "before_draw"
    assert created["weight_policy"]["false_claim_exclusion_days"] == 90
