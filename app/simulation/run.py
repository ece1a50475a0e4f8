"""``fairslot simulate``: run a scenario under every mechanism, with resellers adapting or playing one strategy,
over demand and detection rates; write ``summary.json``, the plots and the report in English and French
(``report.html``, ``report.fr.html``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from app.simulation import agents, fakes, market, plots, report, summary
from app.simulation.scenario import Scenario

SENSITIVITY_DETECTION = (0.5, 0.8, 1.0)
SENSITIVITY_CLAIMS = ("at_desk", "before_draw")


@dataclass
class Outputs:
    """What a run wrote."""

    summary: dict[str, Any]
    files: list[Path] = field(default_factory=list)
    #: Real applicants in the fake-identity draw.
    real: int = 0


def simulate(scenario: Scenario, seed: int, strategy: str | None = None) -> dict[str, market.Result]:
    """Every mechanism on the same people (drawn from ``seed``), resellers adapting or playing ``strategy``."""
    people = agents.population(scenario, seed)
    return market.run_all(scenario, people, seed, strategy=strategy)


def scenario_header(scenario: Scenario, seed: int) -> dict[str, Any]:
    """The ``scenario`` object of ``summary.json``: every parameter and the seed."""
    return {**scenario.as_dict(), "seed": seed}


def _one(job: tuple[Scenario, int, str, str | None]) -> market.Result:
    scenario, seed, mechanism, strategy = job
    return market.run(mechanism, scenario, agents.population(scenario, seed), seed, strategy)


def _sweep_scenarios(scenario: Scenario) -> list[Scenario]:
    return [scenario.with_demand(d) for d in scenario.sweep]


def _sensitivity_scenarios(scenario: Scenario) -> list[Scenario]:
    return [
        scenario.with_desk(verification=claims, detection=detection)
        for detection in SENSITIVITY_DETECTION
        for claims in SENSITIVITY_CLAIMS
    ]


def sections(scenario: Scenario, seed: int, *, workers: int = 2) -> dict[str, Any]:
    """Every section of ``summary.json``: each run is independent, so they run on ``workers`` processes and
    the result does not depend on their order (the same seed gives the same file)."""
    mechanisms = market.MECHANISMS
    strategies = scenario.resellers.strategies
    jobs: list[tuple[Scenario, int, str, str | None]] = [(scenario, seed, m, None) for m in mechanisms]
    jobs += [(scenario, seed, m, s) for s in strategies for m in mechanisms]
    jobs += [(sc, seed, m, None) for sc in _sweep_scenarios(scenario) for m in mechanisms]
    jobs += [(sc, seed, "fairslot", None) for sc in _sensitivity_scenarios(scenario)]
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork")) as pool:
            results = list(pool.map(_one, jobs, chunksize=1))
    else:
        results = [_one(job) for job in jobs]
    done = iter(results)
    main = {m: next(done) for m in mechanisms}
    adversaries = []
    for strategy in strategies:
        for m in mechanisms:
            r = next(done)
            adversaries.append(
                {
                    "strategy": strategy,
                    "mechanism": m,
                    "reseller_profit_eur": round(r.reseller_profit_eur, 2),
                    "slots_obtained": r.reseller_slots,
                }
            )
    sweep = []
    for sc in _sweep_scenarios(scenario):
        for m in mechanisms:
            figures = summary.figures(next(done))
            sweep.append(
                {
                    "oversubscription": sc.market.oversubscription,
                    "mechanism": m,
                    "reseller_profit_eur": figures["reseller_profit_eur"],
                    "expired_before_appointment_share": figures["expired_before_appointment_share"],
                }
            )
    fcfs_expired = summary.figures(main["fcfs"])["expired_before_appointment_share"] or 0.0
    sensitivity = []
    for sc in _sensitivity_scenarios(scenario):
        r = next(done)
        figures = summary.figures(r)
        expired = figures["expired_before_appointment_share"] or 0.0
        sensitivity.append(
            {
                "registry_detection": sc.desk.detection,
                "claims_checked": sc.desk.verification,
                "expired_ratio_vs_fcfs": round(expired / fcfs_expired, 4) if fcfs_expired else None,
                "false_claim_win_share": round(figures["false_claim_slots"] / r.slots, 4),
                "reseller_profit_eur": figures["reseller_profit_eur"],
                "best_strategy": summary.best_strategy(r),
            }
        )
    size = scenario.market
    fake_identities = fakes.by_verification(
        real=round(size.slots_per_week * size.oversubscription),
        slots=size.slots_per_week,
        seed=seed,
        max_requests_per_phone=scenario.weight_policy().max_requests_per_phone,
    )
    return {
        "main": main,
        "adversaries": adversaries,
        "best_response": {name: summary.best_response(r) for name, r in main.items()},
        "sweep": sweep,
        "sensitivity": sensitivity,
        "fake_identities": fake_identities,
    }


def write(scenario: Scenario, seed: int, out: Path, *, workers: int = 2) -> Outputs:
    """Run everything, then write ``summary.json``, the PNG plots and both reports into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    parts = sections(scenario, seed, workers=workers)
    main = parts.pop("main")
    data = {**summary.summary(scenario_header(scenario, seed), main), **parts}
    outputs = Outputs(summary=data)
    path = out / "summary.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    pngs = {lang: _plots(main, data, out, lang) for lang in report.FILES}
    outputs.files += [path, *(png for drawn in pngs.values() for png in drawn.values())]
    outputs.files += report.write(data, pngs, out)
    m = scenario.market
    outputs.real = round(m.slots_per_week * m.oversubscription)
    return outputs


def _plots(
    main: Mapping[str, market.Result], data: Mapping[str, Any], out: Path, lang: str
) -> dict[str, Path]:
    """The four plots in ``lang`` (``waits.png`` in English, ``waits.fr.png`` in French, and so on)."""
    gettext = report.translations(lang).gettext
    suffix = "" if lang == "en" else f".{lang}"
    return {
        "slots_by_urgency": plots.bands_plot(main, out / f"slots_by_urgency{suffix}.png", gettext),
        "waits": plots.waits_plot(main, out / f"waits{suffix}.png", gettext),
        "sweep": plots.sweep_plot(data["sweep"], out / f"reseller_profit_by_demand{suffix}.png", gettext),
        "adversaries": plots.adversaries_plot(
            data["adversaries"], out / f"reseller_strategies{suffix}.png", gettext
        ),
    }


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


FAKE_COLUMNS = ("fake entries", "no check", "phone verification", "registry only")


def fake_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    """The fake-identity table: real applicants' chance per draw, one row per flood size."""
    table: dict[int, dict[str, float]] = {}
    for row in rows:
        table.setdefault(int(row["fake_multiple"]), {})[str(row["verification"])] = float(row["real_chance"])
    return [
        [f"{multiple:,}x", *(f"{100 * chances[v]:.2f} %" for v in ("none", "phone", "registry"))]
        for multiple, chances in table.items()
    ]


def table_rows(data: dict[str, Any]) -> list[list[str]]:
    """The stdout table: one row per figure, one column per mechanism."""
    rows = []
    for key, label in ROWS:
        row = [label]
        for name in data["mechanisms"]:
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
