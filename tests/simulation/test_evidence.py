"""The evidence that must survive a hostile reading, each finding with a contrast that fails the other way.

Small worlds (8 weekly releases of 30 slots) keep each test to a few seconds.
"""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from importlib import resources

import pytest

from app.simulation import agents, fakes, market, scenario, summary
from app.simulation.adversaries.strategies import STRATEGIES, BestResponse, added_chance, enters
from app.simulation.market import Result

pytestmark = pytest.mark.slow  # whole simulated markets, a second or two each


def small(**values: object) -> scenario.Scenario:
    base = scenario.load()
    market_values = {"weeks": 8, "slots_per_week": 30, **values}
    return dataclasses.replace(base, market=dataclasses.replace(base.market, **market_values))  # type: ignore[arg-type]


@cache
def _alone(mechanism: str, strategy: str, detection: float = 1.0, seed: int = 1) -> Result:
    chosen = small().with_desk(detection=detection)
    return market.run(mechanism, chosen, agents.population(chosen, seed), seed, strategy)


def _best_alone(mechanism: str) -> float:
    return max(_alone(mechanism, strategy).reseller_profit_eur for strategy in STRATEGIES)


def test_the_best_reseller_strategy_pays_under_first_come_and_first_come_returns_not_under_a_bound_lottery():
    assert _best_alone("fcfs") > 0
    assert _best_alone("fairslot_fcfs_returns") > 0  # the re-draw of returned slots is what stops them
    assert _best_alone("fairslot") <= 0
    assert _best_alone("batch") <= 0
    # Filing in the buyer's own name sells only where speed wins: first come, and first-come returns.
    assert _alone("fcfs", "apply_for_buyer").reseller_slots > 0
    assert _alone("fairslot_fcfs_returns", "apply_for_buyer").reseller_slots > 0
    assert _alone("fairslot", "apply_for_buyer").reseller_slots == 0


def test_the_best_response_dynamic_keeps_what_pays_and_stops_when_nothing_does():
    chosen = small()
    results = market.run_all(chosen, agents.population(chosen, 1), 1, ("fcfs", "fairslot"))
    fcfs, fairslot = results["fcfs"], results["fairslot"]
    best = summary.best_strategy(fcfs)
    assert fcfs.reseller_profit_eur > 0 and fcfs.strategy_profit_eur[best] > 0
    # Each strategy was tried once, then the best one played every remaining week (3 resellers).
    assert fcfs.strategy_weeks[best] > 3 and sum(fcfs.strategy_weeks.values()) == 3 * chosen.market.weeks
    # Under Fairslot nothing paid: after one week of each they stopped (five weeks each, not eight).
    assert fairslot.reseller_profit_eur < 0
    assert sum(fairslot.strategy_weeks.values()) == 3 * len(STRATEGIES)


def test_forged_urgency_pays_when_the_registry_misses_half_the_forgeries_and_not_when_it_catches_them():
    caught = _alone("fairslot", "forged_urgency", detection=1.0)
    missed = _alone("fairslot", "forged_urgency", detection=0.5)
    assert caught.reseller_slots == 0 and caught.reseller_profit_eur < 0
    assert missed.reseller_slots > 0 and missed.reseller_profit_eur > 0
    assert summary.figures(missed)["false_claim_slots"] > summary.figures(caught)["false_claim_slots"] == 0
    # Where urgency weighs nothing, a forged date is worth nothing even undetected.
    assert _alone("batch", "forged_urgency", detection=0.5).reseller_slots == 0


def test_the_batch_removes_resellers_but_not_expiries_which_fairslots_urgency_rules_reduce():
    chosen = small()
    results = market.run_all(chosen, agents.population(chosen, 1), 1, ("fcfs", "batch", "fairslot"))
    expired = {n: summary.figures(r)["expired_before_appointment_share"] for n, r in results.items()}
    assert results["batch"].reseller_slots == 0 < results["fcfs"].reseller_slots
    assert expired["batch"] >= 0.9 * expired["fcfs"]  # equal chances do not favour the urgent
    assert expired["fairslot"] < 0.5 * expired["batch"]


def test_first_come_resellers_stop_when_demand_is_low_and_profit_when_it_is_high():
    low = small(oversubscription=0.5)
    result = market.run("fcfs", low, agents.population(low, 1), 1)
    assert result.reseller_slots == 0 and result.reseller_profit_eur < 0
    # Every reseller tried each strategy once, then stopped: it costs them the exploration weeks only.
    assert sum(result.strategy_weeks.values()) == 3 * len(STRATEGIES)
    high = small(oversubscription=10.0)
    assert market.run("fcfs", high, agents.population(high, 1), 1).reseller_profit_eur > 0


def test_a_registry_only_service_lets_no_invented_identity_in_while_phone_verification_lets_some():
    rows = fakes.by_verification(real=300, slots=30, seed=1, multiples=(100,), phones=50, trials=10)
    chance = {r["verification"]: r for r in rows}
    assert chance["registry"]["fakes_entered"] == 0
    assert chance["registry"]["real_chance"] == chance["registry"]["baseline_chance"]
    assert chance["none"]["real_chance"] < chance["phone"]["real_chance"] < chance["registry"]["real_chance"]
    assert chance["phone"]["fake_share"] > 0
    assert enters("sim_farm", "phone") and not enters("sim_farm", "registry")
    assert enters("identity_rental", "registry")  # real people without need: the registry cannot tell


def test_a_buyer_pays_for_what_the_purchase_adds_to_their_chance_and_nothing_for_what_they_have_alone():
    assert added_chance(own=1.0) == 0  # a slot they would get anyway is worth nothing more
    assert added_chance(own=0.2, bought=0.2) == 0  # filing for them wins as often as filing alone
    assert added_chance(own=0.0) == 1
    assert 0 < added_chance(own=0.1, bought=0.5) < added_chance(own=0.1)


def test_a_reseller_playing_one_strategy_gives_up_after_weeks_without_a_sale():
    dynamic = BestResponse(count=1, fixed="straw_names", give_up_after_weeks=2)
    assert dynamic.choose(0, 0) == "straw_names"
    assert dynamic.choose(0, 14) == "straw_names"
    assert dynamic.choose(0, 21) is None
    with pytest.raises(scenario.ScenarioError, match="strategies"):
        scenario.parse({"resellers": {"strategies": ["bribes"]}})
    with pytest.raises(scenario.ScenarioError, match="rental_eur"):
        scenario.parse({"resellers": {"rental_eur": -1}})
    shipped = scenario.load()
    text = resources.files("app.simulation").joinpath(scenario.DEFAULT_SCENARIO).read_text(encoding="utf-8")
    cited = set(re.findall(r"\[src: (\w+)\]", text))
    assert cited and cited <= set(shipped.sources)  # every citation names a source the file lists


def test_the_simulation_draws_the_services_registry_only_policy_and_sim_farms_get_nothing_in():
    phone = small()
    registry = dataclasses.replace(phone, policy={**phone.policy, "entry_verification": "registry"})
    held = {}
    for name, chosen in (("phone", phone), ("registry", registry)):
        result = market.run("fairslot", chosen, agents.population(chosen, 1), 1, "sim_farm")
        held[name] = result.reseller_held
    assert (
        held["registry"] == 0 < held["phone"]
    )  # rented numbers verify invented identities, the registry not
