"""``fairslot simulate`` as a real process: its table, ``summary.json``, the PNG plots, reproducibility."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.simulation import market, run, scenario
from app.simulation.adversaries.strategies import STRATEGIES
from app.simulation.summary import FIELDS

pytestmark = pytest.mark.slow  # whole simulated markets, seconds each

TINY = """
[market]
weeks = 3
slots_per_week = 20
oversubscription = 5.0

[agents.false_urgency]
share = 0.1

[sweep]
oversubscription = [1, 4]
"""


def _simulate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "simulate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_simulate_prints_its_table_and_writes_every_section_the_plots_and_the_report_reproducibly(
    tmp_path: Path,
) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    result = _simulate("--scenario", str(scenario), "--seed", "3", "--out", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first come" in result.stdout and "Fairslot" in result.stdout and "batch" in result.stdout
    assert "resellers' profit" in result.stdout and "best strategy" in result.stdout
    # The caption says how Fairslot was configured: here the design's table (the file sets no [policy]).
    assert "expiry x4 within 30 days" in result.stdout and "checked at the desk" in result.stdout

    raw = (tmp_path / "out" / "summary.json").read_bytes()
    summary = json.loads(raw)
    assert list(summary) == [
        "scenario",
        "mechanisms",
        "adversaries",
        "best_response",
        "sweep",
        "sensitivity",
        "fake_identities",
    ]
    assert list(summary["mechanisms"]) == list(market.MECHANISMS)
    for figures in summary["mechanisms"].values():
        assert tuple(figures) == FIELDS
    assert summary["scenario"]["seed"] == 3
    assert summary["scenario"]["market"]["weeks"] == 3
    assert summary["mechanisms"]["fcfs"]["slots"] == 60
    assert {(r["strategy"], r["mechanism"]) for r in summary["adversaries"]} == {
        (s, m) for s in STRATEGIES for m in market.MECHANISMS
    }
    assert set(summary["best_response"]) == set(market.MECHANISMS)
    assert {(r["oversubscription"], r["mechanism"]) for r in summary["sweep"]} == {
        (d, m) for d in (1, 4) for m in market.MECHANISMS
    }
    assert {(r["registry_detection"], r["claims_checked"]) for r in summary["sensitivity"]} == {
        (d, c) for d in (0.5, 0.8, 1.0) for c in ("at_desk", "before_draw")
    }
    assert {(r["fake_multiple"], r["verification"]) for r in summary["fake_identities"]} == {
        (k, v) for k in (10, 100, 1000) for v in ("none", "phone", "registry")
    }
    for png in (
        "slots_by_urgency.png",
        "waits.png",
        "reseller_profit_by_demand.png",
        "reseller_strategies.png",
    ):
        assert (tmp_path / "out" / png).read_bytes().startswith(b"\x89PNG")
    report = (tmp_path / "out" / "report.html").read_text()
    assert report.count('src="data:image/png;base64,') == 4
    assert "What the model leaves out" in report and "Findings" in report

    again = _simulate("--scenario", str(scenario), "--seed", "3", "--out", "again", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    # The same seed, the same file, byte for byte (another seed gives other figures: test_market.py).
    assert (tmp_path / "again" / "summary.json").read_bytes() == raw


def test_simulate_refuses_a_scenario_with_a_typo(tmp_path: Path) -> None:
    scenario = tmp_path / "typo.toml"
    scenario.write_text("[market]\nslots_per_wek = 3\n")
    result = _simulate("--scenario", str(scenario), "--out", "out", cwd=tmp_path)
    assert result.returncode == 2
    assert "slots_per_wek" in result.stderr
    assert not (tmp_path / "out").exists()


def test_the_caption_names_the_shipped_scenarios_policy() -> None:
    caption = run.fairslot_caption(scenario.load())
    assert caption.startswith("Fairslot: expiry x100 within 30 days, x20 within 60 days, x4 within 90 days")
    assert "registry confirmed" in caption
