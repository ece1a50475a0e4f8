"""Who may use the channel routes: every actor against intake by key, the partner list, a partner's
request, its receipt and identity recovery. Refusals outside scope are 404s, as for a wrong code."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.runtime import Runtime
from tests.factories import auth, create_key, create_office, create_service, request_body

ACTORS = [
    "agent_own",
    "agent_other",
    "partner_filer",
    "partner_other",
    "desk_own",
    "desk_other",
    "planner_own",
    "verifier_own",
    "admin",
    "auditor",
    "applicant",
    "anonymous",
    "garbage",
    "revoked_partner",
]


class Scene:
    """Two offices, a key per actor, and a request the filing partner filed for the own office."""

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        admin = create_key(runtime, "admin")
        self.office = create_office(client, admin)["code"]
        self.other = create_office(client, admin)["code"]
        self.service = create_service(client, admin)["code"]
        revoked = create_key(runtime, "partner", [self.office])
        self.keys: dict[str, str | None] = {
            "agent_own": create_key(runtime, "agent", [self.office]),
            "agent_other": create_key(runtime, "agent", [self.other]),
            "partner_filer": create_key(runtime, "partner", [self.office]),
            "partner_other": create_key(runtime, "partner", [self.other]),
            "desk_own": create_key(runtime, "desk", [self.office]),
            "desk_other": create_key(runtime, "desk", [self.other]),
            "planner_own": create_key(runtime, "planner", [self.office]),
            "verifier_own": create_key(runtime, "verifier", [self.office]),
            "admin": admin,
            "auditor": create_key(runtime, "auditor"),
            "anonymous": None,
            "garbage": "fsk_not-a-key",
            "revoked_partner": revoked,
        }
        self.filed = client.post(
            "/api/v1/requests",
            json=request_body(self.service, [self.office], n=424242),
            headers=auth(self.keys["partner_filer"]),  # type: ignore[arg-type]
        ).json()
        self.keys["applicant"] = self.filed["access_code"]
        self._revoke(runtime, revoked)

    @staticmethod
    def _revoke(runtime: Runtime, key: str) -> None:
        from app.db.engine import session_scope
        from app.services.staff import keys as staff_keys

        with session_scope(runtime.engine) as session:
            principal = staff_keys.authenticate(session, key)
            staff_keys.revoke_key(session=session, key_id=principal.key_id, staff=staff_keys.operator("test"))

    def headers(self, actor: str) -> dict[str, str]:
        key = self.keys[actor]
        return {} if key is None else auth(key)


@pytest.fixture
def scene(client, runtime) -> Scene:
    return Scene(client, runtime)


INTAKE = {
    "agent_own": 201, "agent_other": 422, "partner_filer": 201, "partner_other": 422, "desk_own": 403,
    "desk_other": 403, "planner_own": 403, "verifier_own": 403, "admin": 403, "auditor": 403,
    "applicant": 201, "anonymous": 201, "garbage": 401, "revoked_partner": 401,
}  # fmt: skip
LIST = {
    "partner_filer": 200, "partner_other": 200, "agent_own": 403, "agent_other": 403, "desk_own": 403,
    "desk_other": 403, "planner_own": 403, "verifier_own": 403, "admin": 403, "auditor": 403,
    "applicant": 401, "anonymous": 401, "garbage": 401, "revoked_partner": 401,
}  # fmt: skip
READ = {
    "partner_filer": 200, "applicant": 200, "partner_other": 404, "agent_own": 404, "agent_other": 404,
    "desk_own": 404, "desk_other": 404, "planner_own": 404, "verifier_own": 404, "admin": 404,
    "auditor": 404, "anonymous": 404, "garbage": 401, "revoked_partner": 401,
}  # fmt: skip
RECEIPT = {**READ, "agent_own": 200}
RECOVER = {
    "agent_own": 200, "desk_own": 200, "agent_other": 404, "desk_other": 404, "partner_filer": 403,
    "partner_other": 403, "planner_own": 403, "verifier_own": 403, "admin": 403, "auditor": 403,
    "applicant": 401, "anonymous": 401, "garbage": 401, "revoked_partner": 401,
}  # fmt: skip


@pytest.mark.parametrize("actor", ACTORS)
def test_filing_with_a_key_is_for_agents_and_partners_of_the_office(scene, actor):
    body = request_body(scene.service, [scene.office])
    response = scene.client.post("/api/v1/requests", json=body, headers=scene.headers(actor))
    assert response.status_code == INTAKE[actor], response.text
    if response.status_code == 201:
        expected = {"agent_own": "counter", "partner_filer": "partner"}.get(actor, "online")
        assert response.json()["channel"] == expected


@pytest.mark.parametrize("actor", ACTORS)
def test_the_partner_list_is_for_partner_keys_only(scene, actor):
    response = scene.client.get("/api/v1/partner/requests", headers=scene.headers(actor))
    assert response.status_code == LIST[actor]
    if actor == "partner_other":
        assert response.json()["items"] == []


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("path", ["", "/attestation"])
def test_a_partners_request_opens_to_its_applicant_and_that_partner_alone(scene, actor, path):
    response = scene.client.get(f"/api/v1/requests/{scene.filed['id']}{path}", headers=scene.headers(actor))
    assert response.status_code == READ[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_the_receipt_is_also_for_an_agent_of_the_first_office(scene, actor):
    response = scene.client.get(
        f"/api/v1/requests/{scene.filed['id']}/receipt.pdf", headers=scene.headers(actor)
    )
    assert response.status_code == RECEIPT[actor]


@pytest.mark.parametrize("actor", ACTORS)
def test_recovery_is_for_agents_and_desks_of_the_requests_offices(scene, actor):
    body = {
        "service": scene.service,
        "document_number": "P00424242",
        "birth_date": "1990-04-12",
        "reason": "lost_code",
    }
    response = scene.client.post("/api/v1/identity-recoveries", json=body, headers=scene.headers(actor))
    assert response.status_code == RECOVER[actor]
