"""The desk's verdict on declared claims at check-in, as the simulation models it (pluggable).

A claim is checked when it raised the winning weight (its factor is above 1). The document shows the real
permit expiry date, so the verdict compares the factor the declared date earned in the draw with the one
the real date earns on the same day, with the project's own weight rules: lower means the claim was false,
and a refuted claim forfeits the booking and excludes the identity for ``false_claim_exclusion_days``.
The services' claims verification (at the desk, or before the draw) may replace this model: anything with
a ``verdict`` method of this shape fits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from app.domain.claims import ClaimKind, ClaimStatus
from app.domain.weights import Weight, WeightPolicy, compute_weight
from app.simulation.people import Person

CONFIRMED = "confirmed"
REFUTED = "refuted"
FALSE_CLAIM_EXCLUSION_DAYS = 180  # the design's default policy


class DeskCheck(Protocol):
    """Decides, at check-in, whether the claims behind a winning weight hold."""

    def verdict(
        self, *, person: Person, won_with: Weight, drawn_on: date, start: date, rng: random.Random
    ) -> str:
        """``confirmed`` or ``refuted``."""
        ...


class NoCheck:
    """Nobody checks anything: every claim stands."""

    def verdict(
        self, *, person: Person, won_with: Weight, drawn_on: date, start: date, rng: random.Random
    ) -> str:
        """Always confirmed."""
        return CONFIRMED


@dataclass(frozen=True)
class DocumentCheck:
    """The desk reads the permit: a declared expiry that earned more than the real one is refuted."""

    policy: WeightPolicy
    detection: float = 1.0

    def verdict(
        self, *, person: Person, won_with: Weight, drawn_on: date, start: date, rng: random.Random
    ) -> str:
        """Refuted (with probability ``detection``) when the real permit earns a lower expiry factor."""
        if overclaimed(self.policy, person, won_with, drawn_on, start) and rng.random() < self.detection:
            return REFUTED
        return CONFIRMED


def overclaimed(policy: WeightPolicy, person: Person, won_with: Weight, drawn_on: date, start: date) -> bool:
    """Whether the declared expiry earned a higher factor in the draw than the real permit earns that day."""
    declared = _factor(won_with, "expiry")
    if declared <= 1:
        return False
    real_expiry = None if person.expiry_day is None else start + timedelta(days=person.expiry_day)
    # The document in hand is the evidence: the real date's factor counts whatever the policy's verify_claims.
    shown: dict[str, str] = {ClaimKind.PERMIT_EXPIRY: ClaimStatus.CONFIRMED}
    real = _factor(
        compute_weight(policy=policy, on=drawn_on, permit_expires_on=real_expiry, claims=shown), "expiry"
    )
    return real < declared


def _factor(weight: Weight, name: str) -> float:
    return float(next(f.value for f in weight.factors if f.name == name))


def desk_for(verification: str, detection: float, policy: WeightPolicy) -> DeskCheck:
    """The desk a scenario asks for."""
    if verification == "off":
        return NoCheck()
    return DocumentCheck(policy=policy, detection=detection)
