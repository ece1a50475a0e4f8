"""Desk check-in: a booking token counts only with its holder's document, at the desk of its office."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AuditEvent
from app.domain.proofs.tokens import BookingClaims, TokenKeyring
from app.services import audit, scheduler
from app.services.bookings import token_keys
from tests.factories import World, auth, create_key, create_office, named_for, request_body

BIRTH_DATE = "1985-06-30"


@pytest.fixture(autouse=True)
def _fresh_keyring_cache():
    """Keyrings are cached per process; a rotation in one test must not leak into the next."""
    token_keys.clear_cache()
    yield
    token_keys.clear_cache()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64json(value: object) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _identity(document: str, birth_date: str = BIRTH_DATE) -> dict:
    return {
        "document_type": "residence_permit",
        "document_number": document,
        "family_name": named_for("Okafor", document),
        "given_names": "Chidi Emeka",
        "birth_date": birth_date,
    }


def _submit(world: World, document: str) -> dict:
    body = request_body(world.service, [world.office], identity=_identity(document))
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _book_all(world: World, clock, *documents: str) -> list[dict]:
    """Requests for ``documents``, drawn and accepted; returns each one's booking."""
    people = [_submit(world, d) for d in documents]
    world.release(slots=len(documents))
    clock.advance(timedelta(hours=1))
    scheduler.tick(world.runtime)
    bookings = []
    for person in people:
        response = world.client.post(
            f"/api/v1/requests/{person['id']}/accept", headers=auth(person["access_code"])
        )
        assert response.status_code == 200, response.text
        bookings.append({**response.json()["booking"], "request": person})
    return bookings


def _check_in(world: World, token: str, document: str, birth_date: str = BIRTH_DATE, key: str | None = None):
    return world.client.post(
        "/api/v1/check-ins",
        json={"token": token, "document_number": document, "birth_date": birth_date},
        headers=auth(key or world.desk),
    )


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


def test_a_valid_token_with_its_document_spelled_differently_checks_in(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB12C-3456")

    response = _check_in(world, booking["token"], " ab 12c 34-56 ")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "booking_id": booking["id"],
        "status": "attended",
        "family_name": named_for("Okafor", "AB12C-3456"),
        "given_names": "Chidi Emeka",
        "office": world.office,
        "starts_at": booking["starts_at"],
        "claims": [],
    }
    request = booking["request"]
    view = client.get(f"/api/v1/requests/{request['id']}", headers=auth(request["access_code"])).json()
    assert view["status"] == "attended"
    assert view["booking"]["status"] == "attended"


def test_a_second_check_in_is_already_checked_in(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    assert _check_in(world, booking["token"], "AB123456").status_code == 200
    _refused(_check_in(world, booking["token"], "AB123456"), 409, "already_checked_in")


@pytest.mark.parametrize(
    ("document", "birth_date"),
    [("AB123457", BIRTH_DATE), ("AB123456", "1985-06-29"), ("AB12345", BIRTH_DATE)],
    ids=["other-document", "other-birth-date", "document-prefix"],
)
def test_a_token_with_the_wrong_document_or_birth_date_is_identity_mismatch(
    client, runtime, clock, document, birth_date
):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    _refused(_check_in(world, booking["token"], document, birth_date), 403, "identity_mismatch")
    assert _check_in(world, booking["token"], "AB123456").status_code == 200


def test_a_transferred_token_presented_with_the_buyers_document_is_refused(client, runtime, clock):
    world = World(client, runtime)
    seller, buyer = _book_all(world, clock, "SELL0001", "BUY00002")

    _refused(_check_in(world, seller["token"], "BUY00002"), 403, "identity_mismatch")

    with session_scope(runtime.engine) as session:
        _count, problems = audit.verify(session)
        refused = session.exec(select(AuditEvent).where(AuditEvent.action == "checkin.refused")).all()
    assert problems == []
    assert [e.subject for e in refused] == [f"booking:{seller['id']}"]
    assert _check_in(world, seller["token"], "SELL0001").status_code == 200
    assert _check_in(world, buyer["token"], "BUY00002").status_code == 200


def test_a_cancelled_booking_is_booking_cancelled(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    request = booking["request"]
    cancelled = client.post(f"/api/v1/requests/{request['id']}/cancel", headers=auth(request["access_code"]))
    assert cancelled.status_code == 200
    _refused(_check_in(world, booking["token"], "AB123456"), 409, "booking_cancelled")


def test_the_desk_of_another_office_gets_wrong_office(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    elsewhere = create_office(client, world.admin)["code"]
    other_desk = create_key(runtime, "desk", [elsewhere])
    _refused(_check_in(world, booking["token"], "AB123456", key=other_desk), 409, "wrong_office")
    assert _check_in(world, booking["token"], "AB123456").status_code == 200


def test_wrong_office_names_the_office_of_the_booking_as_a_field(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    other_desk = create_key(runtime, "desk", [create_office(client, world.admin)["code"]])

    problem = _check_in(world, booking["token"], "AB123456", key=other_desk).json()

    assert problem["office"] == world.office


@pytest.mark.parametrize("role", ["planner", "admin", "auditor"])
def test_staff_keys_other_than_desk_are_forbidden(client, runtime, clock, role):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    key = create_key(runtime, role, [world.office] if role == "planner" else [])
    _refused(_check_in(world, booking["token"], "AB123456", key=key), 403, "forbidden")
    assert _check_in(world, booking["token"], "AB123456").status_code == 200


def test_an_applicant_access_code_or_no_key_is_unauthorized(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    body = {"token": booking["token"], "document_number": "AB123456", "birth_date": BIRTH_DATE}
    assert client.post("/api/v1/check-ins", json=body).status_code == 401
    code = booking["request"]["access_code"]
    assert client.post("/api/v1/check-ins", json=body, headers=auth(code)).status_code == 401


# Forged tokens: every one is 401 token_invalid, and the genuine token still checks in afterwards.


def _alg_none(token: str, **_: object) -> str:
    header, payload, _signature = _parts(token)
    return f"{_b64json({**header, 'alg': 'none'})}.{_b64json(payload)}."


def _hs256(token: str, secret: bytes) -> str:
    header, payload, _signature = _parts(token)
    signing_input = f"{_b64json({**header, 'alg': 'HS256'})}.{_b64json(payload)}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _public_jwk(token: str, jwks: dict) -> dict:
    kid = _parts(token)[0]["kid"]
    return next(k for k in jwks["keys"] if k["kid"] == kid)


def _hs256_keyed_with_the_public_key_bytes(token: str, *, jwks: dict, **_: object) -> str:
    x = _public_jwk(token, jwks)["x"]
    return _hs256(token, base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))


def _hs256_keyed_with_the_public_jwk_text(token: str, *, jwks: dict, **_: object) -> str:
    return _hs256(token, json.dumps(_public_jwk(token, jwks)).encode())


def _signed_by_another_key(token: str, *, now: datetime, **_: object) -> str:
    _header, payload, _signature = _parts(token)
    other = TokenKeyring([("k1", now)], b"other")  # signs with derive_signing_key(b"other", "k1")
    return other.sign(BookingClaims.from_payload(payload))


def _tampered_office(token: str, *, other_office: str, **_: object) -> str:
    header, _payload, signature = token.split(".")
    _h, claims, _s = _parts(token)
    return f"{header}.{_b64json({**claims, 'off': other_office})}.{signature}"


def _tampered_expiry(token: str, **_: object) -> str:
    header, _payload, signature = token.split(".")
    _h, claims, _s = _parts(token)
    return f"{header}.{_b64json({**claims, 'exp': claims['exp'] + 86400 * 365})}.{signature}"


def _garbage(token: str, **_: object) -> str:
    return "not-a-token"


def _three_garbage_segments(token: str, **_: object) -> str:
    return "eyJhbGciOiJFZERTQSJ9.e30.AAAA"


def _truncated_signature(token: str, **_: object) -> str:
    return token[:-4]


@pytest.mark.parametrize(
    "forge",
    [
        _alg_none,
        _hs256_keyed_with_the_public_key_bytes,
        _hs256_keyed_with_the_public_jwk_text,
        _signed_by_another_key,
        _tampered_office,
        _tampered_expiry,
        _garbage,
        _three_garbage_segments,
        _truncated_signature,
    ],
)
def test_forged_and_tampered_tokens_are_token_invalid(client, runtime, clock, forge):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    other_office = create_office(client, world.admin)["code"]
    jwks = client.get("/api/v1/token-keys").json()
    forged = forge(booking["token"], jwks=jwks, now=clock.now(), other_office=other_office)
    assert forged != booking["token"]

    _refused(_check_in(world, forged, "AB123456"), 401, "token_invalid")

    assert _check_in(world, booking["token"], "AB123456").status_code == 200


def test_a_token_past_its_slot_end_plus_grace_is_token_invalid(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")
    _h, claims, _s = _parts(booking["token"])
    grace = timedelta(minutes=runtime.settings.no_show_grace_minutes)
    assert claims["exp"] == claims["end"] + int(grace.total_seconds())
    clock.set(datetime.fromtimestamp(claims["exp"], tz=clock.now().tzinfo) - timedelta(seconds=1))
    assert _check_in(world, booking["token"], "AB123456").status_code == 200

    (late,) = _book_all(world, clock, "CD654321")
    _h, late_claims, _s = _parts(late["token"])
    clock.set(datetime.fromtimestamp(late_claims["exp"], tz=clock.now().tzinfo))
    _refused(_check_in(world, late["token"], "CD654321"), 401, "token_invalid")


# Published keys and rotation


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")
def test_the_token_keys_are_a_public_jwks_that_verifies_a_real_booking_token(client, runtime, clock):
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "AB123456")

    jwks = client.get("/api/v1/token-keys").json()

    assert len(jwks["keys"]) == 1
    (key,) = jwks["keys"]
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert key["kid"] == _parts(booking["token"])[0]["kid"]
    assert "d" not in key
    assert not {"p", "q", "dp", "dq", "qi", "k"} & set(key)
    decoded = jwt.decode(booking["token"], KeySet.import_key_set(jwks), algorithms=["EdDSA"])
    assert decoded.header["alg"] == "EdDSA"
    assert decoded.claims["sub"] == booking["id"]
    assert decoded.claims["off"] == world.office
    assert "AB123456" not in json.dumps(decoded.claims)
    assert len(decoded.claims["hld"]) == 64


def test_after_a_key_rotation_old_tokens_still_check_in_and_new_ones_use_the_new_kid(client, runtime, clock):
    world = World(client, runtime)
    (old,) = _book_all(world, clock, "AB123456")
    old_kid = _parts(old["token"])[0]["kid"]
    clock.advance(timedelta(minutes=5))
    with session_scope(runtime.engine) as session:
        new_kid = token_keys.rotate(session, clock.now())
    token_keys.clear_cache()
    assert new_kid != old_kid

    (new,) = _book_all(world, clock, "CD654321")

    assert _parts(new["token"])[0]["kid"] == new_kid
    kids = [k["kid"] for k in client.get("/api/v1/token-keys").json()["keys"]]
    assert set(kids) == {old_kid, new_kid}
    assert _check_in(world, old["token"], "AB123456").status_code == 200
    assert _check_in(world, new["token"], "CD654321").status_code == 200


def test_a_refused_transfer_at_the_desk_is_recorded_in_the_audit_log(client, runtime, clock):
    from sqlalchemy import text as sql_text

    world = World(client, runtime)
    applicant = world.applicant()
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    booking = client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    ).json()["booking"]
    refused = client.post(
        "/api/v1/check-ins",
        json={"token": booking["token"], "document_number": "BUYER123456", "birth_date": "1980-01-01"},
        headers=auth(world.desk),
    )
    assert refused.status_code == 403
    with runtime.engine.connect() as conn:
        actions = list(conn.execute(sql_text("SELECT action FROM audit_event")).scalars())
    assert "checkin.refused" in actions
