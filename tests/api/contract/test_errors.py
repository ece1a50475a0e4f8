"""Errors: every one is application/problem+json with a stable code; bad input never changes data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.models import metadata
from app.runtime import Runtime
from tests.factories import World, auth, request_body

LIMIT = 64 * 1024
SNAKE = re.compile(r"^[a-z][a-z0-9_]*$")
JSON_HEADERS = {"Content-Type": "application/json"}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert SNAKE.match(body["code"])
    assert isinstance(body["type"], str) and body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def row_counts(runtime: Runtime) -> dict[str, int]:
    with runtime.engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def padded_office(size: int) -> bytes:
    """An office body of exactly ``size`` bytes (its name is far too long, so it is never created)."""
    skeleton = {"code": "big", "name": "", "timezone": "Europe/Paris"}
    filler = size - len(json.dumps(skeleton).encode())
    body = json.dumps({**skeleton, "name": "x" * filler}).encode()
    assert len(body) == size
    return body


def chunks(data: bytes, size: int = 8192) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


# --- malformed and oversized bodies --------------------------------------------------------------------

MALFORMED = [
    pytest.param(b"{", id="unclosed"),
    pytest.param(b'{"service": "x",}', id="trailing-comma"),
    pytest.param(b"{'service': 'x'}", id="single-quotes"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
]


@pytest.mark.parametrize("payload", MALFORMED)
def test_malformed_json_is_a_400_malformed_json(
    client: TestClient, runtime: Runtime, world: World, payload: bytes
) -> None:
    before = row_counts(runtime)

    response = client.post("/api/v1/requests", content=payload, headers=JSON_HEADERS)

    assert_problem(response, 400, "malformed_json")
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    ("path", "staff"),
    [
        ("/api/v1/offices", True),
        ("/api/v1/services", True),
        ("/api/v1/staff-keys", True),
        ("/api/v1/releases", True),
    ],
    ids=["offices", "services", "staff-keys", "releases"],
)
def test_malformed_json_is_a_400_on_every_staff_route(
    client: TestClient, world: World, path: str, staff: bool
) -> None:
    response = client.post(path, content=b'{"code": ', headers={**JSON_HEADERS, **auth(world.admin)})
    assert_problem(response, 400, "malformed_json")


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_number_literals_are_refused_without_changing_anything(
    client: TestClient, runtime: Runtime, world: World, literal: str
) -> None:
    before = row_counts(runtime)
    payload = '{"code": "s", "name": "S", "slot_minutes": 30, "weight_policy": {"vulnerability": LITERAL}}'
    payload = payload.replace("LITERAL", literal)

    response = client.post(
        "/api/v1/services", content=payload.encode(), headers={**JSON_HEADERS, **auth(world.admin)}
    )

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert row_counts(runtime) == before


@pytest.mark.parametrize(
    "payload", [b"", b"[]", b"null", b'"text"', b"42"], ids=["empty", "array", "null", "string", "number"]
)
def test_a_body_that_is_json_but_not_an_object_is_a_422(
    client: TestClient, world: World, payload: bytes
) -> None:
    response = client.post("/api/v1/requests", content=payload, headers=JSON_HEADERS)
    body = assert_problem(response, 422, "validation_error")
    assert body["errors"]


def test_a_body_over_64_kib_is_a_413_payload_too_large(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    before = row_counts(runtime)

    response = client.post(
        "/api/v1/offices", content=padded_office(LIMIT + 1), headers={**JSON_HEADERS, **auth(world.admin)}
    )

    assert_problem(response, 413, "payload_too_large")
    assert row_counts(runtime) == before


def test_a_body_of_exactly_64_kib_is_read_and_validated(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/offices", content=padded_office(LIMIT), headers={**JSON_HEADERS, **auth(world.admin)}
    )
    body = assert_problem(response, 422, "validation_error")
    assert "name" in {e["path"] for e in body["errors"]}


def test_a_huge_body_is_refused_before_authentication(client: TestClient, world: World) -> None:
    response = client.post("/api/v1/offices", content=b"x" * (10 * LIMIT), headers=JSON_HEADERS)
    assert_problem(response, 413, "payload_too_large")


def test_a_streamed_body_over_64_kib_is_a_413_with_an_idempotency_key(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    before = row_counts(runtime)

    response = client.post(
        "/api/v1/offices",
        content=chunks(padded_office(LIMIT + 1024)),
        headers={**JSON_HEADERS, **auth(world.admin), "Idempotency-Key": "stream"},
    )

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413, "payload_too_large")
    assert row_counts(runtime) == before


def test_a_streamed_body_over_64_kib_is_a_413(client: TestClient, runtime: Runtime, world: World) -> None:
    response = client.post(
        "/api/v1/offices",
        content=chunks(padded_office(LIMIT + 1024)),
        headers={**JSON_HEADERS, **auth(world.admin)},
    )

    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413, "payload_too_large")


# --- routing -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/nowhere", "/api/v1/nowhere", "/api/v2/offices", "/api/v1/offices/extra/bits"]
)
def test_an_unknown_route_is_a_404_problem(client: TestClient, path: str) -> None:
    assert_problem(client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/api/v1/requests", "POST"),
        ("DELETE", "/api/v1/offices", "GET"),  # Starlette names the first matching route's methods only
        ("PATCH", "/api/v1/staff-keys/1", "DELETE"),
        ("POST", "/healthz", "GET"),
    ],
    ids=["put-requests", "delete-offices", "patch-staff-key", "post-healthz"],
)
def test_a_wrong_method_is_a_405_problem_that_lists_the_allowed_ones(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)

    assert_problem(response, 405, "method_not_allowed")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= set(
        allowed.replace(" ", "").split(",")
    )


# --- every error has the same shape --------------------------------------------------------------------

Call = Callable[[TestClient, World], Any]
ERRORS: list[Any] = [
    pytest.param(
        lambda c, w: c.post("/api/v1/requests", content=b"{", headers=JSON_HEADERS),
        400,
        "malformed_json",
        id="400",
    ),
    pytest.param(lambda c, w: c.post("/api/v1/offices", json={}), 401, "unauthorized", id="401"),
    pytest.param(
        lambda c, w: c.post("/api/v1/offices", json={}, headers=auth(w.desk)),
        422,
        "validation_error",
        id="422-body",
    ),
    pytest.param(
        lambda c, w: c.post(
            "/api/v1/offices", json={"code": "x", "name": "X", "timezone": "UTC"}, headers=auth(w.desk)
        ),
        403,
        "forbidden",
        id="403",
    ),
    pytest.param(lambda c, w: c.get("/api/v1/nowhere"), 404, "not_found", id="404-route"),
    pytest.param(lambda c, w: c.get("/api/v1/releases/99999"), 404, "not_found", id="404-release"),
    pytest.param(
        lambda c, w: c.get("/api/v1/requests/00000000-0000-0000-0000-000000000000", headers=auth("x" * 32)),
        404,
        "not_found",
        id="404-request",
    ),
    pytest.param(lambda c, w: c.delete("/api/v1/offices"), 405, "method_not_allowed", id="405"),
    pytest.param(
        lambda c, w: c.post(
            "/api/v1/offices", json={"code": w.office, "name": "X", "timezone": "UTC"}, headers=auth(w.admin)
        ),
        409,
        "already_exists",
        id="409",
    ),
    pytest.param(
        lambda c, w: c.post("/api/v1/requests", content=b"x" * (LIMIT + 1), headers=JSON_HEADERS),
        413,
        "payload_too_large",
        id="413",
    ),
    pytest.param(lambda c, w: c.get("/api/v1/releases/abc"), 422, "validation_error", id="422-path"),
    pytest.param(lambda c, w: c.get("/api/v1/releases?limit=0"), 422, "validation_error", id="422-query"),
    pytest.param(
        lambda c, w: c.post("/api/v1/requests", json={}, headers={"Idempotency-Key": "k" * 300}),
        422,
        "invalid_idempotency_key",
        id="422-idempotency-key",
    ),
]


@pytest.mark.parametrize(("call", "status", "code"), ERRORS)
def test_every_error_is_a_problem_document_with_a_stable_code(
    client: TestClient, world: World, call: Call, status: int, code: str
) -> None:
    response = call(client, world)

    body = assert_problem(response, status, code)
    assert response.headers["x-content-type-options"] == "nosniff"
    if status == 422 and code == "validation_error":
        assert body["errors"]
        assert all({"path", "message"} <= e.keys() for e in body["errors"])


def test_a_validation_problem_lists_field_paths_without_echoing_the_input(
    client: TestClient, world: World
) -> None:
    body = request_body(world.service, [world.office])
    body["identity"]["birth_date"] = "secret-birth-date-xyz"

    problem = assert_problem(client.post("/api/v1/requests", json=body), 422, "validation_error")

    assert [e["path"] for e in problem["errors"]] == ["identity.birth_date"]
    assert "secret-birth-date-xyz" not in json.dumps(problem)


# --- refused inputs change nothing ---------------------------------------------------------------------


def test_a_battery_of_refused_inputs_changes_no_row(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    world.release()
    world.applicant()
    before = row_counts(runtime)
    admin = auth(world.admin)
    attempts = [
        client.post("/api/v1/offices", content=b"{", headers={**JSON_HEADERS, **admin}),
        client.post(
            "/api/v1/offices", json={"code": "x", "name": "X", "timezone": "Mars/Base"}, headers=admin
        ),
        client.post(
            "/api/v1/offices", json={"code": world.office, "name": "X", "timezone": "UTC"}, headers=admin
        ),
        client.post(
            "/api/v1/offices", json={"code": "y", "name": "Y", "timezone": "UTC"}, headers=auth(world.desk)
        ),
        client.post("/api/v1/services", json={"code": "s", "name": "S", "slot_minutes": True}, headers=admin),
        client.post("/api/v1/staff-keys", json={"role": "planner", "offices": []}, headers=admin),
        client.post("/api/v1/staff-keys", json={"role": "root"}, headers=admin),
        client.delete("/api/v1/staff-keys/99999", headers=admin),
        client.post(
            "/api/v1/releases",
            json={
                "office": world.office,
                "service": world.service,
                "draw_at": "2020-01-01T00:00:00Z",
                "slots": [],
            },
            headers=auth(world.planner),
        ),
        client.post("/api/v1/requests", json=request_body(world.service, ["nowhere"])),
        client.post("/api/v1/requests", json={**request_body(world.service, [world.office]), "extra": 1}),
        client.post("/api/v1/requests", content=b"x" * (LIMIT + 1), headers=JSON_HEADERS),
        client.post("/api/v1/releases/99999/draw", headers=auth(world.planner)),
        client.put("/api/v1/offices", json={"code": "z"}),
    ]

    assert all(400 <= a.status_code < 500 for a in attempts), [a.status_code for a in attempts]
    assert row_counts(runtime) == before


# --- hostile text never produces a 500 -----------------------------------------------------------------

NUL_LABELS = [
    pytest.param(
        "/api/v1/offices", {"code": "nul", "name": "A\x00B", "timezone": "UTC"}, "name", id="office-name"
    ),
    pytest.param(
        "/api/v1/services", {"code": "nul", "name": "A\x00B", "slot_minutes": 30}, "name", id="service-name"
    ),
    pytest.param("/api/v1/staff-keys", {"role": "auditor", "label": "A\x00B"}, "label", id="staff-key-label"),
]


@pytest.mark.parametrize(("path", "body", "field"), NUL_LABELS)
def test_control_characters_in_staff_written_labels_are_a_422(
    client: TestClient, runtime: Runtime, world: World, path: str, body: dict[str, Any], field: str
) -> None:
    before = row_counts(runtime)

    problem = assert_problem(client.post(path, json=body, headers=auth(world.admin)), 422, "validation_error")

    assert field in {e["path"] for e in problem["errors"]}
    assert row_counts(runtime) == before


@pytest.mark.parametrize("name", ["office", "service"])
def test_a_release_filter_with_a_nul_byte_is_not_a_500(
    client: TestClient, world: World, is_postgres: bool, request: pytest.FixtureRequest, name: str
) -> None:
    response = client.get("/api/v1/releases", params={name: "a\x00b"})

    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json() == []


# --- OpenAPI and operations ----------------------------------------------------------------------------


def test_the_openapi_document_declares_the_problems_of_submitting_a_request(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    responses = schema["paths"]["/api/v1/requests"]["post"]["responses"]

    for status in ("400", "409", "413", "422"):
        content = responses[status]["content"]
        assert content["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = schema["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code", "errors"} <= problem["properties"].keys()


def test_every_post_route_with_a_body_declares_its_400_413_and_422_problems(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()

    posts = {
        path: item["post"]
        for path, item in schema["paths"].items()
        if "post" in item and "requestBody" in item["post"]
    }

    assert {"/api/v1/requests", "/api/v1/offices", "/api/v1/staff-keys", "/api/v1/releases"} <= posts.keys()
    for path, operation in posts.items():
        for status in ("400", "413", "422"):
            assert "application/problem+json" in operation["responses"][status]["content"], (path, status)


def test_health_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readiness_checks_the_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_metrics_are_prometheus_text(client: TestClient) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# HELP " in response.text
    assert "# TYPE " in response.text
