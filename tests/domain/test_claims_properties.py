"""Claims in weights: an unchecked claim never raises a weight where verification comes first, confirming
never lowers one, and a factor that rests on a claim names it."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given

from app.domain.weights import WeightPolicy, compute_weight
from tests.strategies import WeightCase, weight_cases


def weigh(case: WeightCase, **changes):
    case = replace(case, **changes)
    return compute_weight(
        policy=WeightPolicy.from_overrides(case.policy),
        on=case.on,
        permit_expires_on=case.permit_expires_on,
        vulnerabilities=case.vulnerabilities,
        draws_lost=case.draws_lost,
        last_no_show_on=case.last_no_show_on,
        claims=case.statuses,
        strict_vulnerability=case.strict,
    )


def undeclared(case: WeightCase) -> WeightCase:
    return replace(case, permit_expires_on=None, vulnerabilities=(), statuses={})


WITHOUT = {"permit_expiry": {"permit_expires_on": None}, "vulnerability": {"vulnerabilities": ()}}


@given(weight_cases(verify_claims="before_draw"))
def test_a_declared_but_unconfirmed_claim_never_raises_a_weight_under_before_draw(case: WeightCase) -> None:
    for kind, status in case.statuses.items():
        if status == "confirmed":
            continue
        others = {k: v for k, v in case.statuses.items() if k != kind}
        assert weigh(case).total <= weigh(case, statuses=others, **WITHOUT[kind]).total
    assert not set(weigh(case).unconfirmed_claims)


@given(weight_cases())
def test_confirming_a_claim_never_lowers_a_weight(case: WeightCase) -> None:
    for kind, status in case.statuses.items():
        if status == "declared":
            confirmed = {**case.statuses, kind: "confirmed"}
            assert weigh(case, statuses=confirmed).total >= weigh(case).total


@given(weight_cases())
def test_each_factor_resting_on_a_claim_names_it_and_a_refuted_one_counts_at_most_one(
    case: WeightCase,
) -> None:
    factors = {f.name: f for f in weigh(case).factors}
    assert factors["expiry"].claim == ("permit_expiry" if case.permit_expires_on else None)
    assert factors["vulnerability"].claim == ("vulnerability" if case.vulnerabilities else None)
    assert factors["waiting"].claim is None and factors["no_show"].claim is None
    for name, kind in (("expiry", "permit_expiry"), ("vulnerability", "vulnerability")):
        if case.statuses.get(kind) in ("refuted", "not_evidenced"):
            assert factors[name].value <= 1


@given(weight_cases(verify_claims="at_desk"))
def test_at_the_desk_a_declared_claim_counts_as_declared_unless_the_person_is_strict(
    case: WeightCase,
) -> None:
    declared = dict.fromkeys(case.statuses, "declared")
    counted = weigh(case, statuses=declared, strict=False)
    confirmed = weigh(case, statuses=dict.fromkeys(case.statuses, "confirmed"), strict=False)
    assert counted.total == confirmed.total
    assert set(counted.unconfirmed_claims) <= set(declared)
