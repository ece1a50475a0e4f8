"""``fairslot simulate``: run a scenario under the three mechanisms, write the summary and the plots."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.simulation import agents, fakes, market, plots, summary
from app.simulation.scenario import Scenario


@dataclass
class Outputs:
    """What a run wrote."""

    summary: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    #: Fake-identity bots flooding one draw of the scenario's size, with and without verification.
    fakes: list[fakes.Point] = field(default_factory=list)
    #: Real applicants in that draw.
    real: int = 0


def simulate(scenario: Scenario, seed: int) -> dict[str, market.Result]:
    """Every mechanism on the same people (drawn from ``seed``)."""
    people = agents.population(scenario, seed)
    return market.run_all(scenario, people, seed)


def scenario_header(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The ``scenario`` object of ``summary.json``: every parameter and the seed."""
    return {**scenario.as_dict(), "seed": seed}


def sweep(scenario: Scenario, seed: int) -> list[dict[str, Any]]:
    """The figures of every mechanism at each oversubscription of the scenario's sweep."""
    points = []
    for demand in scenario.sweep:
        results = simulate(scenario.with_demand(demand), seed)
        points.append(
            {
                "oversubscription": demand,
                "mechanisms": {name: summary.figures(r) for name, r in results.items()},
            }
        )
    return points


def write(scenario: Scenario, seed: int, out: Path, *, with_sweep: bool = False) -> Outputs:
    """Run, then write ``summary.json`` and the PNG plots into ``out`` (and the sweep when asked)."""
    out.mkdir(parents=True, exist_ok=True)
    results = simulate(scenario, seed)
    data = summary.summary(scenario_header(scenario, seed), results)
    outputs = Outputs(summary=data)
    path = out / "summary.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    outputs.files += [
        path,
        plots.bands_plot(results, out / "slots_by_urgency.png"),
        plots.waits_plot(results, out / "waits.png"),
    ]
    m = scenario.market
    outputs.real = round(m.slots_per_week * m.oversubscription)
    outputs.fakes = fakes.run(real=outputs.real, slots=m.slots_per_week, seed=seed)
    fakes_path = out / "fake_identities.json"
    fakes_path.write_text(json.dumps([f.as_dict() for f in outputs.fakes], indent=2) + "\n", encoding="utf-8")
    outputs.files.append(fakes_path)
    if with_sweep:
        outputs.sweep = sweep(scenario, seed)
        sweep_path = out / "sweep.json"
        sweep_path.write_text(json.dumps(outputs.sweep, indent=2) + "\n", encoding="utf-8")
        outputs.files += [sweep_path, plots.sweep_plot(outputs.sweep, out / "reseller_profit_by_demand.png")]
    return outputs


CLAIMS = {
    "before_draw": "declared dates count once the registry confirmed them",
    "at_desk": "declared claims checked at the desk",
    "off": "declared claims never checked",
}


def fairslot_caption(scenario: Scenario) -> str:
    """How the scenario configures Fairslot, in one line under the table."""
    policy = scenario.weight_policy()
    bands = ", ".join(f"x{b.multiplier} within {b.within_days} days" for b in policy.expiry_bands)
    return (
        f"Fairslot: expiry {bands}; waiting up to x{policy.waiting_cap}; {CLAIMS[scenario.desk.verification]}"
    )


ROWS = (
    ("slots", "slots released"),
    ("reseller_slots", "slots resold by resellers"),
    ("reseller_profit_eur", "resellers' profit (EUR)"),
    ("expired_before_appointment_share", "permit expired before appointment"),
    ("urgent_served_share", "urgent applicants seen in time"),
    ("wait_days_p50", "wait, median (days)"),
    ("wait_days_p95", "wait, 95th percentile (days)"),
    ("false_claim_slots", "slots won with a false claim"),
    ("no_show_share", "no-show share"),
    ("wasted_slots", "slots wasted"),
)


FAKE_COLUMNS = (
    "fake entries",
    "real applicant's chance, no check",
    "with phone verification",
    "fakes' share of slots, no check",
    "with phone verification",
)


def fake_rows(points: list[fakes.Point]) -> list[list[str]]:
    """The fake-identity table: one row per flood size, the columns of ``FAKE_COLUMNS``."""
    return [
        [
            f"{p.multiple:,}x ({p.fakes:,})",
            f"{100 * p.chance_without:.4f} % (≈{100 * p.chance_without_expected:.4f})",
            f"{100 * p.chance_with:.2f} %",
            f"{100 * p.slots_to_fakes_without:.1f} %",
            f"{100 * p.slots_to_fakes_with:.1f} %",
        ]
        for p in points
    ]


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    """The stdout table: one row per figure, one column per mechanism."""
    rows = []
    for key, label in ROWS:
        row = [label]
        for name in market.MECHANISMS:
            value = data["mechanisms"][name][key]
            if value is None:
                row.append("-")
            elif key.endswith("_share"):
                row.append(f"{100 * value:.1f} %")
            elif isinstance(value, float):
                row.append(f"{value:,.0f}")
            else:
                row.append(f"{value:,}")
        rows.append(row)
    return rows
