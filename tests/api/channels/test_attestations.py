"""Attestations: signed, offline-verifiable, refused when tampered, never confused with a booking token."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc import jws
from joserfc.jwk import KeySet, OKPKey

from app.db.engine import session_scope
from app.domain.proofs.attestation import ATTESTATION_TYP
from app.services import scheduler
from app.services.channels import attestations
from app.services.requests import purge
from tests.factories import World, auth, create_key, request_body


@pytest.fixture
def world(client, runtime) -> World:
    return World(client, runtime)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _attest(world: World, request: dict, key: str | None = None) -> dict:
    response = world.client.get(
        f"/api/v1/requests/{request['id']}/attestation", headers=auth(key or request["access_code"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _verify(world: World, token) -> dict:
    response = world.client.post("/api/v1/attestations/verify", json={"attestation": token})
    assert response.status_code == 200, response.text
    return response.json()


def test_an_attestation_round_trips_and_states_the_request_without_entry_or_weight(world):
    request = world.applicant()
    got = _attest(world, request)
    header = json.loads(_unb64(got["attestation"].split(".")[0]))
    assert header["typ"] == ATTESTATION_TYP
    assert header["alg"] == "EdDSA"
    statement = got["statement"]
    assert set(statement) == {
        "iss", "iat", "request_id", "family_name", "given_names", "service", "offices", "channel",
        "submitted_at", "status", "draws",
    }  # fmt: skip
    assert statement["request_id"] == request["id"]
    assert statement["family_name"].startswith(
        "Diallo"
    )  # the factory makes each applicant a person of its own
    assert statement["given_names"] == "Aïcha"
    assert (statement["channel"], statement["status"], statement["draws"]) == ("online", "pending", [])
    assert request["entry"] not in got["attestation"] + json.dumps(statement)
    assert "weight" not in json.dumps(statement)
    assert _verify(world, got["attestation"]) == {
        "valid": True,
        "statement": statement,
        "current": {"status": "pending", "since": statement["submitted_at"].replace("+00:00", "Z")},
    }


def test_the_published_jwks_verifies_an_attestation_offline(world):
    got = _attest(world, world.applicant())
    keys = KeySet.import_key_set(world.client.get("/api/v1/token-keys").json())
    header = json.loads(_unb64(got["attestation"].split(".")[0]))
    assert header["kid"] in {k["kid"] for k in world.client.get("/api/v1/token-keys").json()["keys"]}
    verified = jws.deserialize_compact(got["attestation"], keys, algorithms=["EdDSA"])
    assert json.loads(verified.payload) == got["statement"]


def test_the_attestation_lists_every_draw_with_its_outcome(world, clock):
    winner, loser = world.applicant(), world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    outcomes = {_attest(world, r)["statement"]["draws"][0]["outcome"] for r in (winner, loser)}
    assert outcomes == {"offered", "not_selected"}
    draw = _attest(world, winner)["statement"]["draws"][0]
    assert set(draw) == {"draw_id", "office", "drawn_at", "outcome"}
    assert draw["office"] == world.office


def _tampered_payload(token: str) -> str:
    head, body, sig = token.split(".")
    statement = json.loads(_unb64(body))
    statement["submitted_at"] = "2020-01-01T00:00:00+00:00"
    return ".".join([head, _b64(json.dumps(statement).encode()), sig])


def _resigned(token: str, *, kid: str | None = None, typ: str = ATTESTATION_TYP, alg: str = "EdDSA") -> str:
    header = json.loads(_unb64(token.split(".")[0]))
    key = OKPKey.import_key(Ed25519PrivateKey.generate())
    protected = {"alg": alg, "kid": kid or header["kid"], "typ": typ}
    return jws.serialize_compact(protected, _unb64(token.split(".")[1]), key, algorithms=["EdDSA"])


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (_tampered_payload, "tampered"),
        (lambda t: t[: len(t) // 2], "malformed"),
        (lambda t: t.rsplit(".", 1)[0] + ".", "tampered"),
        (lambda t: t + "x", "tampered"),
        (_resigned, "tampered"),
        (lambda t: _resigned(t, kid="k-unknown"), "unknown_key"),
        (lambda t: _resigned(t, typ="JWT"), "not_an_attestation"),
        (
            lambda t: _b64(b'{"alg":"none","typ":"fairslot-attestation+jwt"}') + "." + t.split(".")[1] + ".",
            "malformed",
        ),
        (lambda t: "", "malformed"),
        (lambda t: "not a token at all", "malformed"),
        (lambda t: "é.é.é", "malformed"),
        (lambda t: "a" * 15_000, "malformed"),
    ],
)
def test_a_forged_truncated_or_resigned_attestation_is_refused_with_a_reason(world, forge, reason):
    token = _attest(world, world.applicant())["attestation"]
    assert _verify(world, forge(token)) == {"valid": False, "reason": reason}


def test_a_booking_token_is_not_an_attestation_and_an_attestation_is_not_a_booking_token(world, clock):
    request = world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    booked = world.client.post(
        f"/api/v1/requests/{request['id']}/accept", headers=auth(request["access_code"])
    )
    token = booked.json()["booking"]["token"]
    assert _verify(world, token) == {"valid": False, "reason": "not_an_attestation"}
    attestation = _attest(world, request)["attestation"]
    check_in = world.client.post(
        "/api/v1/check-ins",
        json={"token": attestation, "document_number": "P00000001", "birth_date": "1990-04-12"},
        headers=auth(world.desk),
    )
    assert check_in.status_code == 401
    assert check_in.json()["code"] == "token_invalid"


def test_verify_refuses_a_body_that_is_not_a_string_with_a_422_not_a_500(world):
    for body in ({"attestation": 12}, {"attestation": None}, {}, {"attestation": "x", "more": 1}):
        assert world.client.post("/api/v1/attestations/verify", json=body).status_code == 422


def test_the_partner_that_filed_a_request_gets_its_attestation_and_no_one_else(world, runtime):
    partner = create_key(runtime, "partner", [world.office])
    rival = create_key(runtime, "partner", [world.office])
    filed = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office]), headers=auth(partner)
    ).json()
    assert _attest(world, filed, partner)["statement"]["channel"] == "partner"
    response = world.client.get(f"/api/v1/requests/{filed['id']}/attestation", headers=auth(rival))
    assert response.status_code == 404


def test_the_short_link_opens_the_attestation_and_it_stays_verifiable_after_purge(world, runtime, clock):
    request = world.applicant()
    got = _attest(world, request)
    code = parse_qs(urlparse(got["check_url"]).query)["d"][0]
    assert len(code) <= 32
    assert code not in got["attestation"]
    world.client.post(f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"]))
    clock.advance(timedelta(days=400))
    with session_scope(runtime.engine) as session:
        assert purge.purge(session, older_than=timedelta(days=30), now=clock.now()) == 1
    assert _verify(world, got["attestation"])["valid"] is True
    with session_scope(runtime.engine) as session:
        opened = attestations.open_link(session=session, code=code, secret=runtime.secret, now=clock.now())
        assert opened is not None
        assert opened[0] == got["attestation"]
        assert opened[1].valid
        assert (
            attestations.open_link(session=session, code="a" * 26, secret=runtime.secret, now=clock.now())
            is None
        )
