"""``/stats``: the statistics page, its SVG charts, and its refusal of a bad month."""

from __future__ import annotations

from datetime import timedelta

from app.services import scheduler
from tests.factories import World, days_from


def _drawn(client, runtime, clock, applicants: int = 12, slots: int = 6) -> World:
    world = World(client, runtime)
    for i in range(applicants):
        world.applicant(**({"permit_expires_on": days_from(world.now.date(), 10)} if i % 2 else {}))
    world.release(slots=slots)
    clock.advance(timedelta(hours=2))
    scheduler.tick(runtime)
    return world


def test_the_stats_page_shows_the_figures_and_links_its_svg_charts(client, runtime, clock):
    _drawn(client, runtime, clock)
    page = client.get("/stats", params={"lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Test office · Test service" in html
    assert "/stats/charts/urgency.svg" in html and "<script" not in html
    assert "Entries in draws" in html and ">12<" in html  # 12 entries, published (>= 5)
    chart = client.get("/stats/charts/urgency.svg")
    assert chart.status_code == 200
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert "script-src" not in chart.headers["content-security-policy"]
    assert b"<svg" in chart.content and b"<script" not in chart.content
    for name in ("months", "offices"):
        assert client.get(f"/stats/charts/{name}.svg").status_code == 200
    assert client.get("/stats/charts/nothing.svg").status_code == 404


def test_a_month_that_is_not_whole_gets_a_clear_page_and_no_chart(client, runtime):
    page = client.get("/stats", params={"since": "2026-12-01", "lang": "en"})
    assert page.status_code == 422
    assert "YYYY-MM" in page.text
    assert client.get("/stats/charts/urgency.svg", params={"since": "2026-13"}).status_code == 422
