"""Public rounds: the round a draw_at fixes, real League of Entropy rounds verifying, forgeries refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.draws import beacon
from app.domain.draws.beacon import MAINNET, QUICKNET, BeaconInvalid, Chain, Round
from tests.beacon_relay import CHAINS, ROUNDS
from tests.strategies import draw_times

PARIS = ZoneInfo("Europe/Paris")


def recorded(name: str) -> Round:
    data = ROUNDS[name]
    return Round(data["round"], data["signature"], data.get("previous_signature"))


def test_the_built_in_chains_are_the_published_chain_infos() -> None:
    for name, chain in (("quicknet", QUICKNET), ("mainnet", MAINNET)):
        info = CHAINS[name]
        assert Chain.from_info(info, name=chain.name) == chain


def test_real_quicknet_and_mainnet_rounds_verify_and_give_their_published_randomness() -> None:
    assert beacon.verify_round(QUICKNET, recorded("quicknet")) == ROUNDS["quicknet"]["randomness"]
    assert beacon.verify_round(MAINNET, recorded("mainnet")) == ROUNDS["mainnet"]["randomness"]
    assert recorded("mainnet").randomness == ROUNDS["mainnet"]["randomness"]


@pytest.mark.parametrize("name", ["quicknet", "mainnet"])
def test_a_forged_signature_is_refused(name: str) -> None:
    real = recorded(name)
    forged = bytearray(bytes.fromhex(real.signature))
    forged[-1] ^= 1
    chain = QUICKNET if name == "quicknet" else MAINNET
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(chain, Round(real.round, forged.hex(), real.previous_signature))


@pytest.mark.parametrize("name", ["quicknet", "mainnet"])
def test_a_real_signature_for_another_round_is_refused(name: str) -> None:
    real = recorded(name)
    chain = QUICKNET if name == "quicknet" else MAINNET
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(chain, Round(real.round + 1, real.signature, real.previous_signature))


def test_a_round_of_another_chain_is_refused() -> None:
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(QUICKNET, recorded("mainnet"))
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(MAINNET, Round(ROUNDS["quicknet"]["round"], ROUNDS["quicknet"]["signature"]))


@pytest.mark.parametrize("junk", ["", "zz" * 48, "00" * 48, "ff" * 48, "ab"])
def test_malformed_signatures_are_refused_not_crashing(junk: str) -> None:
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(QUICKNET, Round(657413, junk))
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(MAINNET, Round(3311596, junk * 2, ROUNDS["mainnet"]["previous_signature"]))


def test_the_recorded_rounds_are_out_at_their_published_times() -> None:
    assert QUICKNET.round_time(657413) == datetime(2023, 9, 15, 11, 0, 3, tzinfo=UTC)
    assert MAINNET.round_time(3311596) == datetime(2023, 9, 15, 11, 55, tzinfo=UTC)
    assert MAINNET.round_time(1) == datetime.fromtimestamp(1595431050, UTC)


def test_a_draw_at_on_a_round_time_takes_that_round_and_a_hair_later_takes_the_next() -> None:
    at = QUICKNET.round_time(657413)
    assert QUICKNET.round_at(at) == 657413
    assert QUICKNET.round_at(at - timedelta(microseconds=1)) == 657413
    assert QUICKNET.round_at(at - timedelta(seconds=3)) == 657412
    assert QUICKNET.round_at(at + timedelta(microseconds=1)) == 657414
    assert QUICKNET.round_at(at - timedelta(seconds=2, microseconds=999_999)) == 657413


def test_times_before_genesis_take_the_first_round() -> None:
    assert MAINNET.round_at(datetime(2020, 1, 1, tzinfo=UTC)) == 1
    assert MAINNET.round_at(MAINNET.round_time(1)) == 1
    assert MAINNET.round_at(MAINNET.round_time(1) + timedelta(seconds=1)) == 2


def test_the_round_depends_on_the_instant_not_the_time_zone_it_is_written_in() -> None:
    utc = datetime(2023, 9, 15, 11, 54, 31, tzinfo=UTC)
    assert MAINNET.round_at(utc) == 3311596
    assert MAINNET.round_at(utc.astimezone(PARIS)) == 3311596
    assert MAINNET.round_at(utc.astimezone(ZoneInfo("America/Cayenne"))) == 3311596
    assert MAINNET.round_at(utc.astimezone(ZoneInfo("Asia/Kolkata"))) == 3311596


def test_across_a_dst_change_the_round_follows_elapsed_time() -> None:
    # Paris leaves summer time on 2026-10-25: 02:30 happens twice, an hour apart.
    first = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=0)
    second = datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1)
    assert second - first == timedelta(0)  # same wall clock: aware arithmetic in one zone ignores fold
    gap = second.astimezone(UTC) - first.astimezone(UTC)
    assert gap == timedelta(hours=1)
    assert MAINNET.round_at(second) - MAINNET.round_at(first) == 3600 // MAINNET.period
    assert QUICKNET.round_at(second) - QUICKNET.round_at(first) == 3600 // QUICKNET.period
    # The spring change (2026-03-29, 02:00 -> 03:00): 01:59:59 and 03:00:00 are one second apart.
    before = datetime(2026, 3, 29, 1, 59, 59, tzinfo=PARIS)
    after = datetime(2026, 3, 29, 3, 0, 0, tzinfo=PARIS)
    assert QUICKNET.round_at(after) - QUICKNET.round_at(before) in (0, 1)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError):
        QUICKNET.round_at(datetime(2026, 12, 1, 9, 0))


def test_a_local_chain_signs_rounds_that_verify_under_its_key_only() -> None:
    key = beacon.new_local_key(b"\x07" * 32)
    chain = beacon.local_chain(key, genesis_time=1_700_000_000, period=3)
    assert chain.trust == beacon.TRUST_LOCAL and chain.scheme == beacon.UNCHAINED
    assert chain.chain_hash == beacon.local_chain_hash(chain)
    published = beacon.sign_round(key, 42)
    assert beacon.verify_round(chain, published) == published.randomness
    other = beacon.local_chain(beacon.new_local_key(b"\x08" * 32), genesis_time=1_700_000_000, period=3)
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(other, published)
    with pytest.raises(BeaconInvalid):
        beacon.verify_round(chain, Round(43, published.signature))


def _proof_case(name: str) -> tuple[dict, dict, str, datetime]:
    chain = QUICKNET if name == "quicknet" else MAINNET
    published = recorded(name)
    draw_at = chain.round_time(published.round) - timedelta(seconds=1)
    return chain.source(published.round), beacon.proof(chain, published), published.randomness, draw_at


@pytest.mark.parametrize("name", ["quicknet", "mainnet"])
def test_a_real_proof_checks_out_as_a_public_chain(name: str) -> None:
    source, proof, randomness, draw_at = _proof_case(name)
    trust, differences = beacon.check_proof(
        source=source,
        beacon_proof=proof,
        beacon=randomness,
        draw_at=draw_at,
        trusted=beacon.LEAGUE_OF_ENTROPY,
    )
    assert (trust, differences) == (beacon.TRUST_PUBLIC, [])


def test_a_proof_is_refused_when_its_round_came_before_draw_at_or_was_not_the_first_after_it() -> None:
    source, proof, randomness, draw_at = _proof_case("quicknet")
    late = {"draw_at": draw_at + timedelta(seconds=2), "trusted": beacon.LEAGUE_OF_ENTROPY}
    _trust, differences = beacon.check_proof(source=source, beacon_proof=proof, beacon=randomness, **late)
    assert any("before draw_at" in d for d in differences)
    early = {"draw_at": draw_at - timedelta(seconds=30), "trusted": beacon.LEAGUE_OF_ENTROPY}
    _trust, differences = beacon.check_proof(source=source, beacon_proof=proof, beacon=randomness, **early)
    assert any("not the first at or after draw_at" in d for d in differences)


def test_a_round_past_the_year_9999_has_no_time() -> None:
    assert QUICKNET.round_time(QUICKNET.last_round).year == 9999
    with pytest.raises(ValueError, match="after the year 9999"):
        QUICKNET.round_time(QUICKNET.last_round + 1)


def test_a_proof_with_a_swapped_key_or_beacon_is_refused() -> None:
    source, proof, randomness, draw_at = _proof_case("mainnet")
    trusted = beacon.LEAGUE_OF_ENTROPY
    swapped_key = {**proof, "public_key": "a" + proof["public_key"][1:]}
    _t, differences = beacon.check_proof(
        source=source, beacon_proof=swapped_key, beacon=randomness, draw_at=draw_at, trusted=trusted
    )
    assert any("public_key" in d for d in differences)
    _t, differences = beacon.check_proof(
        source=source, beacon_proof=proof, beacon="0" * 64, draw_at=draw_at, trusted=trusted
    )
    assert any("is not round 3311596's randomness" in d for d in differences)


def test_an_unknown_chain_counts_as_local_and_must_match_its_own_key() -> None:
    key = beacon.new_local_key(b"\x09" * 32)
    chain = beacon.local_chain(key, genesis_time=1_700_000_000, period=3)
    published = beacon.sign_round(key, 1000)
    draw_at = chain.round_time(1000)
    proof = beacon.proof(chain, published)
    args = {"source": chain.source(1000), "beacon": published.randomness, "draw_at": draw_at}
    assert beacon.check_proof(beacon_proof=proof, trusted=beacon.LEAGUE_OF_ENTROPY, **args) == (
        beacon.TRUST_LOCAL,
        [],
    )
    # Trusted by the auditor: the same proof then counts as the chain's own trust.
    named = {chain.chain_hash: beacon.Chain.from_info(chain.info(), trust=beacon.TRUST_PUBLIC)}
    assert beacon.check_proof(beacon_proof=proof, trusted=named, **args) == (beacon.TRUST_PUBLIC, [])
    # A stranger's key dressed up with this chain's hash does not pass.
    other_key = beacon.new_local_key(b"\x0a" * 32)
    stranger = beacon.local_chain(other_key, genesis_time=1_700_000_000, period=3)
    forged = {**beacon.proof(stranger, beacon.sign_round(other_key, 1000)), "chain_hash": chain.chain_hash}
    _trust, differences = beacon.check_proof(beacon_proof=forged, trusted=beacon.LEAGUE_OF_ENTROPY, **args)
    assert differences


@given(draw_times(), st.sampled_from([MAINNET, QUICKNET]))
def test_the_fixed_round_is_the_first_whose_time_is_at_or_after_draw_at(
    draw_at: datetime, chain: Chain
) -> None:
    fixed = chain.round_at(draw_at)
    assert chain.round_time(fixed) >= draw_at
    assert fixed == 1 or chain.round_time(fixed - 1) < draw_at
    assert chain.round_at(draw_at.astimezone(UTC)) == fixed
