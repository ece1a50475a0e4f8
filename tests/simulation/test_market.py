"""The market simulation's properties, on quick scenarios (the default one, fewer weeks and slots).

Each property is asserted together with a contrast showing that the assertion can fail: the same figure
under a mechanism or setting where it does not hold.
"""

from __future__ import annotations

import dataclasses
from functools import cache

import pytest

from app.simulation import agents, bounds, market, scenario, summary
from app.simulation.market import Result

pytestmark = pytest.mark.slow  # whole simulated markets, seconds each

SEEDS = (1, 2)


def quick(**market: object) -> scenario.Scenario:
    """The default scenario with 10 weekly releases of 40 slots (overridable), 10x oversubscribed."""
    base = scenario.load()
    values = {"weeks": 10, "slots_per_week": 40, **market}
    return dataclasses.replace(base, market=dataclasses.replace(base.market, **values))  # type: ignore[arg-type]


#: Steeper expiry factors than the default policy's x4/x3/x2 (a service's ``weight_policy`` override).
STEEP = {
    "expiry_bands": [
        {"within_days": 30, "multiplier": 40},
        {"within_days": 60, "multiplier": 20},
        {"within_days": 90, "multiplier": 5},
    ]
}


@cache
def _run(seed: int, desk: str = "at_desk", steep: bool = False, **market: object) -> dict[str, Result]:
    chosen = quick(**market)
    chosen = dataclasses.replace(
        chosen, desk=dataclasses.replace(chosen.desk, verification=desk), policy=STEEP if steep else {}
    )
    return market_runs(chosen, seed)


def market_runs(chosen: scenario.Scenario, seed: int) -> dict[str, Result]:
    return market.run_all(chosen, agents.population(chosen, seed), seed)


@pytest.mark.parametrize("seed", SEEDS)
def test_under_fairslot_resellers_hand_over_no_slot_and_make_no_profit(seed: int) -> None:
    results = _run(seed)
    fairslot = summary.figures(results["fairslot"])
    assert results["fairslot"].reseller_held > 0  # they did try: straw names won offers
    assert fairslot["reseller_slots"] == 0
    assert fairslot["reseller_profit_eur"] <= 0
    # Under first come the same resellers hand slots over and profit.
    fcfs = summary.figures(results["fcfs"])
    assert fcfs["reseller_slots"] > 0
    assert fcfs["reseller_profit_eur"] > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_at_10x_fairslot_lets_fewer_permits_expire_and_sees_more_urgent_applicants_than_first_come(
    seed: int,
) -> None:
    figures = {name: summary.figures(r) for name, r in _run(seed).items()}
    assert (
        figures["fairslot"]["expired_before_appointment_share"]
        < (figures["fcfs"]["expired_before_appointment_share"])
    )
    assert figures["fairslot"]["urgent_served_share"] > figures["fcfs"]["urgent_served_share"]


@pytest.mark.xfail(
    strict=True,
    reason="not what the engine shows: at 10x, with the default weight policy (expiry x4 against a x3 "
    "waiting cap, x4 kept once expired) and claims checked at the desk, Fairslot's expired share is "
    "about 0.75-0.9 of first come's, not at most half (see README, Evidence, and the next test)",
)
@pytest.mark.parametrize("seed", SEEDS)
def test_at_10x_the_expired_before_appointment_share_is_at_most_half_of_first_comes(seed: int) -> None:
    figures = {name: summary.figures(r) for name, r in _run(seed).items()}
    assert figures["fairslot"]["expired_before_appointment_share"] <= (
        0.5 * figures["fcfs"]["expired_before_appointment_share"]
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_with_claims_verified_before_the_draw_and_steeper_expiry_factors_expiries_are_halved(
    seed: int,
) -> None:
    figures = {name: summary.figures(r) for name, r in _run(seed, desk="before_draw", steep=True).items()}
    assert figures["fairslot"]["expired_before_appointment_share"] <= (
        0.5 * figures["fcfs"]["expired_before_appointment_share"]
    )


def _attended_share(result: Result, people: list[agents.Person]) -> float:
    assert people
    return sum(1 for p in people if result.outcomes[p.pid].attended_day is not None) / len(people)


def _false_and_honest_non_urgent(result: Result) -> tuple[list[agents.Person], list[agents.Person]]:
    false = [p for p in result.people if p.false_claim]
    honest = [p for p in result.people if not p.kinds and not p.urgent and not p.vulnerable]
    return false, honest


@pytest.mark.parametrize("seed", SEEDS)
def test_with_desk_verification_false_claimants_are_seen_no_more_than_honest_non_urgent_applicants(
    seed: int,
) -> None:
    result = _run(seed)["fairslot"]
    false, honest = _false_and_honest_non_urgent(result)
    assert _attended_share(result, false) <= _attended_share(result, honest)
    figures = summary.figures(result)
    forfeited = sum(o.forfeited for o in result.outcomes.values())
    assert figures["false_claim_slots"] > 0 and forfeited > 0  # they won slots with the claim...
    no_shows = sum(o.no_shows for o in result.outcomes.values())
    # ...and each forfeited slot passed unused: it is counted as wasted.
    assert figures["wasted_slots"] >= forfeited + no_shows
    assert figures["wasted_slots"] == result.slots - result.attended
    # Without the desk's check, the same lie pays.
    unchecked = _run(seed, desk="off")["fairslot"]
    false, honest = _false_and_honest_non_urgent(unchecked)
    assert _attended_share(unchecked, false) > _attended_share(unchecked, honest)


@pytest.mark.parametrize("seed", SEEDS)
def test_waits_of_base_weight_applicants_stay_under_the_bound_the_aging_factor_implies(seed: int) -> None:
    # A queue that drains (capacity above the inflow) over 30 weeks, so that the bound falls inside the run.
    result = _run(seed, weeks=30, oversubscription=3.0, arrivals_per_slot=0.7)["fairslot"]
    checked = late = 0
    for person in result.people:
        base_weight_one = person.expiry_day is None or person.expiry_day - person.arrival_day > 400
        if person.kinds or person.vulnerable or not base_weight_one or result.outcomes[person.pid].no_shows:
            continue
        day = bounds.bound_day(result, person.arrival_day, quantile=0.95)
        if day is None or day > result.end_day:
            continue
        checked += 1
        seen = result.outcomes[person.pid].attended_day
        late += seen is None or seen > day
    assert checked >= 50
    assert late <= 0.05 * checked


def test_the_same_seed_gives_the_same_figures_and_another_seed_other_figures() -> None:
    chosen = quick(weeks=4)
    first = summary.summary({}, market_runs(chosen, 7))
    assert summary.summary({}, market_runs(chosen, 7)) == first
    assert summary.summary({}, market_runs(chosen, 8)) != first


def test_every_mechanism_gets_the_same_capacity_and_people() -> None:
    results = _run(1)
    assert len({r.slots for r in results.values()}) == 1
    assert len({id(r.people) for r in results.values()}) == 1
    assert all(r.attended <= r.slots for r in results.values())


def test_a_scenario_with_an_unknown_key_or_kind_is_refused() -> None:
    with pytest.raises(scenario.ScenarioError, match="market: unknown key"):
        scenario.parse({"market": {"wekks": 3}})
    with pytest.raises(scenario.ScenarioError, match=r"agents\.robots"):
        scenario.parse({"agents": {"robots": {"share": 0.1}}})
    with pytest.raises(scenario.ScenarioError, match="policy"):
        scenario.parse({"policy": {"vulnerabilty": 2}})
    with pytest.raises(scenario.ScenarioError, match=r"desk\.verification"):
        scenario.parse({"desk": {"verification": "sometimes"}})
