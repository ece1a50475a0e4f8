"""Server-rendered SVG charts of the public statistics (pygal), served as images: no JavaScript anywhere.

A chart is its own ``image/svg+xml`` document loaded by ``<img>``: a browser never runs scripts in an SVG
image, and pygal is told to emit none. Its own stylesheet sits inside the SVG, so that one response
carries a CSP allowing inline styles and nothing else. Suppressed figures (null) are drawn as gaps; the
page always shows the same numbers in a table beside each chart.
"""

from __future__ import annotations

from collections.abc import Callable
from xml.etree import ElementTree

import pygal
from pygal.style import Style

from app.schemas.stats import StatsItem, StatsPublic
from app.web.i18n import N_

#: The CSP of a chart response: its inline stylesheet, nothing else.
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1b1b1b",
    foreground_strong="#1b1b1b",
    foreground_subtle="#6b6b6b",
    colors=("#2471a3", "#c0392b", "#7f8c8d", "#27ae60"),
    font_family="system-ui, sans-serif",
    # Large type: a 640-pixel chart is shown about 360 pixels wide on a phone.
    label_font_size=22,
    major_label_font_size=22,
    legend_font_size=24,
    title_font_size=26,
    value_font_size=20,
    tooltip_font_size=20,
)

BAND_LABELS = {
    "within_30_days": N_("expires within 30 days"),
    "within_60_days": N_("within 60 days"),
    "within_90_days": N_("within 90 days"),
    "later": N_("later"),
    "no_expiry": N_("no expiry date"),
}

Gettext = Callable[[str], str]


def _config(gettext: Gettext, title: str) -> dict[str, object]:
    return {
        "title": gettext(title),
        "style": STYLE,
        "js": [],  # no script at all
        "width": 640,
        "height": 400,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1,
        "print_values": False,
        "show_y_guides": True,
        "truncate_label": -1,
        "x_label_rotation": 0,
        "margin": 12,
    }


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    """The chart as an SVG document without pygal's configuration script (an image runs none anyway)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    body: bytes = ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)
    return body


def _sum(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def urgency_chart(data: StatsPublic, gettext: Gettext) -> bytes:
    """Entries and offers by urgency band, all the listed offices and services together."""
    chart = pygal.HorizontalBar(**_config(gettext, N_("Who gets drawn, by how soon the permit expires")))
    bands = list(BAND_LABELS)
    chart.x_labels = [gettext(BAND_LABELS[b]) for b in bands]
    entries = [_sum([_band(i, b, "entries") for i in data.items]) for b in bands]
    offered = [_sum([_band(i, b, "offered") for i in data.items]) for b in bands]
    chart.add(gettext("entries in draws"), entries)
    chart.add(gettext("offered a slot"), offered)
    return _svg(chart)


def _band(item: StatsItem, band: str, field: str) -> int | None:
    for b in item.by_urgency:
        if b.band == band:
            value: int | None = getattr(b, field)
            return value
    return None


def months_chart(data: StatsPublic, gettext: Gettext) -> bytes:
    """Entries and offers per month, all the listed offices and services together."""
    chart = pygal.Bar(**_config(gettext, N_("Entries and offers per month")))
    months = sorted({m.month for item in data.items for m in item.by_month})
    chart.x_labels = months
    for field, label in (("entries", N_("entries in draws")), ("offered", N_("offered a slot"))):
        chart.add(
            gettext(label),
            [
                _sum([getattr(m, field) for i in data.items for m in i.by_month if m.month == month])
                for month in months
            ],
        )
    return _svg(chart)


def offices_chart(data: StatsPublic, gettext: Gettext) -> bytes:
    """Offers and appointments attended per office and service."""
    chart = pygal.HorizontalBar(**_config(gettext, N_("Offers and appointments per office")))
    chart.x_labels = [f"{i.office} · {i.service}" for i in data.items]
    chart.add(gettext("offered a slot"), [i.offered for i in data.items])
    chart.add(gettext("appointments attended"), [i.attended for i in data.items])
    return _svg(chart)


CHARTS: dict[str, Callable[[StatsPublic, Gettext], bytes]] = {
    "urgency": urgency_chart,
    "months": months_chart,
    "offices": offices_chart,
}
