"""The figures of a run, per mechanism, as ``summary.json`` publishes them.

- ``slots``: slots released (the same capacity under every mechanism);
- ``reseller_slots``: slots resellers handed over to a paying buyer; ``reseller_profit_eur``: their
  revenue minus their costs (bookings or entries, bots, adverts), all resellers together;
- ``expired_before_appointment_share``: of the applicants holding a permit, the share whose permit expired
  before their appointment (or before the end of the run, when they got none);
- ``urgent_served_share``: of the applicants whose permit expired within 60 days of applying, the share who
  were seen at the desk on or before its expiry;
- ``wait_days_p50``, ``wait_days_p95``: days from applying to the appointment attended (people seen only);
- ``false_claim_slots``: bookings won with a declared claim that the real document does not support;
- ``no_show_share``: missed appointments over appointments due;
- ``wasted_slots``: slots that passed with nobody seen (no-shows, forfeits, straw names, unfilled).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from app.simulation.market import Result
from app.simulation.people import BANDS

FIELDS = (
    "slots",
    "reseller_slots",
    "reseller_profit_eur",
    "expired_before_appointment_share",
    "urgent_served_share",
    "wait_days_p50",
    "wait_days_p95",
    "false_claim_slots",
    "no_show_share",
    "wasted_slots",
)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0-1) by the nearest-rank method; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return float(ordered[rank - 1])


def _share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def figures(result: Result) -> dict[str, Any]:
    """The published figures of one mechanism's run."""
    holders = expired = urgent = urgent_served = 0
    waits: list[float] = []
    no_shows = forfeits = false_wins = 0
    for person in result.people:
        outcome = result.outcomes[person.pid]
        no_shows += outcome.no_shows
        forfeits += outcome.forfeited
        false_wins += outcome.false_claim_wins
        seen = outcome.attended_day
        if seen is not None:
            waits.append(seen - person.arrival_day)
        if person.expiry_day is not None:
            holders += 1
            if (seen is not None and seen > person.expiry_day) or (
                seen is None and person.expiry_day <= result.end_day
            ):
                expired += 1
            if person.urgent:
                urgent += 1
                if seen is not None and seen <= person.expiry_day:
                    urgent_served += 1
    due = result.attended + no_shows + forfeits
    return {
        "slots": result.slots,
        "reseller_slots": result.reseller_slots,
        "reseller_profit_eur": round(result.reseller_profit_eur, 2),
        "expired_before_appointment_share": _share(expired, holders),
        "urgent_served_share": _share(urgent_served, urgent),
        "wait_days_p50": percentile(waits, 0.5),
        "wait_days_p95": percentile(waits, 0.95),
        "false_claim_slots": false_wins,
        "no_show_share": _share(no_shows, due),
        "wasted_slots": result.slots - result.attended,
    }


def slots_by_band(result: Result) -> dict[str, int]:
    """Appointments attended, by the urgency band of the real permit at application."""
    counts = dict.fromkeys(BANDS, 0)
    for person in result.people:
        if result.outcomes[person.pid].attended_day is not None:
            counts[person.band()] += 1
    return counts


def waits(result: Result) -> list[int]:
    """Days from applying to the appointment, for everyone seen."""
    return [
        day - p.arrival_day for p in result.people if (day := result.outcomes[p.pid].attended_day) is not None
    ]


def summary(scenario: dict[str, Any], results: Mapping[str, Result]) -> dict[str, Any]:
    """``summary.json``: the scenario and each mechanism's figures."""
    return {"scenario": scenario, "mechanisms": {name: figures(r) for name, r in results.items()}}


def best_strategy(result: Result) -> str:
    """The strategy that paid best over the run (resellers adapting): the one they converge on."""
    profits = result.strategy_profit_eur
    return max(profits, key=lambda s: (profits[s], result.strategy_weeks.get(s, 0))) if profits else ""


def best_response(result: Result) -> dict[str, Any]:
    """``best_response``'s entry for one mechanism: the best strategy and the resellers' total profit."""
    return {
        "strategy": best_strategy(result),
        "reseller_profit_eur": round(result.reseller_profit_eur, 2),
        "strategy_profit_eur": dict(result.strategy_profit_eur),
        "reseller_weeks": dict(result.strategy_weeks),
    }
