"""Every time on the staff pages is the office's local time and says so: one release's draw reads the same in
the demand table and in the releases table."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.factories import World, create_key
from tests.web.helpers import sign_in


def _cell_times(html: str, table_id_or_class: str) -> list[str]:
    table = re.search(rf'<table (?:id|class)="{table_id_or_class}".*?</table>', html, re.S)
    assert table, f"no table {table_id_or_class}"
    return re.findall(r"\d{1,2} \w+\.? \d{4}, \d{2}:\d{2} \([^)]*\)", table.group(0))


def test_the_staff_home_shows_a_releases_draw_in_the_offices_time_labelled_everywhere(client, runtime, clock):
    world = World(client, runtime)
    world.release(draw_in=timedelta(hours=6))  # 14:00 UTC: 15:00 in Paris in December
    world.applicant()
    sign_in(client, world.admin)

    english = client.get("/staff?lang=en").text
    french = client.get("/staff?lang=fr").text

    assert _cell_times(english, "demand") == ["1 Dec 2026, 15:00 (Paris time)"]
    assert "1 Dec 2026, 15:00 (Paris time)" in _cell_times(english, "releases")
    assert "14:00" not in english
    assert _cell_times(french, "demand") == ["1 déc. 2026, 15:00 (heure de Paris)"]
    oldest = _cell_times(english, "outbox")  # a message about the new request waits to be sent
    assert oldest == ["1 Dec 2026, 09:00 (Paris time)"]


def test_the_demand_table_names_offices_and_services_not_their_codes(client, runtime):
    world = World(client, runtime)
    world.release()
    planner = create_key(runtime, "planner", [world.office])
    sign_in(client, planner)

    page = client.get("/staff?lang=en").text
    demand = re.search(r'<table id="demand">.*?</table>', page, re.S)

    assert demand
    assert "Test office" in demand.group(0) and "Test service" in demand.group(0)
    assert world.office not in demand.group(0)
