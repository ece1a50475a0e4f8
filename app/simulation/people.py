"""Simulated people: what an applicant is, and the kinds that adjust a freshly drawn honest one.

A kind is a function of a person, its ``[agents.<kind>]`` parameters and the seed's generator; ``KINDS`` is
the registry the scenario's tables name. New kinds (e.g. bots filing under invented identities) are one
function and one registry line.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

URGENT_DAYS = 60  # "urgent": the permit expires within this many days of arrival


@dataclass
class Person:
    """One applicant; days count from the scenario's start (day 0)."""

    pid: int
    arrival_day: int
    #: The real permit expiry day, None for a first application (no permit yet).
    expiry_day: int | None
    #: The expiry day declared at intake (a false claimant's is earlier than the real one).
    declared_expiry_day: int | None
    vulnerable: bool
    no_show_probability: float
    poll_seconds: float
    value_of_time_eur_per_day: float
    knows_reseller: bool
    #: Identity documents held: two for a passport and a residence permit.
    documents: int = 1
    #: Submissions per draw where nothing binds them to one identity (a bot files many).
    unbound_entries: int = 1
    kinds: frozenset[str] = field(default_factory=frozenset)
    #: The day they stop seeking an appointment here if they have none by then (None: never).
    leave_day: int | None = None

    @property
    def urgent(self) -> bool:
        """Whether the real permit expires within URGENT_DAYS of arrival (or has already expired)."""
        return self.expiry_day is not None and self.expiry_day - self.arrival_day <= URGENT_DAYS

    @property
    def false_claim(self) -> bool:
        """Whether the declared expiry is earlier than the real one (a false urgency claim)."""
        return self.declared_expiry_day is not None and (
            self.expiry_day is None or self.declared_expiry_day < self.expiry_day
        )

    def willingness_to_pay(self, day: int, premium: float) -> float:
        """What a slot now is worth to them, in EUR: a month of waiting, more when the permit is near expiry."""
        value = self.value_of_time_eur_per_day * 30
        if self.expiry_day is not None and self.expiry_day - day <= URGENT_DAYS:
            value *= premium
        return value

    def band(self) -> str:
        """The urgency band of the real permit at arrival (for the plots)."""
        if self.expiry_day is None:
            return "no permit"
        left = self.expiry_day - self.arrival_day
        if left <= 30:
            return "≤30 days"
        if left <= 60:
            return "31-60 days"
        if left <= 90:
            return "61-90 days"
        return ">90 days"


BANDS = ("≤30 days", "31-60 days", "61-90 days", ">90 days", "no permit")

Kind = Callable[[Person, Mapping[str, Any], random.Random], None]


def false_urgency(person: Person, params: Mapping[str, Any], rng: random.Random) -> None:
    """Declares a permit expiring within ``declared_days`` while the real one is far off (or absent)."""
    declared = int(params.get("declared_days", 20))
    if person.expiry_day is not None and person.expiry_day - person.arrival_day <= declared:
        person.expiry_day = person.arrival_day + declared + 1 + rng.randrange(180)
    person.declared_expiry_day = person.arrival_day + declared


def two_documents(person: Person, params: Mapping[str, Any], rng: random.Random) -> None:
    """Holds a passport and a residence permit, and files with both."""
    person.documents = 2


def bot_user(person: Person, params: Mapping[str, Any], rng: random.Random) -> None:
    """Pays for a booking bot: reloads every few seconds and submits many times."""
    person.poll_seconds = float(params.get("poll_seconds", 5))
    person.unbound_entries = int(params.get("entries", 20))


KINDS: dict[str, Kind] = {
    "false_urgency": false_urgency,
    "two_documents": two_documents,
    "bot_user": bot_user,
}
