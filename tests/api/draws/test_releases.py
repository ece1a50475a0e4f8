"""Releases: a planner publishes slots of its office; the seed commitment is public at once, the seed later."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.models import Release, Slot
from app.runtime import Runtime
from tests.assertions import assert_problem, count_rows
from tests.factories import World, auth, create_key, create_office

HEX64 = re.compile(r"^[0-9a-f]{64}$")
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # the frozen clock's start


def iso(moment: datetime) -> str:
    return moment.isoformat()


def release_body(world: World, **overrides: Any) -> dict[str, Any]:
    """Drawn in one hour; three slots two days from now, an hour apart."""
    first = NOW + timedelta(days=2)
    return {
        "office": world.office,
        "service": world.service,
        "draw_at": iso(NOW + timedelta(hours=1)),
        "slots": [{"starts_at": iso(first + timedelta(hours=i))} for i in range(3)],
        **overrides,
    }


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


def publish(client: TestClient, key: str, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/releases", json=body, headers=auth(key))


# --- creating ------------------------------------------------------------------------------------------


def test_a_planner_of_the_office_publishes_a_scheduled_release_with_a_seed_commitment(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    response = publish(client, world.planner, release_body(world))

    assert response.status_code == 201, response.text
    body = response.json()
    assert isinstance(body["id"], int)
    assert body["status"] == "scheduled"
    assert HEX64.match(body["seed_commitment"])
    assert body["slot_count"] == 3
    assert datetime.fromisoformat(body["draw_at"]) == NOW + timedelta(hours=1)
    assert "seed" not in body
    assert count_rows(runtime, Release) == 1
    assert count_rows(runtime, Slot) == 3


def test_desks_make_parallel_slots_that_are_all_counted(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    body = release_body(world)
    body["slots"][0]["desks"] = 4
    body["slots"][1]["desks"] = 2

    response = publish(client, world.planner, body)

    assert response.status_code == 201, response.text
    assert response.json()["slot_count"] == 4 + 2 + 1
    assert count_rows(runtime, Slot) == 7


def test_each_release_gets_its_own_seed_commitment(client: TestClient, world: World) -> None:
    first = world.release()
    second = world.release()
    assert first["seed_commitment"] != second["seed_commitment"]
    assert first["id"] != second["id"]


def test_the_same_instant_may_be_written_with_any_offset(client: TestClient, world: World) -> None:
    body = release_body(
        world,
        draw_at="2026-12-01T10:00:00+01:00",
        slots=[{"starts_at": "2026-12-03T09:00:00Z"}, {"starts_at": "2026-12-03T11:00:00+01:00"}],
    )

    response = publish(client, world.planner, body)

    assert response.status_code == 201, response.text
    assert datetime.fromisoformat(response.json()["draw_at"]) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def test_an_admin_may_not_publish_releases(client: TestClient, world: World) -> None:
    # The contract gives publishing to planners alone; an admin manages offices, services and keys.
    response = publish(client, world.admin, release_body(world))
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "forbidden"


def test_a_planner_of_several_offices_publishes_for_each(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other = create_office(client, world.admin)["code"]
    planner = create_key(runtime, "planner", [world.office, other])

    assert publish(client, planner, release_body(world)).status_code == 201
    assert publish(client, planner, release_body(world, office=other)).status_code == 201


def test_five_thousand_slots_counting_desks_is_the_most_a_release_may_hold(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    first = NOW + timedelta(days=2)
    body = release_body(
        world, slots=[{"starts_at": iso(first + timedelta(hours=i)), "desks": 100} for i in range(50)]
    )

    response = publish(client, world.planner, body)

    assert response.status_code == 201, response.text
    assert response.json()["slot_count"] == 5000
    assert count_rows(runtime, Slot) == 5000


def test_the_offer_time_to_live_is_kept_or_defaults_to_the_setting(client: TestClient, world: World) -> None:
    custom = publish(client, world.planner, release_body(world, offer_ttl_hours=12)).json()
    default = publish(client, world.planner, release_body(world)).json()

    assert client.get(f"/api/v1/releases/{custom['id']}").json()["offer_ttl_hours"] == 12
    assert client.get(f"/api/v1/releases/{default['id']}").json()["offer_ttl_hours"] == 48


# --- reading -------------------------------------------------------------------------------------------


def test_anyone_reads_a_release_with_its_commitment_and_no_seed_before_the_draw(
    client: TestClient, world: World
) -> None:
    created = world.release(slots=2, desks=3)

    response = client.get(f"/api/v1/releases/{created['id']}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == created["id"]
    assert body["office"] == world.office
    assert body["service"] == world.service
    assert body["kind"] == "release"
    assert body["status"] == "scheduled"
    assert body["seed_commitment"] == created["seed_commitment"]
    assert body["seed"] is None
    assert body["draw_id"] is None
    assert body["drawn_at"] is None
    assert body["slot_count"] == 6


def test_the_release_list_shows_commitments_and_hides_seeds_before_the_draw(
    client: TestClient, world: World
) -> None:
    early = world.release(draw_in=timedelta(hours=1))
    late = world.release(draw_in=timedelta(hours=5))

    listed = client.get("/api/v1/releases").json()

    assert [r["id"] for r in listed] == [late["id"], early["id"]]  # newest draw time first
    assert [r["seed_commitment"] for r in listed] == [late["seed_commitment"], early["seed_commitment"]]
    assert all(r["seed"] is None and r["status"] == "scheduled" for r in listed)


def test_the_release_list_can_be_filtered_by_office_service_and_status(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other = create_office(client, world.admin)["code"]
    planner = create_key(runtime, "planner", [other])
    mine = world.release()
    publish(client, planner, release_body(world, office=other))

    assert [r["id"] for r in client.get("/api/v1/releases", params={"office": world.office}).json()] == [
        mine["id"]
    ]
    assert len(client.get("/api/v1/releases", params={"service": world.service}).json()) == 2
    assert client.get("/api/v1/releases", params={"status": "drawn"}).json() == []
    assert client.get("/api/v1/releases", params={"office": "nowhere"}).json() == []
    assert_problem(client.get("/api/v1/releases", params={"status": "lost"}), 422, "validation_error")


def test_after_the_draw_the_seed_is_public_and_matches_the_commitment(
    client: TestClient, clock: FrozenClock, world: World
) -> None:
    world.applicant()
    created = world.release()
    clock.advance(timedelta(hours=2))

    drawn = client.post(f"/api/v1/releases/{created['id']}/draw", json={}, headers=auth(world.planner))

    assert drawn.status_code == 200, drawn.text
    summary = drawn.json()
    assert summary["entries"] == 1
    assert summary["offered"] == 1
    body = client.get(f"/api/v1/releases/{created['id']}").json()
    assert body["status"] == "drawn"
    assert body["draw_id"] == summary["draw_id"]
    assert HEX64.match(body["seed"])
    assert hashlib.sha256(bytes.fromhex(body["seed"])).hexdigest() == created["seed_commitment"]
    assert body["seed_commitment"] == created["seed_commitment"]


def test_a_release_is_drawn_once_only(client: TestClient, clock: FrozenClock, world: World) -> None:
    created = world.release()
    clock.advance(timedelta(hours=2))
    assert (
        client.post(f"/api/v1/releases/{created['id']}/draw", headers=auth(world.planner)).status_code == 200
    )

    again = client.post(f"/api/v1/releases/{created['id']}/draw", headers=auth(world.planner))

    assert_problem(again, 409, "already_drawn")


def test_a_draw_before_its_time_is_a_409_too_early_and_draws_nothing(
    client: TestClient, world: World
) -> None:
    created = world.release()

    response = client.post(f"/api/v1/releases/{created['id']}/draw", headers=auth(world.planner))

    assert_problem(response, 409, "too_early")
    release = client.get(f"/api/v1/releases/{created['id']}").json()
    assert release["status"] == "scheduled"
    assert release["seed"] is None


def test_drawing_an_unknown_release_is_a_404(client: TestClient, world: World) -> None:
    assert_problem(client.post("/api/v1/releases/424242/draw", headers=auth(world.planner)), 404, "not_found")


def test_reading_an_unknown_release_is_a_404(client: TestClient, world: World) -> None:
    assert_problem(client.get("/api/v1/releases/424242"), 404, "not_found")


@pytest.mark.parametrize("release_id", ["0", "-3", "abc", "1e3", str(2**31)])
def test_a_release_id_that_is_not_a_positive_integer_is_a_422(
    client: TestClient, world: World, release_id: str
) -> None:
    assert_problem(client.get(f"/api/v1/releases/{release_id}"), 422, "validation_error")


# --- validation ----------------------------------------------------------------------------------------

FIRST = NOW + timedelta(days=2)


def _slots(*moments: datetime | str) -> list[dict[str, Any]]:
    return [{"starts_at": m if isinstance(m, str) else iso(m)} for m in moments]


INVALID_RELEASES = [
    pytest.param({"slots": _slots(NOW - timedelta(hours=1))}, "slots.0.starts_at", id="slot-in-the-past"),
    pytest.param({"slots": _slots(FIRST, NOW)}, "slots.1.starts_at", id="slot-starting-now"),
    pytest.param(
        {"draw_at": iso(FIRST + timedelta(hours=1)), "slots": _slots(FIRST, FIRST + timedelta(hours=2))},
        "slots.0.starts_at",
        id="draw-after-first-slot",
    ),
    pytest.param(
        {"draw_at": iso(FIRST), "slots": _slots(FIRST)}, "slots.0.starts_at", id="draw-at-first-slot"
    ),
    pytest.param({"slots": _slots(FIRST, FIRST)}, "slots.1.starts_at", id="duplicate-start"),
    pytest.param(
        {"slots": _slots("2026-12-03T09:00:00Z", "2026-12-03T10:00:00+01:00")},
        "slots.1.starts_at",
        id="duplicate-start-other-offset",
    ),
    pytest.param({"draw_at": iso(NOW - timedelta(hours=1))}, "draw_at", id="draw-in-the-past"),
    pytest.param({"draw_at": "2026-12-01T09:00:00"}, "draw_at", id="naive-draw-at"),
    pytest.param({"slots": _slots("2026-12-03T10:00:00")}, "slots.0.starts_at", id="naive-slot"),
    pytest.param({"slots": _slots("2026-12-03")}, "slots.0.starts_at", id="date-only-slot"),
    pytest.param({"draw_at": "tomorrow"}, "draw_at", id="draw-at-in-words"),
    pytest.param({"draw_at": 1796112000}, "draw_at", id="draw-at-as-epoch"),
    pytest.param({"slots": _slots("03/12/2026 10:00")}, "slots.0.starts_at", id="slot-in-local-format"),
    pytest.param({"office": "atlantis"}, "office", id="unknown-office"),
    pytest.param({"service": "teleportation"}, "service", id="unknown-service"),
    pytest.param({"office": "Not A Code"}, "office", id="office-not-a-code"),
    pytest.param({"slots": []}, "slots", id="no-slots"),
    pytest.param({"slots": [{"starts_at": iso(FIRST), "desks": 0}]}, "slots.0.desks", id="zero-desks"),
    pytest.param({"slots": [{"starts_at": iso(FIRST), "desks": 101}]}, "slots.0.desks", id="too-many-desks"),
    pytest.param({"slots": [{"starts_at": iso(FIRST), "desks": True}]}, "slots.0.desks", id="boolean-desks"),
    pytest.param(
        {"slots": [{"starts_at": iso(FIRST), "room": "B"}]}, "slots.0.room", id="unknown-slot-field"
    ),
    pytest.param({"offer_ttl_hours": 0}, "offer_ttl_hours", id="ttl-zero"),
    pytest.param({"offer_ttl_hours": 337}, "offer_ttl_hours", id="ttl-over-two-weeks"),
    pytest.param({"offer_ttl_hours": "48"}, "offer_ttl_hours", id="ttl-as-string"),
    pytest.param({"colour": "blue"}, "colour", id="unknown-field"),
    pytest.param(
        {
            "slots": [{"starts_at": iso(FIRST + timedelta(hours=i)), "desks": 100} for i in range(50)]
            + [{"starts_at": iso(FIRST + timedelta(hours=60))}]
        },
        "slots",
        id="5001-slots-counting-desks",
    ),
]


@pytest.mark.parametrize(("change", "path"), INVALID_RELEASES)
def test_an_invalid_release_is_a_422_naming_the_field_and_creates_nothing(
    client: TestClient, runtime: Runtime, world: World, change: dict[str, Any], path: str
) -> None:
    response = publish(client, world.planner, release_body(world, **change))

    body = assert_problem(response, 422, "validation_error")
    assert path in {e["path"] for e in body["errors"]}
    assert count_rows(runtime, Release) == 0
    assert count_rows(runtime, Slot) == 0


def test_every_problem_of_a_release_is_listed_together(client: TestClient, world: World) -> None:
    body = release_body(
        world,
        draw_at=iso(NOW - timedelta(hours=2)),
        slots=_slots(NOW - timedelta(hours=1), FIRST, FIRST),
    )

    problem = assert_problem(publish(client, world.planner, body), 422, "validation_error")

    assert {"draw_at", "slots.0.starts_at", "slots.2.starts_at"} <= {e["path"] for e in problem["errors"]}


@pytest.mark.parametrize("missing", ["office", "service", "draw_at", "slots"])
def test_a_release_without_a_required_field_is_a_422_naming_it(
    client: TestClient, runtime: Runtime, world: World, missing: str
) -> None:
    body = {k: v for k, v in release_body(world).items() if k != missing}

    problem = assert_problem(publish(client, world.planner, body), 422, "validation_error")

    assert missing in {e["path"] for e in problem["errors"]}
    assert count_rows(runtime, Release) == 0


# --- who may publish -----------------------------------------------------------------------------------


def test_a_planner_of_another_office_is_forbidden_and_nothing_is_created(
    client: TestClient, runtime: Runtime, world: World
) -> None:
    other = create_office(client, world.admin)["code"]
    outsider = create_key(runtime, "planner", [other])

    response = publish(client, outsider, release_body(world))

    assert_problem(response, 403, "forbidden")
    assert count_rows(runtime, Release) == 0


@pytest.mark.parametrize("role", ["desk", "auditor"])
def test_desk_and_auditor_keys_may_not_publish(
    client: TestClient, runtime: Runtime, world: World, role: str
) -> None:
    key = create_key(runtime, role, [world.office] if role == "desk" else None)

    assert_problem(publish(client, key, release_body(world)), 403, "forbidden")
    assert count_rows(runtime, Release) == 0


def test_publishing_without_a_key_is_a_401(client: TestClient, runtime: Runtime, world: World) -> None:
    response = client.post("/api/v1/releases", json=release_body(world))
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert count_rows(runtime, Release) == 0


@pytest.mark.parametrize("role", ["desk", "auditor"])
def test_desk_and_auditor_keys_may_not_draw(
    client: TestClient, runtime: Runtime, world: World, role: str
) -> None:
    created = world.release()
    key = create_key(runtime, role, [world.office] if role == "desk" else None)
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]

    assert_problem(client.post(f"/api/v1/releases/{created['id']}/draw", headers=auth(key)), 403, "forbidden")
    assert client.get(f"/api/v1/releases/{created['id']}").json()["status"] == "scheduled"
