"""The wait the aging factor guarantees, computed from the draws a run actually held.

After ``k = ceil((waiting_cap - 1) / waiting_step)`` lost draws (8 under the default policy) an entry's
waiting factor is at the cap (x3), so an applicant of base weight ``b`` weighs at least ``cap x b``. In a
draw of ``S`` slots and total weight ``W`` the exponential race picks one entry at a time with a chance
proportional to weight among those left, so the chance of being among the ``S`` winners is at least
``p = 1 - (1 - cap x b / W) ** S``. One release draw a week means an applicant still waiting has lost at
least ``k`` draws after ``k`` weeks; from then on, the chance of losing every release draw up to week ``n``
is at most the product of ``(1 - p)`` over those draws. The bound of an applicant is the appointment day
after the first release draw where that product falls to ``1 - quantile`` or below: by the aging factor
alone, at most that share of such applicants may still be waiting then.
"""

from __future__ import annotations

import math

from app.simulation.market import DrawStat, Result


def win_chance_floor(draw: DrawStat, weight: float) -> float:
    """The least chance of an entry of ``weight`` to be among a draw's winners."""
    return 1 - (1 - min(1.0, weight / draw.total_weight)) ** draw.slots


def draws_to_cap(result: Result) -> int:
    """Lost draws until the waiting factor reaches its cap."""
    policy = result.scenario.weight_policy()
    cap, step = float(policy.waiting_cap), float(policy.waiting_step)
    return math.ceil((cap - 1) / step) if step > 0 else 0


def bound_day(
    result: Result, arrival_day: int, *, base_weight: float = 1.0, quantile: float = 0.95
) -> int | None:
    """The day by which an applicant of ``base_weight`` arriving then is seen with chance >= ``quantile``.

    None when the run ends before the aging factor can promise that much.
    """
    cap = float(result.scenario.weight_policy().waiting_cap)
    releases = [d for d in result.draws if d.release and d.day > arrival_day]
    k = draws_to_cap(result)
    survival = 1.0
    for draw in releases[k:]:
        survival *= 1 - win_chance_floor(draw, cap * base_weight)
        if survival <= 1 - quantile:
            return draw.day + result.scenario.market.lead_days + 4
    return None
