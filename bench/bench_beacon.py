"""What the beacon costs: signing a local round, verifying rounds of each scheme, sealing a seed.

Prints figures (milliseconds per operation); nothing is asserted. ``python -m bench.bench_beacon``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from app.domain.draws import beacon
from app.domain.proofs import seed_seal

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "drand" / "rounds.json"


def per_call(fn: Callable[[], object], repeats: int) -> float:
    started = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - started) * 1000 / repeats


def main() -> None:
    rounds = json.loads(DATA.read_text())
    quick = beacon.Round(rounds["quicknet"]["round"], rounds["quicknet"]["signature"])
    main_round = rounds["mainnet"]
    chained = beacon.Round(main_round["round"], main_round["signature"], main_round["previous_signature"])
    key = beacon.new_local_key(b"\x01" * 32)
    local = beacon.local_chain(key, genesis_time=1_700_000_000, period=3)
    signed = beacon.sign_round(key, 1234)
    secret = b"bench-secret" * 4
    sealed = seed_seal.seal(secret, b"\x02" * 32, "c" * 64)
    figures = {
        "local chain: sign a round (blspy)": per_call(lambda: beacon.sign_round(key, 1234), 500),
        "local chain: verify a round (blspy)": per_call(lambda: beacon.verify_round(local, signed), 200),
        "quicknet: verify a round (drand_verify)": per_call(
            lambda: beacon.verify_round(beacon.QUICKNET, quick), 200
        ),
        "mainnet: verify a round (drand_verify)": per_call(
            lambda: beacon.verify_round(beacon.MAINNET, chained), 200
        ),
        "seed: seal (AES-GCM, HKDF)": per_call(lambda: seed_seal.seal(secret, b"\x02" * 32, "c" * 64), 2000),
        "seed: open": per_call(lambda: seed_seal.open_sealed(secret, sealed, "c" * 64), 2000),
    }
    for name, ms in figures.items():
        print(f"{name:45s} {ms:8.3f} ms")


if __name__ == "__main__":
    main()
