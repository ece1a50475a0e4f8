"""Bad input that used to escape the rules (issue 15, items 2 and 7 to 12): each is a clear 4xx, counted."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.assertions import assert_problem
from tests.factories import World, request_body


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def test_a_duplicate_request_says_an_office_agent_can_help_with_a_lost_code(
    client: TestClient, world: World
) -> None:
    body = request_body(world.service, [world.office])
    assert client.post("/api/v1/requests", json=body).status_code == 201

    again = client.post("/api/v1/requests", json=body)

    problem = assert_problem(again, 409, "duplicate_request")
    assert "lost your access code" in problem["detail"].lower()
    assert "office agent" in problem["detail"]
