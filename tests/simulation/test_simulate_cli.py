"""``fairslot simulate`` as a real process: its table, ``summary.json``, the PNG plots, reproducibility."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.simulation import run, scenario
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


def test_simulate_prints_its_table_and_writes_the_summary_and_plots_reproducibly(tmp_path: Path) -> None:
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(TINY)
    result = _simulate("--scenario", str(scenario), "--seed", "3", "--out", "out", "--sweep", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "first come" in result.stdout and "Fairslot" in result.stdout
    assert "resellers' profit" in result.stdout
    # The caption says how Fairslot was configured: here the design's table (the file sets no [policy]).
    assert "expiry x4 within 30 days" in result.stdout and "checked at the desk" in result.stdout

    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert set(summary) == {"scenario", "mechanisms"}
    assert set(summary["mechanisms"]) == {"fcfs", "uniform", "fairslot"}
    for figures in summary["mechanisms"].values():
        assert tuple(figures) == FIELDS
    assert summary["scenario"]["seed"] == 3
    assert summary["scenario"]["market"]["weeks"] == 3
    assert summary["mechanisms"]["fcfs"]["slots"] == 60
    for png in ("slots_by_urgency.png", "waits.png", "reseller_profit_by_demand.png"):
        assert (tmp_path / "out" / png).read_bytes().startswith(b"\x89PNG")
    assert [p["oversubscription"] for p in json.loads((tmp_path / "out" / "sweep.json").read_text())] == [
        1,
        4,
    ]

    again = _simulate("--scenario", str(scenario), "--seed", "3", "--out", "again", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert json.loads((tmp_path / "again" / "summary.json").read_text()) == summary


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
