"""``report.html``: one self-contained page of the evidence, for a prefect and a journalist.

The tables come from ``summary.json``'s sections, the plots are embedded as PNG data URIs, and the findings
are sentences computed from the figures (nothing in them is written in advance). Jinja2 escapes every value.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from jinja2 import Environment, PackageLoader, select_autoescape

from app.simulation.plots import LABELS

TEMPLATE = "report.html.j2"
#: The report's languages, each written to its own file from the same template and the same figures.
FILES = {"en": "report.html", "fr": "report.fr.html"}
#: The simulation's own catalogs (domain ``simulation``): ``make translations`` extracts, updates and compiles
#: them with the web's (app/simulation may import only app.domain, so not the web's catalogs).
LOCALES_DIR = Path(__file__).parent / "locales"
DOMAIN = "simulation"
#: The space before a unit ("%" and "EUR"): French keeps them on one line with the figure.
_UNIT_SPACE = {"fr": "\u00a0"}


def N_(text: str) -> str:  # noqa: N802 (the marker pybabel extracts)
    """Mark a string for extraction; it is translated where it is shown."""
    return text


#: Words the figures hold as codes or English labels (mechanisms, strategies, checks), marked for extraction.
WORDS = (
    N_("first come"),
    N_("uniform lottery"),
    N_("batch (AER 2021)"),
    N_("Fairslot"),
    N_("Fairslot, returns first come"),
    N_("straw names"),
    N_("apply for buyer"),
    N_("forged urgency"),
    N_("identity rental"),
    N_("sim farm"),
    N_("at desk"),
    N_("before draw"),
    N_("none"),
    N_("phone"),
    N_("registry"),
    N_("≤30 days"),
    N_("31-60 days"),
    N_("61-90 days"),
    N_(">90 days"),
)

ROWS = (
    ("reseller_slots", N_("slots resold by resellers"), "int"),
    ("reseller_profit_eur", N_("resellers' profit (EUR)"), "eur"),
    ("expired_before_appointment_share", N_("permit expired before the appointment"), "share"),
    ("urgent_served_share", N_("urgent applicants seen in time"), "share"),
    ("wait_days_p50", N_("wait, median (days)"), "int"),
    ("wait_days_p95", N_("wait, 95th percentile (days)"), "int"),
    ("false_claim_slots", N_("slots won with a false claim"), "int"),
    ("wasted_slots", N_("slots wasted"), "int"),
)


def translations(lang: str) -> NullTranslations:
    """The report's catalog for ``lang`` (English is the msgids themselves)."""
    return Translations.load(str(LOCALES_DIR), [lang], domain=DOMAIN)


def number(value: float, pattern: str = "#,##0.###", lang: str = "en") -> str:
    """A number in the reader's notation (grouping and decimal signs), by Babel.

    A float is rounded from its exact binary value, as Python's own formatting does (Babel would round its
    shortest decimal form: 0.025 to 0.02 where Python prints 0.03), so every language shows the same figure.
    """
    return format_decimal(Decimal(value) if isinstance(value, float) else value, format=pattern, locale=lang)


def fmt(value: Any, kind: str = "int", lang: str = "en") -> str:
    """A figure as the report prints it, in the reader's notation."""
    space = _UNIT_SPACE.get(lang, " ")
    if value is None:
        return "-"
    if kind == "share":
        return f"{number(100 * float(value), '0.0', lang)}{space}%"
    if kind == "eur":
        return f"{number(float(value), '#,##0', lang)}{space}EUR"
    return number(value, "#,##0", lang)


def pct(value: float, lang: str = "en") -> str:
    """A chance in percent with two decimals."""
    return f"{number(100 * value, '0.00', lang)}{_UNIT_SPACE.get(lang, ' ')}%"


def findings(data: Mapping[str, Any], lang: str = "en") -> list[str]:
    """The findings in plain words, each computed from the figures, in ``lang``."""
    _ = translations(lang).gettext

    def word(code: str) -> str:
        return _(code.replace("_", " "))

    def eur(value: float) -> str:
        return fmt(value, "eur", lang)

    def share(value: float) -> str:
        return fmt(value, "share", lang)

    mech = data["mechanisms"]
    best = data["best_response"]
    expired = {name: mech[name]["expired_before_appointment_share"] or 0.0 for name in mech}
    out = []
    for name in ("fcfs", "fairslot_fcfs_returns", "uniform", "batch", "fairslot"):
        b = best[name]
        if b["reseller_profit_eur"] > 0:
            out.append(
                _(
                    "Under %(mechanism)s, resale pays: resellers who try every strategy and keep the best "
                    "(%(strategy)s) end the run at %(profit)s."
                )
                % {
                    "mechanism": _(LABELS[name]),
                    "strategy": word(b["strategy"]),
                    "profit": eur(b["reseller_profit_eur"]),
                }
            )
        else:
            out.append(
                _(
                    "Under %(mechanism)s, no strategy pays: resellers who try each one stop, having lost %(loss)s."
                )
                % {"mechanism": _(LABELS[name]), "loss": eur(-b["reseller_profit_eur"])}
            )
    out.append(
        _(
            "Permits that expired before the appointment: %(fcfs)s under first come, %(batch)s under the "
            "batch lottery of Hakimov et al. (equal chances), %(fairslot)s under Fairslot. The batch removes "
            "resellers but does not favour the urgent; the fall under Fairslot comes from its urgency weights "
            "and the registry check of declared dates, as the sensitivity table shows when that check is weaker."
        )
        % {
            "fcfs": share(expired["fcfs"]),
            "batch": share(expired["batch"]),
            "fairslot": share(expired["fairslot"]),
        }
    )
    out.append(
        _(
            "Returned slots matter: when Fairslot hands them out first come instead of drawing them again, "
            "resellers' best strategy earns %(returns)s against %(fairslot)s."
        )
        % {
            "returns": eur(best["fairslot_fcfs_returns"]["reseller_profit_eur"]),
            "fairslot": eur(best["fairslot"]["reseller_profit_eur"]),
        }
    )
    low = min(data["sweep"], key=lambda r: r["oversubscription"])["oversubscription"]
    fcfs_low = next(r for r in data["sweep"] if r["mechanism"] == "fcfs" and r["oversubscription"] == low)
    out.append(
        _(
            "At %(demand)sx demand (fewer applicants than slots) first-come resellers earn %(profit)s: nobody "
            "pays for what they would get alone, as the paper predicts; resale under first come grows with demand."
        )
        % {"demand": number(low, lang=lang), "profit": eur(fcfs_low["reseller_profit_eur"])}
    )
    paying = [r for r in data["sensitivity"] if r["reseller_profit_eur"] > 0]
    if paying:
        worst = max(paying, key=lambda r: (r["registry_detection"], r["reseller_profit_eur"]))
        out.append(
            _(
                "Checks must be near perfect: when the registry or the desk catch %(detection)s of false or "
                "forged expiry dates (claims checked %(checked)s), selling %(strategy)s pays %(profit)s, and "
                "%(false_share)s of the slots are won with false claims. Urgency weights as strong as the "
                "shipped scenario's are safe only where the check of declared dates (the permit registry, "
                "before the draw) catches nearly every forgery."
            )
            % {
                "detection": share(worst["registry_detection"]),
                "checked": word(worst["claims_checked"]),
                "strategy": word(worst["best_strategy"]),
                "profit": eur(worst["reseller_profit_eur"]),
                "false_share": share(worst["false_claim_win_share"]),
            }
        )
    top = max(r["fake_multiple"] for r in data["fake_identities"])
    fake = {r["verification"]: r for r in data["fake_identities"] if r["fake_multiple"] == top}
    out.append(
        _(
            "Fake identities at %(multiple)sx the real applicants: a real applicant's chance per draw is "
            "%(none)s with no check, %(phone)s with phone verification (bots holding rented numbers still take "
            "%(phone_share)s of the slots, wasted and drawn again later) and %(registry)s when only identities "
            "in the permit registry enter (against %(baseline)s with no fake at all). Registry-only entry suits "
            "renewals; first applications, which no registry knows, still rest on phone verification, counters "
            "and partners."
        )
        % {
            "multiple": number(top, "#,##0", lang),
            "none": pct(fake["none"]["real_chance"], lang),
            "phone": pct(fake["phone"]["real_chance"], lang),
            "phone_share": share(fake["phone"]["fake_share"]),
            "registry": pct(fake["registry"]["real_chance"], lang),
            "baseline": pct(fake["none"]["baseline_chance"], lang),
        }
    )
    return out


def param(value: Any) -> str:
    """A scenario parameter as the report prints it: a range or a list comma-separated, a date as ISO."""
    if isinstance(value, (list, tuple)):
        return ", ".join(param(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return f"{value:g}"
    return str(value)


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def render(data: Mapping[str, Any], pngs: Mapping[str, Path], lang: str = "en") -> str:
    """The report's HTML in ``lang``."""
    env = Environment(
        loader=PackageLoader("app.simulation", ""),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    catalog = translations(lang)
    env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    env.policies["ext.i18n.trimmed"] = True
    env.filters["fmt"] = lambda value, kind="int": fmt(value, kind, lang)
    env.filters["number"] = lambda value, pattern="#,##0.###": number(value, pattern, lang)
    env.filters["pct"] = lambda value: pct(value, lang)
    env.filters["word"] = lambda code: catalog.gettext(str(code).replace("_", " "))
    env.filters["param"] = param
    data = json.loads(json.dumps(data))  # as summary.json holds it, whether read back or just computed
    other = "fr" if lang == "en" else "en"
    return env.get_template(TEMPLATE).render(
        lang=lang,
        other_lang=other,
        data=data,
        labels={name: catalog.gettext(label) for name, label in LABELS.items()},
        rows=[(key, catalog.gettext(label), kind) for key, label, kind in ROWS],
        findings=findings(data, lang),
        images={name: _data_uri(path) for name, path in pngs.items()},
    )


def write(data: Mapping[str, Any], pngs: Mapping[str, Mapping[str, Path]], out: Path) -> list[Path]:
    """Write the report in each of its languages into ``out`` (``report.html``, ``report.fr.html``), each
    with the plots drawn in its language (``pngs[lang]``)."""
    paths = []
    for lang, name in FILES.items():
        path = out / name
        path.write_text(render(data, pngs[lang], lang), encoding="utf-8")
        paths.append(path)
    return paths
