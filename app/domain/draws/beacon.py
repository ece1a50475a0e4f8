"""Public randomness rounds (drand): which round a draw uses, when it is out, and whether its proof holds.

A release fixes, when it is created, the first round of a chain whose time is at or after its ``draw_at``
(round time = genesis + (round - 1) x period); its ``draw_at`` is never earlier than its creation, so that
round always comes out after the release is made. Nobody can know that round's randomness before its time,
not even whoever runs this service, so nobody can know the draw before the entries are frozen. The
randomness
is ``sha256(signature)``, accepted only once the BLS signature verifies against the chain's public key:

- ``pedersen-bls-chained`` (League of Entropy mainnet): public key on G1, signature on G2 over
  ``sha256(previous_signature || round as 8 bytes big-endian)``;
- ``pedersen-bls-unchained``: the same without the previous signature (our local chain uses it);
- ``bls-unchained-g1-rfc9380`` (quicknet): public key on G2, signature on G1 over ``sha256(round)``.

Verification uses maintained libraries (``drand_verify``, from the noislabs Rust crate, for the League's
schemes, ``blspy`` for the unchained G2 scheme and for signing the local chain), never hand-written curve
arithmetic.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import blspy
import drand_verify

CHAINED = "pedersen-bls-chained"
UNCHAINED = "pedersen-bls-unchained"
UNCHAINED_G1 = "bls-unchained-g1-rfc9380"
SCHEMES = (CHAINED, UNCHAINED, UNCHAINED_G1)

#: Trust a verifier can place in a draw's beacon.
TRUST_PUBLIC = "public"
TRUST_LOCAL = "local"
TRUST_NONE = "none"
TRUST_LABELS = {
    TRUST_PUBLIC: "public chain: nobody, the service's operators included, could know the draw in advance",
    TRUST_LOCAL: "local chain: no guarantee against whoever runs the host, who could know the draw in advance",
    TRUST_NONE: "none: no guarantee against whoever holds the seed, who could know the draw in advance",
}

#: The last second a round time can be written as (a datetime ends with the year 9999).
_LAST_SECOND = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())

_G1_HEX = 96  # a compressed G1 point, in hex
_G2_HEX = 192  # a compressed G2 point, in hex
_HEX = re.compile(r"[0-9a-f]+")


class BeaconInvalid(ValueError):
    """A round, a signature or a proof that does not verify."""


@dataclass(frozen=True, slots=True)
class Chain:
    """A randomness chain as its ``/info`` publishes it, and how far a verifier trusts it."""

    chain_hash: str
    scheme: str
    public_key: str
    period: int
    genesis_time: int
    name: str
    trust: str = TRUST_PUBLIC

    @property
    def last_round(self) -> int:
        """The last round whose time a date can hold (its time is before the end of the year 9999)."""
        return max(1, (_LAST_SECOND - self.genesis_time) // self.period + 1)

    def round_time(self, round_number: int) -> datetime:
        """When ``round_number`` is published: genesis + (round - 1) x period (``ValueError`` past
        :attr:`last_round`)."""
        if round_number < 1:
            raise ValueError("drand rounds count from 1")
        if round_number > self.last_round:
            raise ValueError(f"round {round_number} would come out after the year 9999")
        return datetime.fromtimestamp(self.genesis_time + (round_number - 1) * self.period, UTC)

    def round_at(self, moment: datetime) -> int:
        """The first round whose time is at or after ``moment`` (an aware time, in any zone)."""
        if moment.utcoffset() is None:
            raise ValueError("a round is chosen for an aware time")
        genesis = datetime.fromtimestamp(self.genesis_time, UTC)
        if moment <= genesis:
            return 1
        # Exact integer arithmetic on microseconds: a float would misplace times a hair after a boundary.
        elapsed = moment - genesis
        micros = (elapsed.days * 86_400 + elapsed.seconds) * 1_000_000 + elapsed.microseconds
        return 1 + -(-micros // (self.period * 1_000_000))

    def source(self, round_number: int) -> dict[str, Any]:
        """The public beacon source a release fixes: ``{scheme: "drand", chain_hash, round}``."""
        return {"scheme": "drand", "chain_hash": self.chain_hash, "round": round_number}

    def info(self) -> dict[str, Any]:
        """The chain's info as drand's HTTP API serves it."""
        return {
            "public_key": self.public_key,
            "period": self.period,
            "genesis_time": self.genesis_time,
            "hash": self.chain_hash,
            "schemeID": self.scheme,
            "metadata": {"beaconID": self.name},
        }

    @classmethod
    def from_info(cls, info: Mapping[str, Any], *, trust: str = TRUST_PUBLIC, name: str = "") -> Chain:
        """A chain from drand's ``/info`` JSON (``hash``, ``schemeID``, ``public_key``, ``period``, ``genesis_time``)."""
        try:
            chain = cls(
                chain_hash=str(info["hash"]).lower(),
                scheme=str(info["schemeID"]),
                public_key=str(info["public_key"]).lower(),
                period=int(info["period"]),
                genesis_time=int(info["genesis_time"]),
                name=name or str((info.get("metadata") or {}).get("beaconID", "")),
                trust=trust,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BeaconInvalid(f"not a drand chain info: {exc}") from exc
        if chain.scheme not in SCHEMES:
            raise BeaconInvalid(f"unsupported drand scheme {chain.scheme!r}")
        if chain.period < 1 or not _is_hex(chain.chain_hash, 64):
            raise BeaconInvalid("a chain needs a 64-hex hash and a positive period")
        key_length = _G2_HEX if chain.scheme == UNCHAINED_G1 else _G1_HEX
        if not _is_hex(chain.public_key, key_length):
            raise BeaconInvalid(f"public key of {chain.scheme} must be {key_length} hex characters")
        return chain


#: The League of Entropy's public chains, as their ``/info`` publishes them.
MAINNET = Chain(
    chain_hash="8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce",
    scheme=CHAINED,
    public_key="868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31",
    period=30,
    genesis_time=1595431050,
    name="mainnet",
)
QUICKNET = Chain(
    chain_hash="52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
    scheme=UNCHAINED_G1,
    public_key=(
        "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec7"
        "58c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a"
    ),
    period=3,
    genesis_time=1692803367,
    name="quicknet",
)
LEAGUE_OF_ENTROPY: dict[str, Chain] = {c.chain_hash: c for c in (MAINNET, QUICKNET)}
BY_NAME: dict[str, Chain] = {c.name: c for c in (MAINNET, QUICKNET)}


@dataclass(frozen=True, slots=True)
class Round:
    """One published round: its signature (and, on a chained scheme, the previous round's)."""

    round: int
    signature: str
    previous_signature: str | None = None

    @property
    def randomness(self) -> str:
        """The round's randomness: ``sha256(signature)``, 64 hex characters."""
        return hashlib.sha256(bytes.fromhex(self.signature)).hexdigest()


def round_message(scheme: str, round_number: int, previous_signature: str | None) -> bytes:
    """What the chain signs for a round (before hashing to the curve)."""
    prefix = bytes.fromhex(previous_signature or "") if scheme == CHAINED else b""
    return hashlib.sha256(prefix + round_number.to_bytes(8, "big")).digest()


def verify_round(chain: Chain, published: Round) -> str:
    """The round's randomness once its signature verifies under ``chain``; ``BeaconInvalid`` otherwise."""
    signature = published.signature.lower()
    previous = (published.previous_signature or "").lower()
    if not 1 <= published.round < 2**63:
        raise BeaconInvalid(f"round {published.round} is out of range")
    signature_length = _G1_HEX if chain.scheme == UNCHAINED_G1 else _G2_HEX
    if not _is_hex(signature, signature_length):
        raise BeaconInvalid(f"a {chain.scheme} signature is {signature_length} hex characters")
    if chain.scheme == CHAINED and not _is_hex(previous, _G2_HEX):
        raise BeaconInvalid(f"a {CHAINED} round needs the previous round's signature")
    try:
        if chain.scheme == CHAINED:
            drand_verify.verify_pedersen_bls_chained(published.round, previous, signature, chain.public_key)
        elif chain.scheme == UNCHAINED_G1:
            drand_verify.verify_bls_unchained_g1_rfc9380(published.round, signature, chain.public_key)
        else:
            key = blspy.G1Element.from_bytes(bytes.fromhex(chain.public_key))
            point = blspy.G2Element.from_bytes(bytes.fromhex(signature))
            if not blspy.BasicSchemeMPL.verify(key, round_message(UNCHAINED, published.round, None), point):
                raise BeaconInvalid("signature does not verify")
    except BeaconInvalid:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # drand_verify panics (a BaseException) on bytes that are not a point
        raise BeaconInvalid(
            f"round {published.round}: signature does not verify under {chain.name or chain.chain_hash}"
        ) from exc
    return hashlib.sha256(bytes.fromhex(signature)).hexdigest()


def proof(chain: Chain, published: Round) -> dict[str, Any]:
    """The ``beacon_proof`` of a v2 record: all a verifier needs to check the round without a relay."""
    return {
        "chain_hash": chain.chain_hash,
        "scheme": chain.scheme,
        "round": published.round,
        "signature": published.signature.lower(),
        "previous_signature": (published.previous_signature or "").lower()
        if chain.scheme == CHAINED
        else None,
        "public_key": chain.public_key,
        "genesis_time": chain.genesis_time,
        "period": chain.period,
    }


PROOF_FIELDS = (
    "chain_hash",
    "scheme",
    "round",
    "signature",
    "previous_signature",
    "public_key",
    "genesis_time",
    "period",
)
SOURCE_FIELDS = ("scheme", "chain_hash", "round")


def check_proof(
    *,
    source: Any,
    beacon_proof: Any,
    beacon: Any,
    draw_at: datetime,
    trusted: Mapping[str, Chain],
) -> tuple[str, list[str]]:
    """Check a v2 record's beacon: the trust it earns and every difference found (empty when it holds).

    ``trusted`` maps chain hashes to chains the verifier trusts (the League's, and any the auditor named).
    A chain outside it is taken as a local chain: its signature is checked against the key in the record,
    which shows the record is self-consistent but proves nothing against whoever made that key.
    """
    differences: list[str] = []
    if (
        not isinstance(source, Mapping)
        or set(source) != set(SOURCE_FIELDS)
        or source.get("scheme") != "drand"
    ):
        return TRUST_NONE, [f'beacon_source {_show(source)} is not {{scheme: "drand", chain_hash, round}}']
    if not isinstance(beacon_proof, Mapping) or set(beacon_proof) != set(PROOF_FIELDS):
        return TRUST_NONE, [f"beacon_proof {_show(beacon_proof)} is not {{{', '.join(PROOF_FIELDS)}}}"]
    for name in ("chain_hash", "round"):
        if source[name] != beacon_proof[name]:
            differences.append(
                f"beacon_proof {name} {_show(beacon_proof[name])}, beacon_source has {_show(source[name])}"
            )
    round_number = beacon_proof["round"]
    if type(round_number) is not int or round_number < 1:
        return TRUST_NONE, [*differences, f"round {_show(round_number)} is not a positive integer"]
    try:
        claimed = Chain.from_info(
            {
                "hash": beacon_proof["chain_hash"],
                "schemeID": beacon_proof["scheme"],
                "public_key": beacon_proof["public_key"],
                "period": _strict_int(beacon_proof["period"]),
                "genesis_time": _strict_int(beacon_proof["genesis_time"]),
            },
            trust=TRUST_LOCAL,
        )
    except BeaconInvalid as exc:
        return TRUST_NONE, [*differences, f"beacon_proof: {exc}"]
    chain = trusted.get(claimed.chain_hash)
    if chain is not None:
        for name in ("scheme", "public_key", "period", "genesis_time"):
            if getattr(claimed, name) != getattr(chain, name):
                differences.append(
                    f"beacon_proof {name} {_show(getattr(claimed, name))} differs from trusted chain "
                    f"{chain.name or chain.chain_hash}: {_show(getattr(chain, name))}"
                )
        trust = chain.trust
    else:
        chain = claimed
        if local_chain_hash(claimed) != claimed.chain_hash:
            differences.append(
                f"chain {claimed.chain_hash} is not a trusted chain, and its hash is not that of the key, "
                "period and genesis in the record (a local chain's hash is)"
            )
        trust = TRUST_LOCAL
    published = Round(round_number, str(beacon_proof["signature"]), beacon_proof["previous_signature"])
    try:
        randomness = verify_round(chain, published)
    except (BeaconInvalid, TypeError, ValueError) as exc:
        differences.append(f"round {round_number}: {exc}")
        randomness = None
    if randomness is not None and beacon != randomness:
        differences.append(f"beacon {_show(beacon)} is not round {round_number}'s randomness {randomness}")
    if draw_at.utcoffset() is not None:
        try:
            at = chain.round_time(round_number)
        except ValueError as exc:
            return trust, [*differences, str(exc)]
        if at < draw_at:
            differences.append(
                f"round {round_number} is out at {at.isoformat()}, before draw_at {draw_at.isoformat()}"
            )
        elif round_number > 1 and chain.round_time(round_number - 1) >= draw_at:
            differences.append(
                f"round {round_number} is not the first at or after draw_at: round {round_number - 1} is too"
            )
    return trust, differences


def local_chain_hash(chain: Chain) -> str:
    """A local chain's hash: sha256 over its scheme, public key, period and genesis time (canonical JSON)."""
    fields = {
        "scheme": chain.scheme,
        "public_key": chain.public_key,
        "period": chain.period,
        "genesis_time": chain.genesis_time,
    }
    return hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def new_local_key(seed: bytes) -> bytes:
    """A BLS secret key (32 bytes) for a local chain, from 32 or more random bytes."""
    if len(seed) < 32:
        raise ValueError("a BLS key needs at least 32 random bytes")
    return bytes(blspy.BasicSchemeMPL.key_gen(seed))


def local_chain(secret_key: bytes, *, genesis_time: int, period: int) -> Chain:
    """The public side of a local chain (``pedersen-bls-unchained``) for a secret key."""
    public_key = bytes(blspy.PrivateKey.from_bytes(secret_key).get_g1()).hex()
    draft = Chain("0" * 64, UNCHAINED, public_key, period, genesis_time, "local", TRUST_LOCAL)
    return Chain(local_chain_hash(draft), UNCHAINED, public_key, period, genesis_time, "local", TRUST_LOCAL)


def sign_round(secret_key: bytes, round_number: int) -> Round:
    """A local chain's round: deterministic, so every signer of the same key publishes the same round."""
    key = blspy.PrivateKey.from_bytes(secret_key)
    signature = blspy.BasicSchemeMPL.sign(key, round_message(UNCHAINED, round_number, None))
    return Round(round_number, bytes(signature).hex())


def trust_of(source: Mapping[str, Any] | None, known: Mapping[str, Chain]) -> str:
    """The trust a release's beacon source earns: none without one, else its chain's (local when unknown)."""
    if not source:
        return TRUST_NONE
    chain = known.get(str(source.get("chain_hash")))
    return chain.trust if chain is not None else TRUST_LOCAL


def _strict_int(value: Any) -> int:
    if type(value) is not int:
        raise BeaconInvalid(f"{_show(value)} is not an integer")
    return value


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and _HEX.fullmatch(value) is not None


def _show(value: Any) -> str:
    text = "null" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
