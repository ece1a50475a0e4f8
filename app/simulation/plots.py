"""PNG plots of a run: who gets the slots by urgency band, waits, and reseller profit over demand.

Each plot is drawn in the report's language: its titles, axes and legends go through ``gettext`` (the
simulation's catalog, ``app.simulation.report.translations``; English is the identity), and its figure is
built apart from the file it is saved to, so what a plot says can be read back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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

#: Translates one English text into the report's language.
Gettext = Callable[[str], str]


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def bands_plot(results: Mapping[str, Result], path: Path, gettext: Gettext = str) -> Path:
    """:func:`bands_figure`, saved to ``path``."""
    return _save(bands_figure(results, gettext), path)


def bands_figure(results: Mapping[str, Result], gettext: Gettext = str) -> Figure:
    """Grouped bars: appointments attended per urgency band of the real permit, per mechanism."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    width = 0.8 / len(results)
    for i, (name, result) in enumerate(results.items()):
        counts = slots_by_band(result)
        xs = [b + (i - (len(results) - 1) / 2) * width for b in range(len(BANDS))]
        ax.bar(xs, [counts[b] for b in BANDS], width, label=gettext(LABELS[name]), color=COLOURS[name])
    ticks = [
        gettext("expires in\n%(band)s") % {"band": gettext(b)}
        if b != "no permit"
        else gettext("no permit\n(first)")
        for b in BANDS
    ]
    ax.set_xticks(range(len(BANDS)), ticks)
    ax.set_ylabel(gettext("appointments attended"))
    ax.set_title(gettext("Who is seen at the desk, by how soon their permit expires (at application)"))
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    return fig


def waits_plot(results: Mapping[str, Result], path: Path, gettext: Gettext = str) -> Path:
    """:func:`waits_figure`, saved to ``path``."""
    return _save(waits_figure(results, gettext), path)


def waits_figure(results: Mapping[str, Result], gettext: Gettext = str) -> Figure:
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
                label=gettext(LABELS[name]),
                color=COLOURS[name],
                linewidth=2,
            )
    ax.set_xlabel(gettext("days from applying to the appointment"))
    ax.set_ylabel(gettext("share of all applicants seen"))
    ax.set_title(gettext("Waits: how many applicants are seen within so many days"))
    ax.legend()
    ax.grid(alpha=0.3)
    return fig


def sweep_plot(points: Sequence[Mapping[str, Any]], path: Path, gettext: Gettext = str) -> Path:
    """:func:`sweep_figure`, saved to ``path``."""
    return _save(sweep_figure(points, gettext), path)


def sweep_figure(points: Sequence[Mapping[str, Any]], gettext: Gettext = str) -> Figure:
    """Reseller profit and expired-permit share over oversubscription, per mechanism (``sweep`` rows)."""
    fig = Figure(figsize=(10, 4.5))
    profit, expired = fig.subplots(1, 2)
    for name in MECHANISMS:
        rows = [p for p in points if p["mechanism"] == name]
        xs = [p["oversubscription"] for p in rows]
        style = {"marker": "o", "label": gettext(LABELS[name]), "color": COLOURS[name], "linewidth": 2}
        profit.plot(xs, [p["reseller_profit_eur"] for p in rows], **style)
        expired.plot(xs, [p["expired_before_appointment_share"] for p in rows], **style)
    profit.axhline(0, color="black", linewidth=0.8)
    profit.set_ylabel(gettext("resellers' profit over the run (EUR)"))
    profit.set_title(gettext("Resellers' profit, adapting their strategy"))
    expired.set_ylabel(gettext("share of permit holders"))
    expired.set_title(gettext("Permit expired before the appointment"))
    for ax in (profit, expired):
        ax.set_xscale("log")
        ax.set_xlabel(gettext("oversubscription (applicants waiting per slot, log scale)"))
        ax.grid(alpha=0.3)
    expired.legend(fontsize=8)
    return fig


def adversaries_plot(rows: Sequence[Mapping[str, Any]], path: Path, gettext: Gettext = str) -> Path:
    """:func:`adversaries_figure`, saved to ``path``."""
    return _save(adversaries_figure(rows, gettext), path)


def adversaries_figure(rows: Sequence[Mapping[str, Any]], gettext: Gettext = str) -> Figure:
    """Grouped bars: resellers' profit per strategy (each played alone for the whole run), per mechanism."""
    fig = Figure(figsize=(10, 4.5))
    ax = fig.add_subplot()
    strategies = list(dict.fromkeys(r["strategy"] for r in rows))
    width = 0.8 / len(MECHANISMS)
    for i, name in enumerate(MECHANISMS):
        profit = {r["strategy"]: r["reseller_profit_eur"] for r in rows if r["mechanism"] == name}
        xs = [k + (i - (len(MECHANISMS) - 1) / 2) * width for k in range(len(strategies))]
        label = gettext(LABELS[name])
        ax.bar(xs, [profit.get(s, 0) for s in strategies], width, label=label, color=COLOURS[name])
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(strategies)), [gettext(s.replace("_", " ")) for s in strategies])
    ax.set_ylabel(gettext("resellers' profit over the run (EUR)"))
    ax.set_title(gettext("What each reseller strategy earns, played alone"))
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return fig
