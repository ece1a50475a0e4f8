"""Attestations in the domain: any statement round-trips; any change to a signed one is caught."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.domain.proofs import attestation
from app.domain.proofs.attestation import DrawOutcome
from app.domain.proofs.tokens import BookingClaims, TokenKeyring
from tests.strategies import document_names

NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)
RING = TokenKeyring([("k1", NOW - timedelta(days=30))], b"domain-test-secret-0123456789abcdef")
OTHER_RING = TokenKeyring([("k1", NOW - timedelta(days=30))], b"another-secret-entirely-0123456789")


def _statement(family: str = "Diallo", given_names: str = "Aïcha", draws: int = 2) -> dict:
    return attestation.build_statement(
        issuer="https://fairslot.example",
        issued_at=NOW,
        request_id="6e41b3ee-bb15-42cb-9c89-8940b9b8e69c",
        family_name=family,
        given_names=given_names,
        service="first-permit",
        offices=["paris-cite"],
        channel="counter",
        submitted_at=NOW - timedelta(days=40),
        status="pending",
        draws=[
            DrawOutcome(i + 1, "paris-cite", NOW - timedelta(days=i), "not_selected") for i in range(draws)
        ],
    )


@given(document_names, document_names, st.integers(min_value=0, max_value=30))
def test_any_statement_signs_and_verifies_to_itself(family, given_names, draws):
    statement = _statement(family, given_names, draws)
    verdict = attestation.verify(RING, attestation.sign(RING, statement))
    assert verdict.valid
    assert verdict.statement == statement


@given(st.data())
def test_changing_any_character_of_a_signed_attestation_makes_it_invalid(data):
    token = attestation.sign(RING, _statement())
    index = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from("ABCDEFabcdef0123456789-_."))
    forged = token[:index] + replacement + token[index + 1 :]
    if forged != token:
        verdict = attestation.verify(RING, forged)
        # A base64 change in the last symbol's unused bits may decode to the same bytes: then it is the same
        # signed document, and must verify to the same statement.
        assert not verdict.valid or verdict.statement == _statement()


def test_a_statement_signed_with_another_secret_under_the_same_kid_is_tampered():
    token = attestation.sign(OTHER_RING, _statement())
    assert attestation.verify(RING, token).reason == "tampered"


def test_a_booking_token_of_the_same_keyring_is_not_an_attestation():
    claims = BookingClaims(
        booking_id="b1", office="paris-cite", service="first-permit", starts_at=NOW, ends_at=NOW + timedelta(minutes=30),
        holder="0" * 64, issued_at=NOW, expires_at=NOW + timedelta(days=1),
    )  # fmt: skip
    assert attestation.verify(RING, RING.sign(claims)).reason == "not_an_attestation"


def test_a_validly_signed_document_that_is_not_a_statement_is_invalid_statement():
    token = RING.sign_document({"hello": "world"}, typ=attestation.ATTESTATION_TYP)
    assert attestation.verify(RING, token).reason == "invalid_statement"


def test_no_entry_reference_nor_weight_is_in_the_payload():
    token = attestation.sign(RING, _statement())
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert not {"entry", "weight", "weights", "rank"} & set(json.dumps(payload).replace('"', " ").split())


def test_a_link_code_opens_only_its_own_sealed_attestation():
    token = attestation.sign(RING, _statement())
    code = attestation.link_code(token)
    sealed = attestation.seal(token, code)
    assert attestation.unseal(sealed, code) == token
    other = attestation.link_code(attestation.sign(RING, _statement(draws=3)))
    assert attestation.unseal(sealed, other) is None
    assert attestation.unseal(sealed, "not a code") is None
    assert attestation.lookup_of(code) != attestation.lookup_of(other)
