"""Numbers in paths, query strings and forms are ASCII digits: "²" or "٣" is a 404 or a 422, never a 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from app.web.form_fields import whole_number
from tests.factories import World
from tests.web.helpers import apply_data, sign_in, token_for

ODD_DIGITS = ["²", "٣", "१", "1²", "𝟙"]  # noqa: RUF001 - the point of the test


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_whole_number_reads_ascii_digits_only(odd: str) -> None:
    assert whole_number(odd) is None
    assert whole_number("12") == 12
    assert whole_number("12", 1, 10) is None


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_a_draw_page_with_odd_digits_is_a_404_and_its_page_number_falls_back(
    client: TestClient, world: World, odd: str
) -> None:
    assert client.get(f"/draws/{odd}").status_code == 404
    assert client.get(f"/draws/1?page={odd}").status_code == 404  # no draw 1 yet, and no 500


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_odd_digits_in_the_apply_weekdays_are_a_422(client: TestClient, world: World, odd: str) -> None:
    token = token_for(client)
    data = {"csrf_token": token, **apply_data(world.service, world.office), "weekdays": [odd]}

    response = client.post("/apply", data=data)

    assert response.status_code == 422, response.text


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_odd_digits_in_the_planners_desks_are_a_422(client: TestClient, world: World, odd: str) -> None:
    token = sign_in(client, world.planner)
    form = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "draw_at": "2026-12-01T12:00",
        "first_day": "2026-12-07",
        "last_day": "2026-12-11",
        "weekdays": ["1"],
        "times": "09:00",
        "desks": odd,
        "offer_ttl_hours": odd,
    }

    assert client.post("/staff/releases", data=form).status_code == 422


@pytest.mark.parametrize("odd", ODD_DIGITS)
def test_odd_digits_in_the_admins_slot_minutes_are_a_422(client: TestClient, world: World, odd: str) -> None:
    token = sign_in(client, world.admin)

    response = client.post(
        "/staff/services", data={"csrf_token": token, "code": "svc", "name": "Service", "slot_minutes": odd}
    )

    assert response.status_code == 422, response.text
