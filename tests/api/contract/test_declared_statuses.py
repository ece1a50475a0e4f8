"""Every status an API operation answers is one its OpenAPI document declares, whoever calls it.

Each operation is called, with a body it accepts, by every kind of caller: nobody, a credential that is no
key, an unknown staff key, a revoked one, a key of each role, and an applicant's access code. Whatever each
gets (200, 401, 403, 404, 409, 422...) must be among the operation's declared responses, as schemathesis'
``status_code_conformance`` checks, but for every credential rather than the ones a fuzzer happens to try.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.db.engine import session_scope
from app.domain.access import Role
from app.runtime import Runtime
from app.services import scheduler
from app.services.staff import keys as staff_keys
from tests.factories import World, create_key, request_body

#: It proves the face, not the database: once, on SQLite.
pytestmark = pytest.mark.once


def _bodies(world: World, applicant: dict[str, Any]) -> dict[tuple[str, str], Any]:
    """A body each POST operation accepts from a caller allowed to make it."""
    soon = world.now + timedelta(days=3)
    return {
        ("post", "/api/v1/offices"): {"code": "declared", "name": "Declared", "timezone": "Europe/Paris"},
        ("post", "/api/v1/services"): {"code": "declared", "name": "Declared", "slot_minutes": 30},
        ("post", "/api/v1/staff-keys"): {"role": "desk", "offices": [world.office], "label": "declared"},
        ("post", "/api/v1/releases"): {
            "office": world.office,
            "service": world.service,
            "draw_at": (world.now + timedelta(hours=2)).isoformat(),
            "slots": [{"starts_at": soon.isoformat()}],
        },
        ("post", "/api/v1/releases/{release_id}/draw"): {},
        ("post", "/api/v1/requests"): request_body(world.service, [world.office]),
        ("post", "/api/v1/requests/{request_id}/phone-verification"): {"code": "123456"},
        ("post", "/api/v1/check-ins"): {
            "token": "not-a-token",
            "document_number": "P00000001",
            "birth_date": "1990-04-12",
        },
        ("post", "/api/v1/attestations/verify"): {"attestation": "not-an-attestation"},
        ("post", "/api/v1/identity-recoveries"): {
            "service": world.service,
            "document_number": applicant["document_number"],
            "birth_date": "1990-04-12",
            "reason": "lost_code",
        },
        ("post", "/api/v1/requests/{request_id}/claims"): {"claim": "permit_expiry", "verdict": "confirmed"},
        ("post", "/api/v1/bookings/{booking_id}/attendance"): {"outcome": "absent"},
    }


def _revoked_key(runtime: Runtime, office: str) -> str:
    key = create_key(runtime, "partner", [office])
    with session_scope(runtime.engine) as session:
        staff = staff_keys.authenticate(session, key)
        staff_keys.revoke_key(session=session, key_id=staff.key_id, staff=staff_keys.operator("test"))
    return key


def test_every_status_any_caller_gets_is_declared_in_the_openapi_document(
    client: TestClient, runtime: Runtime, clock: Any
) -> None:
    world = World(client, runtime)
    n = 7001
    applicant = {**world.applicant(n=n), "document_number": f"P{n:08d}"}
    release = world.release(slots=1)
    clock.advance(timedelta(hours=1))
    (draw_id,) = scheduler.tick(runtime).draws
    keys = {role.value: create_key(runtime, role.value, [world.office]) for role in Role}
    callers: dict[str, str | None] = {
        "nobody": None,
        "not a key": "Bearer " + "x" * 20,
        "malformed": "Basic abc",
        "unknown staff key": "Bearer fsk_" + "0" * 40,
        "revoked staff key": "Bearer " + _revoked_key(runtime, world.office),
        **{f"{role} key": "Bearer " + key for role, key in keys.items()},
        "access code": "Bearer " + applicant["access_code"],
    }
    values = {
        "request_id": applicant["id"],
        "release_id": str(release["id"]),
        "draw_id": str(draw_id),
        "key_id": "999999",
        "chain_hash": "0" * 64,
        "round_number": "1",
        "office": world.office,
        "code": world.office,
        "service": world.service,
        "account_id": "999999",
        "closure_id": "999999",
        "rule_id": "999999",
        "booking_id": "00000000-0000-4000-8000-000000000000",
    }
    schema = client.get("/openapi.json").json()
    bodies = _bodies(world, applicant)

    undeclared: set[str] = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            url = path.format(**{name: values[name] for name in values if "{" + name + "}" in path})
            for caller, authorization in callers.items():
                headers = {"Authorization": authorization} if authorization else {}
                body = bodies.get((method, path))
                answer = client.request(method.upper(), url, headers=headers, json=body)
                if str(answer.status_code) not in operation["responses"]:
                    undeclared.add(f"{method.upper()} {path}: {answer.status_code} for {caller}")

    assert sorted(undeclared) == []
