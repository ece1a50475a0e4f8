"""PNG plots of a run: who gets the slots by urgency band, waits, and reseller profit over demand."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from app.simulation.market import MECHANISMS, Result
from app.simulation.people import BANDS
from app.simulation.summary import slots_by_band, waits

LABELS = {
    "fcfs": "first come",
    "uniform": "uniform lottery",
    "batch": "batch (AER 2021)",
    "fairslot": "Fairslot",
    "fairslot_fcfs_returns": "Fairslot, returns first come",
}
COLOURS = {
    "fcfs": "#c0392b",
    "uniform": "#7f8c8d",
    "batch": "#8e44ad",
    "fairslot": "#2471a3",
    "fairslot_fcfs_returns": "#d68910",
}
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def bands_plot(results: Mapping[str, Result], path: Path) -> Path:
    """Grouped bars: appointments attended per urgency band of the real permit, per mechanism."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    width = 0.8 / len(results)
    for i, (name, result) in enumerate(results.items()):
        counts = slots_by_band(result)
        xs = [b + (i - (len(results) - 1) / 2) * width for b in range(len(BANDS))]
        ax.bar(xs, [counts[b] for b in BANDS], width, label=LABELS[name], color=COLOURS[name])
    ax.set_xticks(
        range(len(BANDS)), [f"expires in\n{b}" if b != "no permit" else "no permit\n(first)" for b in BANDS]
    )
    ax.set_ylabel("appointments attended")
    ax.set_title("Who is seen at the desk, by how soon their permit expires (at application)")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)


def waits_plot(results: Mapping[str, Result], path: Path) -> Path:
    """Cumulative share of applicants seen within a number of days of applying, per mechanism."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    for name, result in results.items():
        days = sorted(waits(result))
        total = len(result.people)
        if days:
            ax.step(
                days,
                [(i + 1) / total for i in range(len(days))],
                where="post",
                label=LABELS[name],
                color=COLOURS[name],
                linewidth=2,
            )
    ax.set_xlabel("days from applying to the appointment")
    ax.set_ylabel("share of all applicants seen")
    ax.set_title("Waits: how many applicants are seen within so many days")
    ax.legend()
    ax.grid(alpha=0.3)
    return _save(fig, path)


def sweep_plot(points: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Reseller profit and expired-permit share over oversubscription, per mechanism (``sweep`` rows)."""
    fig = Figure(figsize=(10, 4.5))
    profit, expired = fig.subplots(1, 2)
    for name in MECHANISMS:
        rows = [p for p in points if p["mechanism"] == name]
        xs = [p["oversubscription"] for p in rows]
        style = {"marker": "o", "label": LABELS[name], "color": COLOURS[name], "linewidth": 2}
        profit.plot(xs, [p["reseller_profit_eur"] for p in rows], **style)
        expired.plot(xs, [p["expired_before_appointment_share"] for p in rows], **style)
    profit.axhline(0, color="black", linewidth=0.8)
    profit.set_ylabel("resellers' profit over the run (EUR)")
    profit.set_title("Resellers' profit, adapting their strategy")
    expired.set_ylabel("share of permit holders")
    expired.set_title("Permit expired before the appointment")
    for ax in (profit, expired):
        ax.set_xscale("log")
        ax.set_xlabel("oversubscription (applicants waiting per slot, log scale)")
        ax.grid(alpha=0.3)
    expired.legend(fontsize=8)
    return _save(fig, path)


def adversaries_plot(rows: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Grouped bars: resellers' profit per strategy (each played alone for the whole run), per mechanism."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    width = 0.8 / len(MECHANISMS)
    for i, name in enumerate(MECHANISMS):
        profit = {r["strategy"]: r["reseller_profit_eur"] for r in rows if r["mechanism"] == name}
        xs = [k + (i - (len(MECHANISMS) - 1) / 2) * width for k in range(len(strategies))]
        ax.bar(xs, [profit.get(s, 0) for s in strategies], width, label=LABELS[name], color=COLOURS[name])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(strategies)), [s.replace("_", " ") for s in strategies])
    ax.set_ylabel("resellers' profit over the run (EUR)")
    ax.set_title("What each reseller strategy earns, played alone")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _save(fig, path)
