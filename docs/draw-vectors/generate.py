"""Write the draw test vectors of this folder with Fairslot's own draw code.

Run from the repository root: ``python docs/draw-vectors/generate.py``. The output is the same every time:
seeds are sha256 of each vector's name, the local chain's key comes from a fixed phrase, and the public
rounds are published drand rounds (see README.md here for where each comes from). The records are computed
by ``app.domain.draws`` exactly as a production draw computes and publishes them; only the inputs are
chosen, to reach the corners an independent verifier must get right.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from app.domain.draws import beacon, draw_record, lottery, lottery_fast

HERE = Path(__file__).parent
PARIS = ZoneInfo("Europe/Paris")
#: The alphabet of entry references (no 0/O, no 1/I), as intake draws them.
ENTRY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: quicknet round 12040883 and its signature, from drand's tlock repository (tlock_test.go).
QUICKNET_ROUND = 12040883
QUICKNET_SIGNATURE = (
    "929906c959032ab363c9f26570d215d66f5c06cb0c44fe508c12bb5839f04ec895bb6868e5b9ff13ab289bdb5266b394"
)
#: League of Entropy mainnet round 2634945, from drand's own repository (crypto/schemes_test.go).
MAINNET_ROUND = 2634945
MAINNET_SIGNATURE = (
    "814778ed1e480406beb43b74af71ce2f0373e0ea1bfdfea8f9ed62c876c20fcbc7f0163860e3da42ed2148756015f455"
    "1451898ffe06d384b4d002245025571b6b7a752f7158b40ad92b13b6d703ad31922a617f2c7f6d960b84d56cf1d79eef"
)
MAINNET_PREVIOUS_SIGNATURE = (
    "8bd96294383b4d1e04e736360bd7a487f9f409f1e7bd800b720656a310d577b3bdb1e1631af6c5782a1d8979c502f395"
    "036181eff4058960fc40bb7034cdae1991d3eda518ab204a077d2f7e724974cf87b407e549bd815cf0b8e5a3832f675d"
)


def seed_of(name: str) -> bytes:
    """A vector's seed: sha256 of its name, so nobody picked it for its outcome."""
    return hashlib.sha256(f"fairslot draw vector {name}".encode()).digest()


def references(name: str, count: int) -> list[str]:
    """``count`` entry references in intake's format, the same for the same name."""
    rng = random.Random(name)
    made: list[str] = []
    while len(made) < count:
        chars = "".join(rng.choice(ENTRY_ALPHABET) for _ in range(10))
        reference = f"FS-{chars[:5]}-{chars[5:]}"
        if reference not in made:
            made.append(reference)
    return made


def at(text: str, zone: ZoneInfo = PARIS) -> datetime:
    """A local wall-clock time in the office's zone (``fold=1`` picks the second of a repeated hour)."""
    fold = 1 if text.endswith("#2") else 0
    return datetime.fromisoformat(text.removesuffix("#2")).replace(tzinfo=zone, fold=fold)


def slot(slot_id: str, local: str) -> lottery.DrawSlot:
    """A slot at a local time of the office, written with the UTC offset it has that day."""
    moment = at(local)
    offset = moment.utcoffset()
    assert offset is not None
    return lottery.DrawSlot(slot_id, moment.astimezone(timezone(offset)))


def window(earliest: str | None = None, latest: str | None = None, weekdays: set[int] | None = None) -> Any:
    return lottery.Availability(
        earliest=None if earliest is None else date.fromisoformat(earliest),
        latest=None if latest is None else date.fromisoformat(latest),
        weekdays=None if weekdays is None else frozenset(weekdays),
    )


def record(
    *,
    name: str,
    release_id: int,
    office: str,
    service: str,
    draw_at: datetime,
    drawn_at: datetime,
    beacon_text: str,
    slots: list[lottery.DrawSlot],
    entries: list[lottery.DrawEntry],
    source: dict[str, Any] | None = None,
    proof: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The published record: v1 as ``build_record`` writes it, v2 with its source and proof before the
    entries, in the order a production draw stores them."""
    seed = seed_of(name)
    results = lottery_fast.run_draw(seed=seed, beacon=beacon_text, entries=entries, slots=slots)
    assert results == lottery.run_draw(seed=seed, beacon=beacon_text, entries=entries, slots=slots)
    built = draw_record.build_record(
        release_id=release_id,
        office=office,
        service=service,
        draw_at=draw_at,
        drawn_at=drawn_at,
        seed=seed,
        beacon=beacon_text,
        slots=slots,
        entries=entries,
        results=results,
    )
    if source is None:
        return built
    rows = built.pop("entries")
    return {
        **built,
        "spec": draw_record.SPEC_V2,
        "beacon_source": source,
        "beacon_proof": proof,
        "entries": rows,
    }


def v1_availability() -> dict[str, Any]:
    """A v1 draw with a planner's beacon, availability windows and weekdays, parallel desks whose slot ids
    sort as strings ("100" before "98"), and the hour repeated when clocks go back (slots compared as
    instants, not wall-clock times)."""
    name = "v1-availability"
    slots = [
        slot("98", "2026-10-26T09:00"),  # Monday, three desks at one time
        slot("99", "2026-10-26T09:00"),
        slot("100", "2026-10-26T09:00"),
        slot("101", "2026-10-26T14:00"),
        slot("102", "2026-10-27T09:30"),  # Tuesday
        slot("103", "2026-10-28T09:00"),  # Wednesday
        slot("104", "2026-10-28T11:00"),
        slot("105", "2026-10-29T10:00"),  # Thursday
        slot("106", "2026-10-30T15:00"),  # Friday
        slot("107", "2026-10-24T10:00"),  # Saturday, still summer time (+02:00)
        slot("108", "2026-10-25T02:30"),  # Sunday 02:30 summer time: 00:30 UTC
        slot("109", "2026-10-25T02:15#2"),  # Sunday 02:15 winter time, after it: 01:15 UTC
    ]
    weights = [
        "1.0000",
        "1.2500",
        "1.5000",
        "2.0000",
        "3.0000",
        "4.0000",
        "6.0000",
        "0.5000",
        "2.2500",
        "100.0000",
    ]
    windows = [
        window(),
        window(weekdays={1, 3}),
        window(earliest="2026-10-28"),
        window(latest="2026-10-26"),
        window(earliest="2026-10-27", latest="2026-10-29", weekdays={2, 4}),
        window(weekdays={6, 7}),
        window(earliest="2026-11-02"),  # after every slot: no compatible slot
        window(weekdays={5}),
        window(earliest="2026-10-25", latest="2026-10-25"),
        window(weekdays={2}),
    ]
    refs = references(name, 26)
    entries = [
        lottery.DrawEntry(ref, Decimal(weights[i % len(weights)]), windows[(i * 3) % len(windows)])
        for i, ref in enumerate(refs)
    ]
    return record(
        name=name,
        release_id=7,
        office="paris-cite",
        service="renewal",
        draw_at=slot("-", "2026-10-20T10:00").starts_at,
        drawn_at=datetime.fromisoformat("2026-10-20T08:00:02.518000+00:00"),
        beacon_text="Tirage public du 20 octobre — clôture CAC 40 : 8 123,45",
        slots=slots,
        entries=entries,
    )


def local_chain() -> tuple[beacon.Chain, bytes]:
    """A local chain (``pedersen-bls-unchained``) of a key derived from a fixed phrase."""
    secret = beacon.new_local_key(hashlib.sha256(b"fairslot draw vector local chain key").digest())
    return beacon.local_chain(secret, genesis_time=1790000000, period=3), secret


def v2_local() -> dict[str, Any]:
    """A v2 draw on a local chain: the proof verifies, but the chain is the service's own key."""
    name = "v2-local-chain"
    chain, secret = local_chain()
    draw_at = slot("-", "2026-12-07T10:00").starts_at
    round_number = chain.round_at(draw_at)
    published = beacon.sign_round(secret, round_number)
    slots = [slot(str(200 + i), f"2026-12-{14 + i // 3:02d}T{9 + 2 * (i % 3):02d}:00") for i in range(9)]
    refs = references(name, 18)
    weights = ["1.0000", "1.2500", "4.0000", "1.5000", "2.0000", "6.0000"]
    entries = [
        lottery.DrawEntry(
            ref, Decimal(weights[i % len(weights)]), window(weekdays={1, 2}) if i % 5 == 0 else window()
        )
        for i, ref in enumerate(refs)
    ]
    return record(
        name=name,
        release_id=12,
        office="bobigny",
        service="first-permit",
        draw_at=draw_at,
        drawn_at=chain.round_time(round_number) + timedelta(seconds=4, microseconds=211000),
        beacon_text=published.randomness,
        slots=slots,
        entries=entries,
        source=chain.source(round_number),
        proof=beacon.proof(chain, published),
    )


def v2_public(
    *,
    name: str,
    chain: beacon.Chain,
    published: beacon.Round,
    release_id: int,
    draw_at: datetime,
    monday: date,
) -> dict[str, Any]:
    """A v2 draw on a League of Entropy round (its signature as drand published it)."""
    randomness = beacon.verify_round(chain, published)
    assert chain.round_at(draw_at) == published.round
    days = [monday + timedelta(days=d) for d in range(5)]
    slots = [
        slot(str(300 + i), f"{days[i // 3].isoformat()}T{('09:00', '09:00', '14:30')[i % 3]}")
        for i in range(12)
    ]
    refs = references(name, 40)
    weights = ["1.0000", "1.2500", "1.5000", "1.7500", "2.0000", "3.0000", "4.0000", "6.0000", "0.5000"]
    entries = [
        lottery.DrawEntry(
            ref,
            Decimal(weights[(i * 7) % len(weights)]),
            window(earliest=days[2].isoformat())
            if i % 6 == 1
            else window(weekdays={4})
            if i % 9 == 4
            else window(),
        )
        for i, ref in enumerate(refs)
    ]
    return record(
        name=name,
        release_id=release_id,
        office="paris-cite",
        service="first-permit",
        draw_at=draw_at,
        drawn_at=chain.round_time(published.round) + timedelta(seconds=3, microseconds=412000),
        beacon_text=randomness,
        slots=slots,
        entries=entries,
        source=chain.source(published.round),
        proof=beacon.proof(chain, published),
    )


def v2_quicknet() -> dict[str, Any]:
    """quicknet round 12040883 is out at 2024-10-14 17:13:33 UTC: a draw announced for exactly that time
    (19:13:33 in Paris) fixes it, the round before coming 3 s earlier."""
    return v2_public(
        name="v2-quicknet",
        chain=beacon.QUICKNET,
        published=beacon.Round(QUICKNET_ROUND, QUICKNET_SIGNATURE),
        release_id=31,
        draw_at=slot("-", "2024-10-14T19:13:33").starts_at,
        monday=date(2024, 10, 21),
    )


def v2_mainnet() -> dict[str, Any]:
    """mainnet round 2634945 is out at 2023-01-23 13:09:30 UTC (chained scheme, with the previous
    signature in the proof); a draw announced for 14:09:10 in Paris fixes it."""
    return v2_public(
        name="v2-mainnet",
        chain=beacon.MAINNET,
        published=beacon.Round(MAINNET_ROUND, MAINNET_SIGNATURE, MAINNET_PREVIOUS_SIGNATURE),
        release_id=4,
        draw_at=slot("-", "2023-01-23T14:09:10").starts_at,
        monday=date(2023, 1, 30),
    )


VECTORS = {
    "v1-availability.json": v1_availability,
    "v2-local-chain.json": v2_local,
    "v2-quicknet.json": v2_quicknet,
    "v2-mainnet.json": v2_mainnet,
}


def write() -> None:
    for file_name, make in VECTORS.items():
        made = make()
        assert draw_record.verify_record(made) == [], file_name
        text = json.dumps(made, ensure_ascii=False, indent=2) + "\n"
        (HERE / file_name).write_text(text, encoding="utf-8")
        outcomes = sorted({e["outcome"] for e in made["entries"]})
        print(f"{file_name}: {len(made['entries'])} entries, {len(made['slots'])} slots, outcomes {outcomes}")


if __name__ == "__main__":
    write()
