"""The resellers' strategies, what a buyer pays for one, and the best-response dynamic that picks them.

Five strategies (the design's "Evidence"):

- ``straw_names``: book (first come) or enter (lotteries) under invented names, hand the slot over by
  cancel-and-rebook or with its confirmation; an invented name passes no verification;
- ``apply_for_buyer``: file in the buyer's own name with the reseller's fast bots: it helps only where speed
  wins a slot (first come, and Fairslot's returned slots when they go first come);
- ``forged_urgency``: sell forged expiry evidence; it helps only where urgency weighs, and only when the
  registry or the desk misses the forgery (``[desk] detection``);
- ``identity_rental``: people without need apply under their own, real identity and sell their booking;
- ``sim_farm``: invented identities verified through rented SIM cards (passes phone verification, never the
  registry).

A buyer pays at most what the purchase adds to their own chance of being seen in time
(:func:`added_chance`): filing alone is free and wins as often under a lottery, so a service that only
files buys nothing there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

STRATEGIES = ("straw_names", "apply_for_buyer", "forged_urgency", "identity_rental", "sim_farm")
#: "In time": the next four weekly releases (a month: what a buyer's willingness to pay is worth).
IN_TIME_RELEASES = 4
#: Strategies that hold a booking or entry under another identity and hand it over.
HAND_OVER = ("straw_names", "identity_rental", "sim_farm")


def added_chance(own: float, bought: float = 1.0, releases: int = IN_TIME_RELEASES) -> float:
    """What a purchase adds to the chance of being seen within ``releases`` releases.

    ``own``: the buyer's own chance per release without it; ``bought``: with it (1: a booking in hand).
    """
    own = min(max(own, 0.0), 1.0)
    bought = min(max(bought, 0.0), 1.0)
    return max(0.0, (1 - own) ** releases - (1 - bought) ** releases)


def enters(strategy: str, verification: str) -> bool:
    """Whether an entry of ``strategy`` enters draws under a service's ``entry_verification``."""
    if strategy == "identity_rental":
        return True  # a real person, with a real phone and (renewals) a real registry row
    if strategy == "sim_farm":
        return verification in ("none", "phone")
    return verification == "none"


@dataclass
class BestResponse:
    """Each reseller plays, each week, the strategy that paid best so far (average weekly profit).

    Untried strategies are tried first, one week each, in ``strategies`` order; once every strategy has
    been tried and none paid (average weekly profit at most 0), the reseller stops for good. With
    ``fixed`` set, every reseller plays that strategy alone and stops after ``give_up_after_weeks`` weeks
    without a sale (the rule of the fixed-strategy runs, first come included).
    """

    count: int
    strategies: tuple[str, ...] = STRATEGIES
    fixed: str | None = None
    give_up_after_weeks: int = 4
    profit: dict[tuple[int, str], float] = field(default_factory=lambda: defaultdict(float))
    weeks: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    stopped: set[int] = field(default_factory=set)
    last_sale: dict[int, int] = field(default_factory=dict)
    playing: dict[int, str] = field(default_factory=dict)

    def choose(self, rid: int, day: int) -> str | None:
        """The strategy reseller ``rid`` plays the week starting ``day`` (None: it stopped)."""
        if rid in self.stopped:
            return None
        if self.fixed is not None:
            if day - self.last_sale.get(rid, 0) > 7 * self.give_up_after_weeks:
                self.stopped.add(rid)
                return None
            chosen = self.fixed
        else:
            untried = [s for s in self.strategies if self.weeks[rid, s] == 0]
            if untried:
                chosen = untried[0]
            else:
                chosen = max(self.strategies, key=lambda s: (self.average(rid, s), -self.strategies.index(s)))
                if self.average(rid, chosen) <= 0:
                    self.stopped.add(rid)
                    return None
        self.weeks[rid, chosen] += 1
        self.playing[rid] = chosen
        return chosen

    def average(self, rid: int, strategy: str) -> float:
        """Average weekly profit of ``strategy`` for ``rid`` so far."""
        weeks = self.weeks[rid, strategy]
        return self.profit[rid, strategy] / weeks if weeks else 0.0

    def earn(self, rid: int, strategy: str, amount: float, day: int) -> None:
        """Revenue (positive) booked to the strategy that produced it."""
        self.profit[rid, strategy] += amount
        self.last_sale[rid] = day

    def spend(self, rid: int, strategy: str, amount: float) -> None:
        """A cost booked to the strategy that incurred it."""
        self.profit[rid, strategy] -= amount

    def by_strategy(self) -> dict[str, float]:
        """Profit per strategy, all resellers together."""
        totals = dict.fromkeys(self.strategies, 0.0)
        for (_rid, strategy), amount in self.profit.items():
            totals[strategy] = totals.get(strategy, 0.0) + amount
        return totals

    def reseller_weeks(self) -> dict[str, int]:
        """Reseller-weeks each strategy was played."""
        totals = dict.fromkeys(self.strategies, 0)
        for (_rid, strategy), weeks in self.weeks.items():
            totals[strategy] = totals.get(strategy, 0) + weeks
        return totals
