"""The evidence report in French and English: one template, the same figures, each in its reader's notation."""

from __future__ import annotations

import re

import pytest

from app.simulation import market, plots, report, run, scenario

pytestmark = pytest.mark.slow  # one small simulated market, two seconds

SMALL = """
[market]
weeks = 3
slots_per_week = 20
oversubscription = 5.0

[sweep]
oversubscription = [1, 4]
"""

NBSP = "\u00a0"


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("evidence")
    path = out / "small.toml"
    path.write_text(SMALL)
    files = run.write(scenario.load(path), 3, out, workers=1).files
    assert {p.name for p in files} >= {"report.html", "report.fr.html", "waits.png", "waits.fr.png"}
    return {lang: (out / name).read_text(encoding="utf-8") for lang, name in report.FILES.items()}


def test_the_french_report_is_in_french_with_french_headings(reports: dict[str, str]) -> None:
    fr = reports["fr"]
    assert '<html lang="fr">' in fr
    for heading in (
        "Constats, en termes simples",
        "Les mécanismes comparés",
        "Ce que le modèle laisse de côté",
    ):
        assert f"<h2>{heading}</h2>" in fr
    assert "Findings" not in fr and "Resellers who adapt" not in fr
    assert '<a href="/stats/how-we-know?lang=en" hreflang="en"' in fr
    en = reports["en"]
    assert '<html lang="en">' in en and "<h2>Findings, in plain words</h2>" in en
    assert '<a href="/stats/how-we-know?lang=fr" hreflang="fr"' in en


def test_the_findings_say_the_same_figures_in_french_notation(reports: dict[str, str]) -> None:
    en = re.search(
        r"<li>Permits that expired before the appointment: ([\d.]+) % under first come", reports["en"]
    )
    fr = re.search(
        rf"<li>Titres expirés avant le rendez-vous{NBSP}: ([\d,]+){NBSP}% au premier arrivé", reports["fr"]
    )
    assert en is not None and fr is not None
    assert fr.group(1) == en.group(1).replace(".", ",") and "," in fr.group(1)
    # A whole number of euros: grouped with a no-break space in French, a comma in English.
    assert re.search(r"\d,\d{3} EUR", reports["en"])
    assert re.search(rf"\d[\u202f{NBSP}]\d{{3}}{NBSP}EUR", reports["fr"])


def test_the_figures_are_formatted_by_locale() -> None:
    assert report.fmt(0.0625, "share", "fr") == f"6,2{NBSP}%"
    assert report.fmt(0.0625, "share", "en") == "6.2 %"
    assert report.fmt(12345.4, "eur", "en") == "12,345 EUR"
    assert report.fmt(12345.4, "eur", "fr") == f"12\u202f345{NBSP}EUR"
    assert report.pct(0.0525, "fr") == f"5,25{NBSP}%"


def _texts(figure) -> set[str]:
    """Every title, axis label, tick label and legend entry of a figure."""
    found: set[str] = set()
    for ax in figure.axes:
        found |= {ax.get_title(), ax.get_xlabel(), ax.get_ylabel()}
        found |= {tick.get_text() for tick in ax.get_xticklabels()}
        legend = ax.get_legend()
        if legend is not None:
            found |= {text.get_text() for text in legend.get_texts()}
    return found - {""}


def test_the_plots_are_drawn_in_the_reports_language() -> None:
    french = report.translations("fr").gettext
    points = [
        {
            "mechanism": m,
            "oversubscription": d,
            "reseller_profit_eur": 10.0,
            "expired_before_appointment_share": 0.1,
        }
        for m in market.MECHANISMS
        for d in (1, 4)
    ]
    rows = [
        {"strategy": "straw_names", "mechanism": m, "reseller_profit_eur": 5.0} for m in market.MECHANISMS
    ]

    sweep = _texts(plots.sweep_figure(points, french))
    assert {
        "Titre expiré avant le rendez-vous",
        "premier arrivé",
        "profit des revendeurs sur la période (EUR)",
        "sursouscription (demandeurs par créneau, échelle log)",
    } <= sweep
    assert "Permit expired before the appointment" not in sweep and "first come" not in sweep
    strategies = _texts(plots.adversaries_figure(rows, french))
    assert {"Ce que rapporte chaque stratégie de revente, jouée seule", "prête-noms"} <= strategies
    english = _texts(plots.adversaries_figure(rows))
    assert {"What each reseller strategy earns, played alone", "straw names", "first come"} <= english


def test_each_report_embeds_the_plots_of_its_language(reports: dict[str, str]) -> None:
    images = {
        lang: re.findall(r'src="(data:image/png;base64,[^"]+)"', page) for lang, page in reports.items()
    }
    assert len(images["en"]) == len(images["fr"]) == 4
    assert not set(images["en"]) & set(images["fr"])
