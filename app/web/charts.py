"""Server-rendered SVG charts of the public statistics (pygal), served as images: no JavaScript anywhere.

A chart is its own ``image/svg+xml`` document loaded by ``<img>``: a browser never runs scripts in an SVG
image, and pygal is told to emit none. Its own stylesheet sits inside the SVG, so that one response
carries a CSP allowing inline styles and nothing else. Suppressed figures (null) are drawn as gaps; the
page always shows the same numbers in a table beside each chart.

A chart is drawn 640 pixels wide and shown about 360 on a phone, so its type is large; what keeps its
labels apart is how many there are: at most six round figures on a value axis, a month axis thinned to
six labels at most (each month named in the reader's language), offices and services named (not coded)
and cut with an ellipsis past ``LABEL_CHARACTERS``, and legends never cut.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree

import pygal
from babel.dates import format_date
from pygal.style import Style

from app.schemas.stats import StatsItem, StatsPublic
from app.web.i18n import N_, fmt_number, format_locale

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
#: Office and service labels longer than this are cut with an ellipsis (the tables give them whole).
LABEL_CHARACTERS = 26
#: At most this many labels on an axis of figures.
VALUE_LABELS = 6
WIDTH, HEIGHT, MARGIN, SPACING = 640, 400, 12, 16
#: Room kept right of the plot for half of the last figure of a horizontal axis (pygal centres it there).
RIGHT_ROOM = 44
#: A label's width in pixels per character and point of type (generous, for wide glyphs and digits).
CHARACTER_WIDTH = 0.62
#: The least gap between two labels of one axis, in pixels.
LABEL_GAP = 24


@dataclass(frozen=True)
class ChartText:
    """What a chart needs to speak the reader's language: the catalog, the language, and names of codes."""

    gettext: Gettext
    lang: str = "fr"
    office_names: Mapping[str, str] = field(default_factory=dict)
    service_names: Mapping[str, str] = field(default_factory=dict)


def value_ticks(largest: int | None, most: int = VALUE_LABELS) -> list[int]:
    """Round figures from 0 past ``largest``, at most ``most`` of them (1, 2 or 5 times a power of ten apart)."""
    top = max(largest or 0, 1)
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            count = -(-top // step) + 1
            if count <= most:
                return [step * i for i in range(count)]
        magnitude *= 10


def _largest(*series: list[int | None]) -> int | None:
    present = [v for values in series for v in values if v is not None]
    return max(present) if present else None


def text_width(label: str, size: int = STYLE.label_font_size) -> float:
    """About how wide ``label`` is drawn, in pixels (an estimate on the generous side)."""
    return len(label) * size * CHARACTER_WIDTH


def labels_that_fit(labels: list[str], room: float) -> int:
    """How many of ``labels`` fit side by side in ``room`` pixels, each with its gap (at least one)."""
    widest = max((text_width(label) for label in labels), default=0.0)
    return max(1, int(room // (widest + LABEL_GAP)))


def _value_axis(largest: int | None, lang: str, *, room: float | None) -> list[int]:
    """The figures of a value axis: at most ``VALUE_LABELS``, fewer when they must fit side by side."""
    ticks = value_ticks(largest)
    if room is None:  # a vertical axis: figures stack, six fit
        return ticks
    most = VALUE_LABELS
    # Figures sit at both ends of the axis: n of them need n - 1 gaps of the room, not n.
    while most > 2 and labels_that_fit([fmt_number(t, lang) for t in ticks], room) + 1 < len(ticks):
        most -= 1
        ticks = value_ticks(largest, most)
    return ticks


def _config(
    text: ChartText, title: str, largest: int | None, *, labels: list[str] | None = None
) -> dict[str, object]:
    """A chart's settings; ``labels``: the category labels of a horizontal chart (left of its plot)."""
    room = None
    if labels is not None:  # horizontal: figures run along the bottom, beside the category labels
        widest = max((text_width(label) for label in labels), default=0.0)
        room = WIDTH - 2 * MARGIN - widest - SPACING - RIGHT_ROOM
    return {
        "title": text.gettext(title),
        "style": STYLE,
        "js": [],  # no script at all
        "width": WIDTH,
        "height": HEIGHT,
        "legend_at_bottom": True,
        "legend_at_bottom_columns": 1,
        "truncate_legend": -1,
        "print_values": False,
        "show_y_guides": True,
        "y_labels": _value_axis(largest, text.lang, room=room),
        "value_formatter": lambda value: fmt_number(value, text.lang),
        "truncate_label": -1,
        "x_label_rotation": 0,
        "margin": MARGIN,
        "margin_right": MARGIN + (RIGHT_ROOM if labels is not None else 0),
        "spacing": SPACING,
    }


_TRANSLATE = re.compile(r"translate\(\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*\)")


def _svg(chart: pygal.graph.graph.Graph) -> bytes:
    """The chart as an SVG document without pygal's configuration script (an image runs none anyway),
    its legend moved to the chart's left edge (pygal starts it where the plot starts, after the labels
    of a horizontal chart, and a long legend then runs off the image)."""
    tree = chart.render_tree()
    for parent in list(tree.iter()):
        for child in list(parent):
            if str(child.tag).rsplit("}", 1)[-1] == "script":
                parent.remove(child)
    margin = int(chart.config.margin)
    for node in tree.iter():
        if "legends" in (node.get("class") or "").split():
            node.set(
                "transform",
                _TRANSLATE.sub(lambda m: f"translate({margin}, {m.group(2)})", node.get("transform") or ""),
            )
    body: bytes = ElementTree.tostring(tree, encoding="utf-8", xml_declaration=True)
    return body


def _sum(values: list[int | None]) -> int | None:
    present = [v for v in values if v is not None]
    return sum(present) if present else None


def urgency_chart(data: StatsPublic, text: ChartText) -> bytes:
    """Entries and offers by urgency band, all the listed offices and services together."""
    bands = list(BAND_LABELS)
    entries = [_sum([_band(i, b, "entries") for i in data.items]) for b in bands]
    offered = [_sum([_band(i, b, "offered") for i in data.items]) for b in bands]
    title = N_("Who gets drawn, by how soon the permit expires")
    labels = [text.gettext(BAND_LABELS[b]) for b in bands]
    chart = pygal.HorizontalBar(**_config(text, title, _largest(entries, offered), labels=labels))
    chart.x_labels = labels
    chart.add(text.gettext("entries in draws"), entries)
    chart.add(text.gettext("offered a slot"), offered)
    return _svg(chart)


def _band(item: StatsItem, band: str, field: str) -> int | None:
    for b in item.by_urgency:
        if b.band == band:
            value: int | None = getattr(b, field)
            return value
    return None


def month_name(month: str, lang: str) -> str:
    """``2026-12`` as the reader names it (``déc. 2026``, ``Dec 2026``)."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:
        return month
    return format_date(first, "MMM y", locale=format_locale(lang))


def months_chart(data: StatsPublic, text: ChartText) -> bytes:
    """Entries and offers per month, all the listed offices and services together."""
    months = sorted({m.month for item in data.items for m in item.by_month})
    series = {
        column: [
            _sum([getattr(m, column) for i in data.items for m in i.by_month if m.month == month])
            for month in months
        ]
        for column in ("entries", "offered")
    }
    labels = [month_name(month, text.lang) for month in months]
    config = _config(text, N_("Entries and offers per month"), _largest(*series.values()))
    figures = [fmt_number(t, text.lang) for t in value_ticks(_largest(*series.values()))]
    room = WIDTH - 2 * MARGIN - max(text_width(f) for f in figures) - SPACING
    fit = labels_that_fit(labels, room)
    chart = pygal.Bar(
        **config, x_labels_major_every=max(1, -(-len(labels) // fit)), show_minor_x_labels=False
    )
    chart.x_labels = labels
    for column, label in (("entries", N_("entries in draws")), ("offered", N_("offered a slot"))):
        chart.add(text.gettext(label), series[column])
    return _svg(chart)


def _short(name: str) -> str:
    return name if len(name) <= LABEL_CHARACTERS else name[: LABEL_CHARACTERS - 1].rstrip() + "…"


def offices_chart(data: StatsPublic, text: ChartText) -> bytes:
    """Offers and appointments attended per office and service, named as the reader knows them."""
    offered = [i.offered for i in data.items]
    attended = [i.attended for i in data.items]
    title = N_("Offers and appointments per office")
    labels = [
        _short(
            f"{text.office_names.get(i.office, i.office)} · {text.service_names.get(i.service, i.service)}"
        )
        for i in data.items
    ]
    chart = pygal.HorizontalBar(**_config(text, title, _largest(offered, attended), labels=labels))
    chart.x_labels = labels
    chart.add(text.gettext("offered a slot"), offered)
    chart.add(text.gettext("appointments attended"), attended)
    return _svg(chart)


CHARTS: dict[str, Callable[[StatsPublic, ChartText], bytes]] = {
    "urgency": urgency_chart,
    "months": months_chart,
    "offices": offices_chart,
}
