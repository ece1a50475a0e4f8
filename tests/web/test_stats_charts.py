"""/stats names offices and services (never their codes), and its charts keep their labels apart and their
legends whole, in the reader's language, however many months and however large the figures."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from xml.etree import ElementTree

import pytest

from app.schemas.stats import MonthCounts, StatsItem, StatsPublic, UrgencyBand
from app.services import scheduler
from app.web import charts
from tests.factories import World, days_from

SVG = "{http://www.w3.org/2000/svg}"


def _statistics(months: int, scale: int) -> StatsPublic:
    by_month = [
        MonthCounts(month=f"{2025 + (m - 1) // 12}-{(m - 1) % 12 + 1:02d}", entries=scale * m, offered=scale)
        for m in range(1, months + 1)
    ]
    bands = [UrgencyBand(band=band, entries=12 * scale, offered=3 * scale) for band in charts.BAND_LABELS]
    items = [
        StatsItem.model_construct(
            office=f"office-{i}",
            service="first-permit",
            by_month=by_month,
            by_urgency=bands,
            offered=12 * scale * i,
            attended=9 * scale * i,
        )
        for i in range(1, 4)
    ]
    return StatsPublic.model_construct(since="2025-01", items=items)


def _text(lang: str) -> charts.ChartText:
    offices = {
        "office-1": "Préfecture de police — Paris Cité",
        "office-2": "Préfecture de Seine-Saint-Denis — Bobigny",
        "office-3": "Sous-préfecture du Raincy",
    }
    return charts.ChartText(
        lambda message: message, lang, offices, {"first-permit": "Premier titre de séjour"}
    )


def _axes(svg: bytes) -> dict[str, list[tuple[float, float, str]]]:
    """Each axis's labels: (x, y, text)."""
    tree = ElementTree.fromstring(svg)
    found: dict[str, list[tuple[float, float, str]]] = {}
    for group in tree.iter(f"{SVG}g"):
        classes = (group.get("class") or "").split()
        if "axis" in classes and ({"x", "y"} & set(classes)):
            name = "x" if "x" in classes else "y"
            found[name] = [
                (float(t.get("x", 0)), float(t.get("y", 0)), t.text or "") for t in group.iter(f"{SVG}text")
            ]
    return found


def _side_by_side_labels_do_not_touch(labels: list[tuple[float, float, str]]) -> None:
    rows: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in labels:
        rows.setdefault(y, []).append((x, text))
    for row in rows.values():
        if len(row) < 2:
            continue
        row.sort()
        for (x1, a), (x2, b) in itertools.pairwise(row):
            assert x2 - x1 >= (charts.text_width(a) + charts.text_width(b)) / 2, (a, b, x2 - x1)


@pytest.mark.parametrize(("lang", "months", "scale"), [("fr", 12, 100), ("en", 24, 10_000), ("ar", 3, 3)])
def test_no_two_labels_of_an_axis_run_together_and_legends_are_whole(lang, months, scale):
    data = _statistics(months, scale)

    for name, draw in charts.CHARTS.items():
        svg = draw(data, _text(lang))
        for labels in _axes(svg).values():
            _side_by_side_labels_do_not_touch(labels)
        tree = ElementTree.fromstring(svg)
        legends = next(g for g in tree.iter(f"{SVG}g") if "legends" in (g.get("class") or "").split())
        assert legends.get("transform", "").startswith(f"translate({charts.MARGIN},"), name
        texts = {t.text for t in legends.iter(f"{SVG}text")}
        assert not any("…" in (t or "") for t in texts), texts


def test_a_month_axis_names_months_in_the_readers_language():
    svg = charts.months_chart(_statistics(3, 10), _text("fr"))

    assert [text for _x, _y, text in _axes(svg)["x"]] == ["janv. 2025", "févr. 2025", "mars 2025"]


def test_the_offices_chart_names_offices_and_services_and_cuts_long_names():
    svg = charts.offices_chart(_statistics(1, 10), _text("en")).decode()

    assert "Sous-préfecture du Raincy" in svg
    assert "office-1" not in svg and "first-permit" not in svg


def test_the_stats_page_filters_and_headings_name_offices_and_services(client, runtime):
    world = World(client, runtime)
    for i in range(12):
        world.applicant(**({"permit_expires_on": days_from(world.now.date(), 10)} if i % 2 else {}))
    world.release(slots=6)
    runtime.clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)

    page = client.get("/stats?lang=en").text
    chart = client.get(f"/stats/charts/offices.svg?lang=en&office={world.office}")

    office_select = re.search(r'<select id="office".*?</select>', page, re.S)
    assert office_select
    assert f'<option value="{world.office}">Test office</option>' in office_select.group(0)
    assert ">Test office · Test service</h3>" in page
    assert world.office not in re.sub(r'(value|href|src)="[^"]*"', "", page)
    assert re.search(r'src="/stats/charts/urgency\.svg\?[^"]*lang=en"', page)
    assert "Test office · Test service" in chart.text
