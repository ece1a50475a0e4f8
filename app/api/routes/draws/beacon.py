"""This process as a drand relay for its own local chain (the offline embedded default).

Shaped like drand's HTTP API, so that anyone (and ``fairslot verify-draw``) can fetch a round as from a
public relay: ``/beacon/{chain_hash}/info``, ``/beacon/{chain_hash}/public/{round}`` and ``.../latest``.
A round is served only once its time has come. A local chain proves nothing against whoever runs the
host (it holds the key), and every answer says so.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from app.api.openapi import problem_responses
from app.domain.draws import beacon
from app.domain.errors import InvalidInput, NotFound
from app.http.deps import NowDep, RuntimeDep
from app.services.beacons import rounds

router = APIRouter(prefix="/beacon", tags=["beacon"])
ChainHash = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]
Round = Annotated[int, Path(ge=1, le=2**62)]


def _local(runtime: Any, chain_hash: str) -> tuple[bytes, beacon.Chain]:
    setup = rounds.setup_for(runtime.settings)
    if setup.local_key is None or setup.chain is None or setup.chain.chain_hash != chain_hash:
        raise NotFound("this service relays only its own local chain")
    return setup.local_key, setup.chain


@router.get("/{chain_hash}/info", responses=problem_responses(404, 422))
def chain_info(chain_hash: ChainHash, runtime: RuntimeDep) -> dict[str, Any]:
    """The local chain's info, as drand's ``/info`` (with the trust it gives)."""
    _key, chain = _local(runtime, chain_hash)
    return {**chain.info(), "trust": chain.trust, "note": beacon.TRUST_LABELS[chain.trust]}


@router.get("/{chain_hash}/public/latest", responses=problem_responses(404, 422))
def latest_round(chain_hash: ChainHash, runtime: RuntimeDep, now: NowDep) -> dict[str, Any]:
    """The latest round of the local chain."""
    key, chain = _local(runtime, chain_hash)
    current = chain.round_at(now)
    if chain.round_time(current) > now:
        current -= 1
    if current < 1:
        raise NotFound("the local chain has no round yet")
    return _round(key, current)


@router.get("/{chain_hash}/public/{round_number}", responses=problem_responses(404, 422))
def public_round(
    chain_hash: ChainHash, round_number: Round, runtime: RuntimeDep, now: NowDep
) -> dict[str, Any]:
    """One round of the local chain, once its time has come (404 before, as drand answers)."""
    key, chain = _local(runtime, chain_hash)
    if round_number > chain.last_round:
        raise InvalidInput(
            f"round {round_number} would come out after the year 9999",
            errors=[{"path": "round_number", "message": f"at most {chain.last_round} on this chain"}],
        )
    if chain.round_time(round_number) > now:
        raise NotFound(f"round {round_number} is out at {chain.round_time(round_number).isoformat()}")
    return _round(key, round_number)


def _round(key: bytes, round_number: int) -> dict[str, Any]:
    published = beacon.sign_round(key, round_number)
    return {"round": round_number, "randomness": published.randomness, "signature": published.signature}
