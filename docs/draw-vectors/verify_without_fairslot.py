"""Recompute a Fairslot draw record without Fairslot: the specification in one file of standard Python.

    python verify_without_fairslot.py RECORD.json

It recomputes every rank, outcome and slot of a ``fairslot-draw-v1`` or ``fairslot-draw-v2`` record from the
record alone, and for v2 checks the beacon: the round is the first of its chain at or after ``draw_at``, the
beacon is ``sha256(signature)``, and the chain is a League of Entropy chain (its key, period and genesis as
drand publishes them) or a local chain whose hash matches its own key. The BLS signature is checked when the
``drand-verify`` package (quicknet, mainnet) or ``blspy`` (a local chain) is installed; otherwise the script
says so, and you compare the signature with any drand relay (``/{chain_hash}/public/{round}``).

Exit 0 when everything checks, 1 with the differences otherwise. It trusts nothing the record claims about
its results: ranks, outcomes and slots are recomputed and compared.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from datetime import UTC, date, datetime

#: The League of Entropy's chains, as their relays' /info publish them.
LEAGUE = {
    "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971": {
        "name": "quicknet",
        "scheme": "bls-unchained-g1-rfc9380",
        "public_key": "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d"
        "1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
        "period": 3,
        "genesis_time": 1692803367,
    },
    "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce": {
        "name": "mainnet",
        "scheme": "pedersen-bls-chained",
        "public_key": "868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a569937c529eeda66c7293784a9402801af31",
        "period": 30,
        "genesis_time": 1595431050,
    },
}


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.utcoffset() is None:
        raise ValueError(f"{text} has no UTC offset")
    return moment


def allows(availability: dict, day: date) -> bool:
    """Whether a slot on this local day fits an entry's window and weekdays."""
    earliest, latest, weekdays = availability["earliest"], availability["latest"], availability["weekdays"]
    return (
        (earliest is None or date.fromisoformat(earliest) <= day)
        and (latest is None or day <= date.fromisoformat(latest))
        and (weekdays is None or day.isoweekday() in weekdays)
    )


def recompute(record: dict) -> dict[str, tuple[int, str, str | None]]:
    """Every entry's (rank, outcome, slot), computed from the record's inputs as the specification says."""
    seed = bytes.fromhex(record["seed"])
    randomness = hashlib.sha256(seed + record["beacon"].encode("utf-8")).digest()

    def key(entry: dict) -> tuple[float, str]:
        digest = hashlib.sha256(randomness + entry["entry"].encode("utf-8")).digest()
        u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
        return -math.log(u) / float(entry["weight"]), entry["entry"]

    ranked = sorted(record["entries"], key=key)
    # Slots in (starts_at, slot) order: start times compared as instants, slot ids as strings.
    free = sorted(record["slots"], key=lambda s: (parse_time(s["starts_at"]).astimezone(UTC), s["slot"]))
    results = {}
    for rank, entry in enumerate(ranked, 1):
        if not free:
            results[entry["entry"]] = (rank, "not_selected", None)
            continue
        fitting = next(
            (s for s in free if allows(entry["availability"], parse_time(s["starts_at"]).date())), None
        )
        if fitting is None:
            results[entry["entry"]] = (rank, "no_compatible_slot", None)
        else:
            free.remove(fitting)
            results[entry["entry"]] = (rank, "offered", fitting["slot"])
    return results


def check_signature(
    scheme: str, public_key: str, round_number: int, signature: str, previous: str | None
) -> str:
    """'verified', or why the BLS signature was not checked here (raises on a signature that fails)."""
    try:
        if scheme == "bls-unchained-g1-rfc9380":
            import drand_verify

            drand_verify.verify_bls_unchained_g1_rfc9380(round_number, signature, public_key)
        elif scheme == "pedersen-bls-chained":
            import drand_verify

            drand_verify.verify_pedersen_bls_chained(round_number, previous or "", signature, public_key)
        elif scheme == "pedersen-bls-unchained":
            import blspy

            message = hashlib.sha256(round_number.to_bytes(8, "big")).digest()
            key = blspy.G1Element.from_bytes(bytes.fromhex(public_key))
            point = blspy.G2Element.from_bytes(bytes.fromhex(signature))
            if not blspy.BasicSchemeMPL.verify(key, message, point):
                raise ValueError("signature does not verify")
        else:
            return f"not checked: unknown scheme {scheme}"
    except ImportError as exc:
        return f"not checked here ({exc.name} is not installed): compare it with a drand relay"
    except BaseException as exc:  # drand_verify raises a PanicException (a BaseException) on a bad point
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError(f"round {round_number}: the BLS signature does not verify") from exc
    return "verified"


def check_beacon(record: dict, differences: list[str]) -> str:
    """The v2 checks; returns the trust the beacon earns: public, local or none."""
    source, proof = record["beacon_source"], record["beacon_proof"]
    if source.get("scheme") != "drand":
        differences.append("beacon_source is not a drand round")
        return "none"
    for name in ("chain_hash", "round"):
        if source[name] != proof[name]:
            differences.append(f"beacon_source and beacon_proof disagree on {name}")
    chain = LEAGUE.get(proof["chain_hash"])
    if chain is not None:
        trust = "public"
        for name in ("scheme", "public_key", "period", "genesis_time"):
            if proof[name] != chain[name]:
                differences.append(f"beacon_proof {name} is not {chain['name']}'s")
    else:
        trust = "local"
        chain = {name: proof[name] for name in ("scheme", "public_key", "period", "genesis_time")}
        canonical = json.dumps(chain, sort_keys=True, separators=(",", ":")).encode()
        if hashlib.sha256(canonical).hexdigest() != proof["chain_hash"]:
            differences.append("an unknown chain whose hash is not that of its own key, period and genesis")
    round_number = proof["round"]
    signature = proof["signature"]
    if record["beacon"] != hashlib.sha256(bytes.fromhex(signature)).hexdigest():
        differences.append("beacon is not sha256(signature) of the proven round")
    draw_at = parse_time(record["draw_at"]).timestamp()
    out_at = chain["genesis_time"] + (round_number - 1) * chain["period"]
    if out_at < draw_at:
        differences.append(f"round {round_number} came out before draw_at")
    elif round_number > 1 and out_at - chain["period"] >= draw_at:
        differences.append(f"round {round_number} is not the first round at or after draw_at")
    try:
        verdict = check_signature(
            chain["scheme"], chain["public_key"], round_number, signature, proof["previous_signature"]
        )
    except ValueError as exc:
        differences.append(str(exc))
        verdict = "refused"
    print(f"  beacon: round {round_number} of chain {proof['chain_hash'][:12]}..., signature {verdict}")
    return trust if not differences else "none"


def verify(record: dict) -> list[str]:
    differences: list[str] = []
    if hashlib.sha256(bytes.fromhex(record["seed"])).hexdigest() != record["seed_commitment"]:
        differences.append("sha256(seed) is not seed_commitment")
    trust = "none"
    if record["spec"] == "fairslot-draw-v2":
        trust = check_beacon(record, differences)
    elif record["spec"] != "fairslot-draw-v1":
        return [f"unknown spec {record['spec']}"]
    recorded = {e["entry"]: (e["rank"], e["outcome"], e["slot"]) for e in record["entries"]}
    if len(recorded) != len(record["entries"]):
        differences.append("an entry is listed twice")
    for name, computed in recompute(record).items():
        if recorded.get(name) != computed:
            differences.append(f"entry {name}: recorded {recorded.get(name)}, recomputed {computed}")
    print(f"  beacon trust: {trust}")
    return differences


def main(path: str) -> int:
    with open(path, encoding="utf-8") as file:
        record = json.load(file)
    try:
        differences = verify(record)
    except (KeyError, TypeError, ValueError) as exc:
        differences = [f"malformed record: {type(exc).__name__}: {exc}"]
    for difference in differences:
        print(f"  {difference}")
    verdict = "FAILED" if differences else "OK"
    print(
        f"{verdict} {record.get('spec')} release {record.get('release_id')}: {len(record.get('entries', []))} entries"
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
