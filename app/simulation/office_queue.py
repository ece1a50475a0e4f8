"""One office's queue under Fairslot, from plain figures: the entry point the capacity advice calls.

Given today's backlog, the weekly inflow and a weekly capacity, build the scenario the market engine
(:mod:`app.simulation.market`) runs and the population it faces (:func:`app.simulation.agents.population`),
run the ``fairslot`` mechanism once, and hand back when each applicant arrived and when they were seen. The
queue is honest applicants only (no resellers, no bots, no false claims): the question is how much capacity
the real demand needs, not what fraud costs. Everything else (weights, re-draws of returned slots,
no-shows, confirm or release, the service's own weight policy) is the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from app.simulation import agents, market
from app.simulation.people import URGENT_DAYS
from app.simulation.scenario import Applicants, Market, Resellers, Scenario

#: Of the applicants holding a permit, the engine's default share with none (first applications).
_NO_PERMIT = Applicants().no_permit_share


@dataclass(frozen=True)
class QueueRun:
    """Per applicant, in the engine's days from the first release (day 0): arrival and appointment seen
    (None: not seen by the end of the run)."""

    arrivals: tuple[int, ...]
    seen: tuple[int | None, ...]
    #: The last day the run covers (appointments of its last release included).
    end_day: int


def _applicants(urgent_share: float) -> Applicants:
    """Applicants whose declared expiry dates make ``urgent_share`` of them urgent (within 60 days)."""
    base = replace(Applicants(), reseller_reach=0.0)
    if urgent_share <= 0:
        return replace(base, no_permit_share=1.0)
    holders = 1 - _NO_PERMIT
    if urgent_share >= holders:  # more urgent than the default share of permit holders: all of them are
        return replace(base, no_permit_share=1 - urgent_share, expiry_days=(0, URGENT_DAYS))
    return replace(base, expiry_days=(0, round(URGENT_DAYS * holders / urgent_share)))


def run_office_queue(
    *,
    backlog: int,
    inflow_per_week: float,
    slots_per_week: int,
    weeks: int,
    urgent_share: float,
    policy: Mapping[str, Any] | None,
    seed: int,
) -> QueueRun:
    """One run of ``weeks`` weekly releases of ``slots_per_week`` slots (at least 1), ``backlog`` people
    waiting at the start and ``inflow_per_week`` new ones a week, under the service's ``policy``."""
    capacity = max(1, slots_per_week)
    scenario = Scenario(
        market=Market(
            weeks=weeks,
            slots_per_week=capacity,
            oversubscription=backlog / capacity,
            arrivals_per_slot=inflow_per_week / capacity,
        ),
        applicants=_applicants(urgent_share),
        agents={},
        resellers=replace(Resellers(), count=0),
        policy=dict(policy or {}),
        name="office-queue",
    )
    people = agents.population(scenario, seed)
    result = market.run("fairslot", scenario, people, seed)
    return QueueRun(
        arrivals=tuple(p.arrival_day for p in people),
        seen=tuple(result.outcomes[p.pid].attended_day for p in people),
        end_day=result.end_day,
    )
