"""Booking tokens: signed, identity-bound, refused when forged, tampered, foreign or expired."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jws, jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import KeySet, OctKey, OKPKey

from app.domain.identity import identity_key
from app.domain.proofs.tokens import (
    BookingClaims,
    TokenExpired,
    TokenInvalid,
    TokenKeyring,
    derive_signing_key,
    holder_digest,
    holder_matches,
    token_expiry,
)

SECRET = b"test-secret-of-a-reasonable-length-0123456789"
PEPPER = b"test-pepper"
T0 = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
NOW = datetime(2030, 2, 20, 12, 0, tzinfo=UTC)
IDENTITY = identity_key(PEPPER, "AB 123-456", datetime(1990, 5, 17).date())
OTHER_IDENTITY = identity_key(PEPPER, "CD999999", datetime(1985, 1, 2).date())


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: object) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def make_claims(booking_id: str = "bk-42", identity: str = IDENTITY) -> BookingClaims:
    ends_at = T0 + timedelta(minutes=20)
    return BookingClaims(
        booking_id=booking_id,
        office="paris-15",
        service="residence-renewal",
        starts_at=T0,
        ends_at=ends_at,
        holder=holder_digest(identity, booking_id, SECRET),
        issued_at=NOW - timedelta(days=1),
        expires_at=token_expiry(ends_at, timedelta(hours=2)),
    )


@pytest.fixture
def keyring() -> TokenKeyring:
    return TokenKeyring([("k1", datetime(2030, 1, 1, tzinfo=UTC))], SECRET)


@pytest.fixture
def token(keyring: TokenKeyring) -> str:
    return keyring.sign(make_claims())


def segments(token: str) -> tuple[dict[str, object], dict[str, object], str]:
    header, payload, signature = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def assert_refused(keyring: TokenKeyring, token: str, reason: str | None = None) -> None:
    with pytest.raises(TokenInvalid) as caught:
        keyring.verify(token, now=NOW)
    assert not isinstance(caught.value, TokenExpired)
    if reason is not None:
        assert caught.value.reason == reason


# --- round trip -------------------------------------------------------------------------------------


def test_a_signed_token_verifies_back_to_the_same_claims(keyring: TokenKeyring) -> None:
    claims = make_claims()
    assert keyring.verify(keyring.sign(claims), now=NOW) == claims


def test_the_token_is_a_compact_eddsa_jwt_with_the_compact_claim_names(token: str) -> None:
    header, payload, _ = segments(token)
    assert header == {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    assert set(payload) == {"iss", "use", "sub", "off", "svc", "start", "end", "hld", "iat", "exp"}
    assert payload["iss"] == "fairslot"
    assert payload["use"] == "booking"
    assert payload["sub"] == "bk-42"
    assert payload["start"] == int(T0.timestamp())


def test_claims_round_trip_through_the_payload_and_come_back_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    claims = make_claims()
    local = replace(claims, starts_at=T0.astimezone(paris))
    assert local.starts_at.hour == 10
    back = BookingClaims.from_payload(local.to_payload())
    assert back == claims
    assert back.starts_at.tzinfo is UTC


def test_naive_datetimes_are_refused_when_building_a_payload() -> None:
    claims = make_claims()
    naive = replace(claims, starts_at=T0.replace(tzinfo=None))
    with pytest.raises(ValueError, match="timezone-aware"):
        naive.to_payload()


def test_a_token_verifies_with_surrounding_whitespace_from_a_scanner(
    keyring: TokenKeyring, token: str
) -> None:
    assert keyring.verify(f"  {token}\n", now=NOW).booking_id == "bk-42"


# --- keys and rotation ------------------------------------------------------------------------------


def test_the_signing_key_is_derived_deterministically_per_kid() -> None:
    raw = lambda key: key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)  # noqa: E731
    assert raw(derive_signing_key(SECRET, "k1")) == raw(derive_signing_key(SECRET, "k1"))
    assert raw(derive_signing_key(SECRET, "k1")) != raw(derive_signing_key(SECRET, "k2"))
    assert raw(derive_signing_key(SECRET, "k1")) != raw(derive_signing_key(b"another secret", "k1"))


def test_two_processes_with_the_same_secret_verify_each_others_tokens(token: str) -> None:
    other_process = TokenKeyring([("k1", datetime(2030, 1, 1, tzinfo=UTC))], SECRET)
    assert other_process.verify(token, now=NOW).booking_id == "bk-42"


def test_after_rotation_new_tokens_use_the_new_kid_and_old_tokens_still_verify(token: str) -> None:
    rotated = TokenKeyring(
        [("k1", datetime(2030, 1, 1, tzinfo=UTC)), ("k2", datetime(2030, 2, 1, tzinfo=UTC))], SECRET
    )
    assert rotated.current == "k2"
    assert rotated.kids == ("k2", "k1")
    fresh = rotated.sign(make_claims("bk-43"))
    assert segments(fresh)[0]["kid"] == "k2"
    assert rotated.verify(fresh, now=NOW).booking_id == "bk-43"
    assert rotated.verify(token, now=NOW).booking_id == "bk-42"


def test_the_current_kid_is_the_newest_whatever_the_order_given() -> None:
    ring = TokenKeyring(
        [("k3", datetime(2030, 3, 1, tzinfo=UTC)), ("k1", datetime(2030, 1, 1, tzinfo=UTC))], SECRET
    )
    assert ring.current == "k3"


def test_a_keyring_refuses_no_keys_duplicate_kids_and_odd_kids() -> None:
    created = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="at least one"):
        TokenKeyring([], SECRET)
    with pytest.raises(ValueError, match="duplicate"):
        TokenKeyring([("k1", created), ("k1", created)], SECRET)
    with pytest.raises(ValueError, match="invalid key id"):
        TokenKeyring([("k 1/../x", created)], SECRET)
    with pytest.raises(ValueError, match="empty"):
        TokenKeyring([("k1", created)], b"")


def test_a_token_whose_kid_was_retired_is_refused_as_unknown(token: str) -> None:
    retired = TokenKeyring([("k2", datetime(2030, 2, 1, tzinfo=UTC))], SECRET)
    assert_refused(retired, token, "unknown_kid")


# --- JWKS -------------------------------------------------------------------------------------------


def test_the_jwks_holds_only_public_ed25519_keys_with_kid_use_and_alg() -> None:
    ring = TokenKeyring(
        [("k1", datetime(2030, 1, 1, tzinfo=UTC)), ("k2", datetime(2030, 2, 1, tzinfo=UTC))], SECRET
    )
    jwks = ring.jwks()
    assert [key["kid"] for key in jwks["keys"]] == ["k2", "k1"]
    for key in jwks["keys"]:
        assert set(key) == {"kty", "crv", "x", "kid", "use", "alg"}
        assert (key["kty"], key["crv"], key["use"], key["alg"]) == ("OKP", "Ed25519", "sig", "EdDSA")
        assert "d" not in key
        seed = derive_signing_key(SECRET, key["kid"]).private_bytes_raw()
        assert b64url(seed) not in json.dumps(jwks)


@pytest.mark.filterwarnings("ignore::joserfc.errors.SecurityWarning")
def test_a_third_party_verifies_a_token_with_nothing_but_the_published_jwks(
    keyring: TokenKeyring, token: str
) -> None:
    published = json.loads(json.dumps(keyring.jwks()))
    decoded = jwt.decode(token, KeySet.import_key_set(published), algorithms=["EdDSA"])
    assert decoded.header["kid"] == "k1"
    assert decoded.claims["sub"] == "bk-42"
    assert decoded.claims["hld"] == make_claims().holder


def test_verifying_our_own_tokens_raises_no_security_warning(
    keyring: TokenKeyring, token: str, recwarn: pytest.WarningsRecorder
) -> None:
    keyring.verify(token, now=NOW)
    keyring.sign(make_claims())
    assert not [w for w in recwarn if issubclass(w.category, SecurityWarning)]


# --- forgeries --------------------------------------------------------------------------------------


def test_an_alg_none_token_is_refused(keyring: TokenKeyring, token: str) -> None:
    _, payload, _ = segments(token)
    for alg in ("none", "None", "NONE"):
        forged = f"{b64url_json({'alg': alg, 'kid': 'k1', 'typ': 'JWT'})}.{b64url_json(payload)}."
        assert_refused(keyring, forged, "unsupported_alg")
    without_kid = f"{b64url_json({'alg': 'none'})}.{b64url_json(payload)}."
    assert_refused(keyring, without_kid)


def test_an_hs256_token_keyed_with_the_public_key_is_refused(keyring: TokenKeyring, token: str) -> None:
    _, payload, _ = segments(token)
    public_jwk = keyring.jwks()["keys"][0]
    candidates = [
        base64.urlsafe_b64decode(public_jwk["x"] + "=="),
        json.dumps(public_jwk).encode(),
        derive_signing_key(SECRET, "k1")
        .public_key()
        .public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
    ]
    for secret in candidates:
        header = {"alg": "HS256", "kid": "k1", "typ": "JWT"}
        signing_input = f"{b64url_json(header)}.{b64url_json(payload)}"
        mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        assert_refused(keyring, f"{signing_input}.{b64url(mac)}", "unsupported_alg")
    # the same forgery made with joserfc itself
    forged = jws.serialize_compact(
        {"alg": "HS256", "kid": "k1"},
        json.dumps(payload),
        OctKey.import_key(candidates[0]),
        algorithms=["HS256"],
    )
    assert_refused(keyring, forged, "unsupported_alg")


def test_a_token_signed_by_another_ed25519_key_under_our_kid_is_refused(
    keyring: TokenKeyring,
) -> None:
    impostor = OKPKey.import_key(Ed25519PrivateKey.generate(), {"kid": "k1"})
    header = {"alg": "EdDSA", "kid": "k1", "typ": "JWT"}
    with pytest.warns(SecurityWarning):
        forged = jwt.encode(header, make_claims().to_payload(), impostor, algorithms=["EdDSA"])
    assert_refused(keyring, forged, "bad_signature")


def test_a_token_signed_with_a_key_derived_from_another_secret_is_refused(
    keyring: TokenKeyring,
) -> None:
    other = TokenKeyring([("k1", datetime(2030, 1, 1, tzinfo=UTC))], b"not our secret at all")
    assert_refused(keyring, other.sign(make_claims()), "bad_signature")


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("off", "lyon-3"),
        ("sub", "bk-41"),
        ("hld", "0" * 64),
        ("exp", 4_102_444_800),
        ("svc", "naturalisation"),
    ],
)
def test_a_tampered_payload_with_the_original_signature_is_refused(
    keyring: TokenKeyring, token: str, claim: str, value: object
) -> None:
    header_segment, _, signature = token.split(".")
    _, payload, _ = segments(token)
    tampered = f"{header_segment}.{b64url_json({**payload, claim: value})}.{signature}"
    assert_refused(keyring, tampered, "bad_signature")


def test_a_tampered_header_with_the_original_signature_is_refused(keyring: TokenKeyring, token: str) -> None:
    _, payload_segment, signature = token.split(".")
    header = {"alg": "EdDSA", "kid": "k1", "typ": "JWT", "x": 1}
    assert_refused(keyring, f"{b64url_json(header)}.{payload_segment}.{signature}")
    header = {"kid": "k1", "typ": "JWT", "alg": "EdDSA"}  # same fields, other bytes
    assert_refused(keyring, f"{b64url_json(header)}.{payload_segment}.{signature}", "bad_signature")


def test_a_truncated_or_flipped_signature_is_refused(keyring: TokenKeyring, token: str) -> None:
    head, payload, signature = token.split(".")
    assert_refused(keyring, f"{head}.{payload}.{signature[:-4]}")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert_refused(keyring, f"{head}.{payload}.{flipped}", "bad_signature")
    assert_refused(keyring, f"{head}.{payload}.", "bad_signature")


def test_unencoded_payload_and_critical_headers_are_refused(keyring: TokenKeyring, token: str) -> None:
    _, payload, signature = token.split(".")
    for header in (
        {"alg": "EdDSA", "kid": "k1", "b64": False, "crit": ["b64"]},
        {"alg": "EdDSA", "kid": "k1", "crit": ["exp"]},
        {"alg": "EdDSA", "kid": "k1", "jwk": keyring.jwks()["keys"][0]},
        {"alg": "EdDSA", "kid": "k1", "typ": "JWE"},
    ):
        assert_refused(keyring, f"{b64url_json(header)}.{payload}.{signature}", "malformed")


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "   ",
        "garbage",
        "a.b.c",
        "...",
        "a.b.c.d",
        "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4In0",
        "eyJhbGciOiJFZERTQSJ9..",
        "é.é.é",
        "!!!.???.***",
        b64url(b"[1,2]") + ".e30.",
        b64url(b'"alg"') + ".e30.",
        b64url(b"{not json") + ".e30.",
        "x" * 10_000,
        ("a" * 3000) + "." + ("b" * 3000) + ".c",
    ],
)
def test_garbage_is_refused_as_invalid(keyring: TokenKeyring, garbage: str) -> None:
    assert_refused(keyring, garbage)


def test_a_two_part_token_is_refused_as_malformed(keyring: TokenKeyring, token: str) -> None:
    head, payload, _ = token.split(".")
    assert_refused(keyring, f"{head}.{payload}", "malformed")


def test_a_non_string_token_is_refused(keyring: TokenKeyring, token: str) -> None:
    assert_refused(keyring, token.encode(), "malformed")  # type: ignore[arg-type]
    assert_refused(keyring, None, "malformed")  # type: ignore[arg-type]


def test_an_unknown_kid_is_refused(keyring: TokenKeyring) -> None:
    stranger = TokenKeyring([("k9", datetime(2030, 1, 1, tzinfo=UTC))], SECRET)
    assert_refused(keyring, stranger.sign(make_claims()), "unknown_kid")


def test_a_missing_or_non_string_kid_is_refused(keyring: TokenKeyring, token: str) -> None:
    _, payload, signature = token.split(".")
    for header in ({"alg": "EdDSA", "typ": "JWT"}, {"alg": "EdDSA", "kid": 1}):
        assert_refused(keyring, f"{b64url_json(header)}.{payload}.{signature}")


# --- claims -----------------------------------------------------------------------------------------


def sign_payload(payload: dict[str, object], kid: str = "k1") -> str:
    key = OKPKey.import_key(derive_signing_key(SECRET, kid), {"kid": kid})
    with pytest.warns(SecurityWarning):
        return jwt.encode({"alg": "EdDSA", "kid": kid}, payload, key, algorithms=["EdDSA"])


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"iss": "someone-else"}, "wrong_issuer"),
        ({"iss": None}, "wrong_issuer"),
        ({"use": "access"}, "wrong_use"),
        ({"sub": ""}, "invalid_claims"),
        ({"sub": 42}, "invalid_claims"),
        ({"off": None}, "invalid_claims"),
        ({"start": "2030-03-01T09:00:00Z"}, "invalid_claims"),
        ({"end": 1.5}, "invalid_claims"),
        ({"exp": True}, "invalid_claims"),
        ({"iat": 10**30}, "invalid_claims"),
    ],
)
def test_a_genuinely_signed_token_with_bad_claims_is_refused(
    keyring: TokenKeyring, change: dict[str, object], reason: str
) -> None:
    payload = {**make_claims().to_payload(), **change}
    assert_refused(keyring, sign_payload(payload), reason)


@pytest.mark.parametrize("claim", ["iss", "use", "sub", "off", "svc", "start", "end", "hld", "iat", "exp"])
def test_a_genuinely_signed_token_missing_a_claim_is_refused(keyring: TokenKeyring, claim: str) -> None:
    payload = make_claims().to_payload()
    del payload[claim]
    assert_refused(keyring, sign_payload(payload))


def test_a_genuinely_signed_non_object_payload_is_refused(keyring: TokenKeyring) -> None:
    key = OKPKey.import_key(derive_signing_key(SECRET, "k1"), {"kid": "k1"})
    with pytest.warns(SecurityWarning):
        signed = jws.serialize_compact({"alg": "EdDSA", "kid": "k1"}, b"[1, 2, 3]", key, ["EdDSA"])
    assert_refused(keyring, signed, "invalid_claims")


def test_an_expired_token_raises_token_expired(keyring: TokenKeyring, token: str) -> None:
    expires_at = make_claims().expires_at
    assert keyring.verify(token, now=expires_at - timedelta(seconds=1)).booking_id == "bk-42"
    with pytest.raises(TokenExpired) as caught:
        keyring.verify(token, now=expires_at)
    assert caught.value.reason == "expired"
    assert isinstance(caught.value, TokenInvalid)


def test_an_expired_forgery_is_refused_as_forged_not_as_expired(keyring: TokenKeyring, token: str) -> None:
    header_segment, _, signature = token.split(".")
    _, payload, _ = segments(token)
    tampered = f"{header_segment}.{b64url_json({**payload, 'off': 'lyon-3'})}.{signature}"
    with pytest.raises(TokenInvalid) as caught:
        keyring.verify(tampered, now=T0 + timedelta(days=365))
    assert caught.value.reason == "bad_signature"


def test_verify_needs_a_timezone_aware_now(keyring: TokenKeyring, token: str) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        keyring.verify(token, now=NOW.replace(tzinfo=None))


def test_token_expiry_is_the_slot_end_plus_the_grace() -> None:
    ends_at = T0 + timedelta(minutes=20)
    assert token_expiry(ends_at, timedelta(hours=2)) == T0 + timedelta(hours=2, minutes=20)
    with pytest.raises(ValueError, match="negative"):
        token_expiry(ends_at, timedelta(seconds=-1))


# --- holder digest ----------------------------------------------------------------------------------


def test_the_holder_digest_is_hex_and_does_not_contain_the_identity_key() -> None:
    digest = holder_digest(IDENTITY, "bk-42", SECRET)
    assert len(digest) == 64
    assert int(digest, 16) >= 0
    assert digest != IDENTITY
    assert IDENTITY not in digest
    assert digest != hashlib.sha256(IDENTITY.encode()).hexdigest()


def test_the_token_carries_neither_the_identity_key_nor_the_document_number(token: str) -> None:
    _, payload, _ = segments(token)
    text = json.dumps(payload)
    assert IDENTITY not in text
    assert "AB123456" not in text
    assert "AB 123-456" not in text
    assert "1990" not in text


def test_the_holder_digest_depends_on_the_booking_and_the_secret() -> None:
    digest = holder_digest(IDENTITY, "bk-42", SECRET)
    assert holder_digest(IDENTITY, "bk-42", SECRET) == digest
    assert holder_digest(IDENTITY, "bk-43", SECRET) != digest
    assert holder_digest(IDENTITY, "bk-42", b"another secret") != digest


def test_the_holder_matches_only_the_right_identity(keyring: TokenKeyring, token: str) -> None:
    claims = keyring.verify(token, now=NOW)
    assert holder_matches(claims, IDENTITY, SECRET)
    assert not holder_matches(claims, OTHER_IDENTITY, SECRET)
    assert not holder_matches(claims, IDENTITY, b"another secret")
    assert not holder_matches(claims, "", SECRET)
    assert not holder_matches(claims, "bad\x00key", SECRET)


def test_a_holder_digest_cannot_be_moved_to_another_booking() -> None:
    moved = replace(make_claims("bk-42"), booking_id="bk-99")
    assert not holder_matches(moved, IDENTITY, SECRET)


def test_a_non_ascii_holder_claim_does_not_match_and_does_not_crash() -> None:
    odd = replace(make_claims(), holder="é" * 64)
    assert not holder_matches(odd, IDENTITY, SECRET)
