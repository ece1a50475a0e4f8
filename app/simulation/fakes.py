"""Fake-identity bots: what a flood of invented entries does to real applicants' chance per draw.

A lottery stops bots from capturing slots, not from diluting the pool: without verification every invented
document number and birth date is one more entry, so real applicants' chance per draw falls in proportion to
the flood, and every slot a fake wins expires unanswered and comes back days later. Under
``entry_verification: "phone"`` a fake enters only once a real French mobile typed back its code: a bot
operator holding ``phones`` numbers verifies at most ``max_requests_per_phone`` requests per number (the
other fakes lapse at ``verify_by``, having entered no draw).

The race is the draw's own (each entry's key is an exponential of rate its weight, the smallest keys win:
Efraimidis-Spirakis), run ``trials`` times with numpy; real applicants carry the weights the shipped
scenario gives them (a share of them urgent), fakes weight 1 (a fake that also declares urgency is a claim,
checked at the desk: ``fairslot simulate``'s main table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.domain.verification import DEFAULT_MAX_REQUESTS_PER_PHONE

MULTIPLES = (10, 100, 1000)
#: SIM cards a bot operator is assumed to hold for one service (each SIM costs money and an identity check
#: at purchase in France): generous on purpose.
BOT_PHONES = 200


@dataclass(frozen=True)
class Point:
    """One flood size, with and without verification."""

    multiple: int
    real: int
    fakes: int
    slots: int
    fakes_entered_verified: int
    chance_without: float
    #: The same without the noise of a few runs: ``slots x mean real weight / total weight`` (the race's
    #: chance when slots are few against the entries, as they are under a flood).
    chance_without_expected: float
    chance_with: float
    chance_no_flood: float
    slots_to_fakes_without: float
    slots_to_fakes_with: float

    def as_dict(self) -> dict[str, float | int]:
        """JSON-ready."""
        return dict(vars(self))


def _race(
    real_weights: np.ndarray, fakes: int, slots: int, trials: int, rng: np.random.Generator
) -> tuple[float, float]:
    """(chance of a real applicant to win a slot in one draw, share of slots fakes win), measured."""
    total = len(real_weights) + fakes
    take = min(slots, total)
    real_wins = 0.0
    fake_wins = 0.0
    weights = np.concatenate([real_weights, np.ones(fakes)])
    for _ in range(trials):
        keys = rng.exponential(size=total) / weights
        winners = np.argpartition(keys, take - 1)[:take]
        won_real = int(np.count_nonzero(winners < len(real_weights)))
        real_wins += won_real
        fake_wins += take - won_real
    return real_wins / (trials * len(real_weights)), fake_wins / (trials * take)


def run(
    *,
    real: int,
    slots: int,
    seed: int,
    urgent_share: float = 0.3,
    multiples: tuple[int, ...] = MULTIPLES,
    phones: int = BOT_PHONES,
    max_requests_per_phone: int = DEFAULT_MAX_REQUESTS_PER_PHONE,
    trials: int = 20,
) -> list[Point]:
    """Real applicants' chance per draw against ``multiple`` x ``real`` fakes, with and without verification."""
    rng = np.random.default_rng(seed)
    real_weights = np.where(rng.random(real) < urgent_share, 4.0, 1.0)
    baseline, _ = _race(real_weights, 0, slots, trials, rng)
    points = []
    for multiple in multiples:
        fakes = multiple * real
        verified_fakes = min(fakes, phones * max_requests_per_phone)
        without, to_fakes_without = _race(real_weights, fakes, slots, trials, rng)
        expected = slots * float(real_weights.mean()) / (float(real_weights.sum()) + fakes)
        with_check, to_fakes_with = _race(real_weights, verified_fakes, slots, trials, rng)
        points.append(
            Point(
                multiple=multiple,
                real=real,
                fakes=fakes,
                slots=slots,
                fakes_entered_verified=verified_fakes,
                chance_without=round(without, 6),
                chance_without_expected=round(expected, 6),
                chance_with=round(with_check, 6),
                chance_no_flood=round(baseline, 6),
                slots_to_fakes_without=round(to_fakes_without, 4),
                slots_to_fakes_with=round(to_fakes_with, 4),
            )
        )
    return points


VERIFICATIONS = ("none", "phone", "registry")


def by_verification(
    *,
    real: int,
    slots: int,
    seed: int,
    multiples: tuple[int, ...] = MULTIPLES,
    phones: int = BOT_PHONES,
    max_requests_per_phone: int = DEFAULT_MAX_REQUESTS_PER_PHONE,
    trials: int = 20,
) -> list[dict[str, float | int | str]]:
    """``summary.json``'s ``fake_identities``: real applicants' chance per draw under each entry verification.

    ``none``: every invented identity enters; ``phone``: at most ``phones x max_requests_per_phone`` do;
    ``registry`` (renewals): only identities matched to the permit registry import enter, so none does.
    """
    rng = np.random.default_rng(seed)
    real_weights = np.where(rng.random(real) < 0.3, 4.0, 1.0)
    baseline, _ = _race(real_weights, 0, slots, trials, rng)
    rows: list[dict[str, float | int | str]] = []
    for multiple in multiples:
        fakes = multiple * real
        entered = {"none": fakes, "phone": min(fakes, phones * max_requests_per_phone), "registry": 0}
        for verification in VERIFICATIONS:
            chance, share = _race(real_weights, entered[verification], slots, trials, rng)
            rows.append(
                {
                    "fake_multiple": multiple,
                    "verification": verification,
                    "real_chance": round(chance, 6),
                    "baseline_chance": round(baseline, 6),
                    "fake_share": round(share, 4),
                    "fakes_entered": entered[verification],
                }
            )
    return rows
