"""A booking checks in around its time: not days early, nor after its slot's end and grace."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.main import create_app
from app.runtime import Runtime
from tests.api.bookings.test_checkins import BIRTH_DATE, _book_all
from tests.assertions import assert_problem
from tests.conftest import test_settings
from tests.factories import World, auth


@pytest.fixture
def desk_client(runtime: Runtime) -> TestClient:
    """A client of an app with the production check-in window (two hours before, grace after)."""
    settings = test_settings(runtime.settings.database_url, check_in_opens_minutes_before=120)
    return TestClient(create_app(replace(runtime, settings=settings)), raise_server_exceptions=False)


def _at(world: World, desk_client: TestClient, token: str) -> object:
    return desk_client.post(
        "/api/v1/check-ins",
        json={"token": token, "document_number": "WIN-0001", "birth_date": BIRTH_DATE},
        headers=auth(world.desk),
    )


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(days=-2), "outside_check_in_window"),
        (timedelta(hours=-2, minutes=-1), "outside_check_in_window"),
        (timedelta(hours=-2), None),
        (timedelta(minutes=10), None),
        (timedelta(minutes=59), None),  # before the 30-minute slot's end plus the 30-minute grace
        (timedelta(minutes=61), "token_invalid"),  # the token expires with the window
    ],
    ids=["two-days-early", "just-too-early", "opens", "a-bit-late", "grace-ends", "after-grace"],
)
def test_a_booking_checks_in_from_two_hours_before_its_start_until_the_grace_after_its_end(
    client: TestClient,
    runtime: Runtime,
    clock: FrozenClock,
    desk_client: TestClient,
    offset: timedelta,
    expected: int,
) -> None:
    world = World(client, runtime)
    (booking,) = _book_all(world, clock, "WIN-0001")
    clock.set(datetime.fromisoformat(booking["starts_at"]) + offset)

    with desk_client:
        response = _at(world, desk_client, booking["token"])

    if expected is None:
        assert response.status_code == 200, response.text
    elif expected == "token_invalid":
        assert_problem(response, 401, "token_invalid")
    else:
        problem = assert_problem(response, 409, expected)
        assert "between" in problem["detail"]
