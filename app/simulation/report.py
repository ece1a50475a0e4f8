"""``report.html``: one self-contained page of the evidence, for a prefect and a journalist.

The tables come from ``summary.json``'s sections, the plots are embedded as PNG data URIs, and the findings
are sentences computed from the figures (nothing in them is written in advance). Jinja2 escapes every value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from app.simulation.plots import LABELS

TEMPLATE = "report.html.j2"

ROWS = (
    ("reseller_slots", "slots resold by resellers", "int"),
    ("reseller_profit_eur", "resellers' profit (EUR)", "eur"),
    ("expired_before_appointment_share", "permit expired before the appointment", "share"),
    ("urgent_served_share", "urgent applicants seen in time", "share"),
    ("wait_days_p50", "wait, median (days)", "int"),
    ("wait_days_p95", "wait, 95th percentile (days)", "int"),
    ("false_claim_slots", "slots won with a false claim", "int"),
    ("wasted_slots", "slots wasted", "int"),
)


def fmt(value: Any, kind: str = "int") -> str:
    """A figure as the report prints it."""
    if value is None:
        return "-"
    if kind == "share":
        return f"{100 * float(value):.1f} %"
    if kind == "eur":
        return f"{float(value):,.0f} EUR"
    if isinstance(value, float):
        return f"{value:,.0f}"
    return f"{value:,}"


def findings(data: Mapping[str, Any]) -> list[str]:
    """The findings in plain words, each computed from the figures."""
    mech = data["mechanisms"]
    best = data["best_response"]
    expired = {name: mech[name]["expired_before_appointment_share"] or 0.0 for name in mech}
    out = []
    for name in ("fcfs", "fairslot_fcfs_returns", "uniform", "batch", "fairslot"):
        b = best[name]
        if b["reseller_profit_eur"] > 0:
            out.append(
                f"Under {LABELS[name]}, resale pays: resellers who try every strategy and keep the best "
                f"({b['strategy'].replace('_', ' ')}) end the run at {fmt(b['reseller_profit_eur'], 'eur')}."
            )
        else:
            out.append(
                f"Under {LABELS[name]}, no strategy pays: resellers who try each one stop, having lost "
                f"{fmt(-b['reseller_profit_eur'], 'eur')}."
            )
    out.append(
        f"Permits that expired before the appointment: {fmt(expired['fcfs'], 'share')} under first come, "
        f"{fmt(expired['batch'], 'share')} under the batch lottery of Hakimov et al. (equal chances), "
        f"{fmt(expired['fairslot'], 'share')} under Fairslot. The batch removes resellers but does not "
        "favour the urgent; the fall under Fairslot comes from its urgency weights and the registry check "
        "of declared dates, as the sensitivity table shows when that check is weaker."
    )
    out.append(
        f"Returned slots matter: when Fairslot hands them out first come instead of drawing them again, "
        f"resellers' best strategy earns {fmt(best['fairslot_fcfs_returns']['reseller_profit_eur'], 'eur')} "
        f"against {fmt(best['fairslot']['reseller_profit_eur'], 'eur')}."
    )
    low = min(data["sweep"], key=lambda r: r["oversubscription"])["oversubscription"]
    fcfs_low = next(r for r in data["sweep"] if r["mechanism"] == "fcfs" and r["oversubscription"] == low)
    out.append(
        f"At {low:g}x demand (fewer applicants than slots) first-come resellers earn "
        f"{fmt(fcfs_low['reseller_profit_eur'], 'eur')}: nobody pays for what they would get alone, as the "
        "paper predicts; resale under first come grows with demand."
    )
    paying = [r for r in data["sensitivity"] if r["reseller_profit_eur"] > 0]
    if paying:
        worst = max(paying, key=lambda r: (r["registry_detection"], r["reseller_profit_eur"]))
        out.append(
            f"Checks must be near perfect: when the registry or the desk catch {fmt(worst['registry_detection'], 'share')} "
            f"of false or forged expiry dates (claims checked {worst['claims_checked'].replace('_', ' ')}), selling "
            f"{worst['best_strategy'].replace('_', ' ')} pays {fmt(worst['reseller_profit_eur'], 'eur')}, and "
            f"{fmt(worst['false_claim_win_share'], 'share')} of the slots are won with false claims. Urgency "
            "weights as strong as the shipped scenario's are safe only where the check of declared dates (the "
            "permit registry, before the draw) catches nearly every forgery."
        )
    top = max(r["fake_multiple"] for r in data["fake_identities"])
    fake = {r["verification"]: r for r in data["fake_identities"] if r["fake_multiple"] == top}
    out.append(
        f"Fake identities at {top:,}x the real applicants: a real applicant's chance per draw is "
        f"{_pct(fake['none']['real_chance'])} with no check, {_pct(fake['phone']['real_chance'])} "
        f"with phone verification (bots holding rented numbers still take "
        f"{fmt(fake['phone']['fake_share'], 'share')} of the slots, wasted and drawn again later) and "
        f"{_pct(fake['registry']['real_chance'])} when only identities in the permit registry "
        f"enter (against {_pct(fake['none']['baseline_chance'])} with no fake at all). Registry-only entry "
        "suits renewals; first applications, which no registry knows, still rest on phone verification, "
        "counters and partners."
    )
    return out


def param(value: Any) -> str:
    """A scenario parameter as the report prints it: a range or a list comma-separated, a date as ISO."""
    if isinstance(value, (list, tuple)):
        return ", ".join(param(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _pct(value: float) -> str:
    return f"{100 * value:.2f} %"


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render(data: Mapping[str, Any], pngs: Mapping[str, Path]) -> str:
    """The report's HTML."""
    env = Environment(
        loader=PackageLoader("app.simulation", ""),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
    )
    env.filters["fmt"] = fmt
    env.filters["param"] = param
    data = json.loads(json.dumps(data))  # as summary.json holds it, whether read back or just computed
    return env.get_template(TEMPLATE).render(
        data=data,
        labels=LABELS,
        rows=ROWS,
        findings=findings(data),
        images={name: _data_uri(path) for name, path in pngs.items()},
    )


def write(data: Mapping[str, Any], pngs: Mapping[str, Path], path: Path) -> Path:
    """Write ``report.html`` and return its path."""
    path.write_text(render(data, pngs), encoding="utf-8")
    return path
