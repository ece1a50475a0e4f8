"""Named staff accounts through the API: invite, roles, keys owned by an account, disable, re-invite, reset,
end sessions; unowned keys keep working; the invitation leaves by e-mail through the outbox."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.runtime import Runtime
from app.services import scheduler
from tests.conftest import test_settings
from tests.factories import World, auth, create_key, create_office
from tests.staff_accounts import PASSWORD, enrol, invitation_path, invite, person, signed_in


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    """An office, a service, an admin, a planner and a desk key."""
    return World(client, runtime)


@pytest.fixture
def other_browser(runtime: Runtime) -> Iterator[TestClient]:
    """A second browser on the same app (its own cookies)."""
    from app.main import create_app

    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        yield browser


def _rows(runtime: Runtime, sql: str, **params: object) -> list[tuple]:
    with runtime.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _planner_roles(world: World) -> list[dict]:
    return [{"role": "planner", "offices": [world.office]}]


def test_an_admin_invites_a_person_who_is_invited_until_they_enrol(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    created = invite(client, world.admin, "Camille.Martin@Interieur.gouv.fr", _planner_roles(world))
    assert created["status"] == "invited"
    assert created["email"] == "camille.martin@interieur.gouv.fr"
    assert created["roles"] == [{"role": "planner", "offices": [world.office]}]
    assert created["invitation_url"].startswith("http://127.0.0.1:8000/staff/invitations/")
    assert created["second_factor"] is False
    listed = client.get("/api/v1/staff-accounts", headers=auth(world.admin)).json()["items"]
    assert [a["email"] for a in listed] == ["camille.martin@interieur.gouv.fr"]
    assert "invitation_url" not in listed[0]  # shown once

    _secret, answer = enrol(client, runtime, created["invitation_url"])
    assert answer.status_code == 200, answer.text
    got = client.get(f"/api/v1/staff-accounts/{created['id']}", headers=auth(world.admin)).json()
    assert got["status"] == "active"
    assert got["second_factor"] is True
    (stored,) = _rows(runtime, "SELECT password_hash FROM staff_account")[0]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


@pytest.mark.parametrize(
    ("body", "path"),
    [
        pytest.param(
            {"email": "not an address", "display_name": "X", "roles": [{"role": "admin"}]},
            "email",
            id="email",
        ),
        pytest.param(
            {"email": "a@example.org", "display_name": "", "roles": [{"role": "admin"}]},
            "display_name",
            id="empty-name",
        ),
        pytest.param({"email": "a@example.org", "display_name": "X", "roles": []}, "roles", id="no-role"),
        pytest.param(
            {"email": "a@example.org", "display_name": "X", "roles": [{"role": "partner", "offices": []}]},
            "roles.0.role",
            id="partner-is-no-account-role",
        ),
        pytest.param(
            {"email": "a@example.org", "display_name": "X", "roles": [{"role": "planner", "offices": []}]},
            "roles.0.offices",
            id="planner-without-office",
        ),
        pytest.param(
            {
                "email": "a@example.org",
                "display_name": "X",
                "roles": [{"role": "desk", "offices": ["nowhere"]}],
            },
            "roles.0.offices",
            id="unknown-office",
        ),
        pytest.param(
            {"email": "a@example.org", "display_name": "X", "roles": [{"role": "admin"}, {"role": "admin"}]},
            "roles.1.role",
            id="role-twice",
        ),
        pytest.param(
            {"email": "a@example.org", "display_name": "X", "roles": [{"role": "admin"}], "status": "active"},
            "status",
            id="unknown-field",
        ),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_is_created(
    client: TestClient, world: World, runtime: Runtime, body: dict, path: str
) -> None:
    response = client.post("/api/v1/staff-accounts", json=body, headers=auth(world.admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert path in [e["path"] for e in response.json()["errors"]]
    assert _rows(runtime, "SELECT count(*) FROM staff_account") == [(0,)]


def test_an_invitation_for_an_email_that_has_an_account_is_a_409(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    invite(client, world.admin, "camille@example.org", _planner_roles(world))
    again = client.post(
        "/api/v1/staff-accounts",
        json={"email": "CAMILLE@example.org", "display_name": "Other", "roles": [{"role": "auditor"}]},
        headers=auth(world.admin),
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_exists"
    assert _rows(runtime, "SELECT count(*) FROM staff_account") == [(1,)]


def test_a_planner_cannot_create_accounts_nor_read_them(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    body = {"email": "x@example.org", "display_name": "X", "roles": [{"role": "admin"}]}
    assert client.post("/api/v1/staff-accounts", json=body, headers=auth(world.planner)).status_code == 403
    assert client.get("/api/v1/staff-accounts", headers=auth(world.planner)).status_code == 403
    assert client.post("/api/v1/staff-accounts", json=body).status_code == 401
    assert _rows(runtime, "SELECT count(*) FROM staff_account") == [(0,)]


def test_keys_that_existed_before_accounts_keep_working_and_unowned_keys_are_still_made(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    made = client.post(
        "/api/v1/staff-keys",
        json={"role": "desk", "offices": [world.office], "label": "desk tablet"},
        headers=auth(world.admin),
    )
    assert made.status_code == 201
    assert _rows(runtime, "SELECT account_id FROM staff_key WHERE id = :i", i=made.json()["id"]) == [(None,)]
    assert client.get("/api/v1/staff-accounts", headers=auth(world.admin)).status_code == 200
    release = world.release()
    assert release["status"] == "scheduled"  # the planner key of before still publishes


def test_an_account_key_has_a_role_within_the_account_and_dies_with_it(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    camille = person(client, runtime, world.admin, "camille@example.org", _planner_roles(world))
    outside = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [other]},
        headers=auth(world.admin),
    )
    assert outside.status_code == 422
    assert [e["path"] for e in outside.json()["errors"]] == ["offices"]
    wrong_role = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "admin", "offices": []},
        headers=auth(world.admin),
    )
    assert wrong_role.status_code == 422
    made = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [world.office], "label": "script"},
        headers=auth(world.admin),
    )
    assert made.status_code == 201, made.text
    key = made.json()["key"]
    created = world.client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": (world.now + timedelta(hours=1)).isoformat(),
            "slots": [{"starts_at": (world.now + timedelta(days=2)).isoformat()}],
        },
        headers=auth(key),
    )
    assert created.status_code == 201, created.text
    (actor,) = _rows(runtime, "SELECT actor_account_id FROM audit_event WHERE action = 'release.created'")[0]
    assert actor == camille.id  # the audit row names the person behind the key

    disabled = client.patch(
        f"/api/v1/staff-accounts/{camille.id}", json={"status": "disabled"}, headers=auth(world.admin)
    )
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"
    refused = client.get("/api/v1/staff-accounts", headers=auth(key))
    assert refused.status_code == 401
    enabled = client.patch(
        f"/api/v1/staff-accounts/{camille.id}", json={"status": "active"}, headers=auth(world.admin)
    )
    assert enabled.json()["status"] == "active"
    assert client.post("/api/v1/releases", json={}, headers=auth(key)).status_code == 401  # keys stay dead


def test_taking_a_role_away_revokes_the_keys_that_held_it(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    roles = [{"role": "planner", "offices": [world.office]}, {"role": "desk", "offices": [world.office]}]
    camille = person(client, runtime, world.admin, "camille@example.org", roles)
    desk_key = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "desk", "offices": [world.office]},
        headers=auth(world.admin),
    ).json()["key"]
    planner_key = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [world.office]},
        headers=auth(world.admin),
    ).json()["key"]
    changed = client.patch(
        f"/api/v1/staff-accounts/{camille.id}", json={"roles": [roles[0]]}, headers=auth(world.admin)
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["roles"] == [roles[0]]
    check = {"token": "x", "document_number": "x", "birth_date": "1990-01-01"}
    assert client.post("/api/v1/check-ins", json=check, headers=auth(desk_key)).status_code == 401
    assert client.post("/api/v1/check-ins", json=check, headers=auth(planner_key)).status_code == 403


def test_disabling_an_account_ends_its_live_web_session_at_once(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner_roles(world))
    signed_in(other_browser, runtime, camille)
    assert "Publish a release" in other_browser.get("/staff?lang=en").text
    client.patch(
        f"/api/v1/staff-accounts/{camille.id}", json={"status": "disabled"}, headers=auth(world.admin)
    )
    page = other_browser.get("/staff?lang=en").text
    assert "Publish a release" not in page
    assert 'name="password"' in page
    # Both sessions end: the one the invitation opened, and this browser's.
    ended = _rows(runtime, "SELECT end_reason FROM staff_session WHERE account_id = :a", a=camille.id)
    assert ended == [("disabled",), ("disabled",)]


def test_an_admin_ends_every_session_of_an_account(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner_roles(world))
    signed_in(other_browser, runtime, camille)
    ended = client.delete(f"/api/v1/staff-accounts/{camille.id}/sessions", headers=auth(world.admin))
    assert ended.status_code == 200
    assert ended.json() == {"account_id": camille.id, "ended": 2}  # the invitation's session, and this one
    assert "Publish a release" not in other_browser.get("/staff?lang=en").text


def test_a_new_invitation_replaces_the_old_link(client: TestClient, world: World, runtime: Runtime) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner_roles(world))
    again = client.post(f"/api/v1/staff-accounts/{created['id']}/invitation", headers=auth(world.admin))
    assert again.status_code == 200
    assert again.json()["invitation_url"] != created["invitation_url"]
    assert client.get(invitation_path(created["invitation_url"])).status_code == 410
    assert client.get(invitation_path(again.json()["invitation_url"])).status_code == 200


def test_an_invitation_link_expires_after_72_hours(
    client: TestClient, world: World, runtime: Runtime, clock
) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner_roles(world))
    clock.advance(timedelta(hours=71, minutes=59))
    assert client.get(invitation_path(created["invitation_url"])).status_code == 200
    clock.advance(timedelta(minutes=1))
    expired = client.get(invitation_path(created["invitation_url"]) + "?lang=en")
    assert expired.status_code == 410
    assert "no longer valid" in expired.text


def test_a_second_factor_reset_forgets_the_secret_and_sends_a_link_to_enrol_again(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner_roles(world))
    signed_in(other_browser, runtime, camille)
    reset = client.post(f"/api/v1/staff-accounts/{camille.id}/second-factor-reset", headers=auth(world.admin))
    assert reset.status_code == 200, reset.text
    got = client.get(f"/api/v1/staff-accounts/{camille.id}", headers=auth(world.admin)).json()
    assert got["second_factor"] is False
    assert "Publish a release" not in other_browser.get("/staff?lang=en").text
    secret, answer = enrol(
        other_browser, runtime, reset.json()["invitation_url"], password="a new long passphrase"
    )
    assert answer.status_code == 200
    assert secret != camille.totp_secret


def test_the_api_answers_404_for_an_unknown_account(client: TestClient, world: World) -> None:
    for method, path in (
        ("get", "/api/v1/staff-accounts/999"),
        ("patch", "/api/v1/staff-accounts/999"),
        ("post", "/api/v1/staff-accounts/999/invitation"),
        ("post", "/api/v1/staff-accounts/999/second-factor-reset"),
        ("delete", "/api/v1/staff-accounts/999/sessions"),
    ):
        kwargs = {"json": {"status": "disabled"}} if method == "patch" else {}
        response = getattr(client, method)(path, headers=auth(world.admin), **kwargs)
        assert response.status_code == 404, (path, response.text)


# --- the invitation e-mail ------------------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))  # type: ignore[arg-type]
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_the_invitation_is_emailed_in_french_and_english_and_its_link_is_not_kept_once_sent(
    client: TestClient, world: World, runtime: Runtime, database_url: str, smtp
) -> None:
    port, inbox = smtp
    created = invite(client, world.admin, "camille@example.org", _planner_roles(world), name="Camille Martin")
    token = invitation_path(created["invitation_url"]).rsplit("/", 1)[1]
    (context,) = _rows(runtime, "SELECT context FROM outbox_message WHERE kind = 'staff_invitation'")[0]
    assert token not in str(context)  # sealed while it waits
    sender = dataclasses.replace(
        runtime, settings=test_settings(database_url, smtp_url=f"smtp://127.0.0.1:{port}")
    )
    outlets = scheduler.outlets_of(sender)
    try:
        assert scheduler.send_messages(sender, outlets) == 1
    finally:
        outlets.close()
    (message,) = inbox.messages
    assert message["To"] == "camille@example.org"
    body = message.get_content()
    assert created["invitation_url"] in body
    assert "Bonjour Camille Martin" in body
    assert "Hello Camille Martin" in body
    (status, context) = _rows(
        runtime, "SELECT status, context FROM outbox_message WHERE kind = 'staff_invitation'"
    )[0]
    assert status == "sent"
    assert token not in str(context)
    assert "link_sealed" not in str(context)


def test_an_invitation_in_the_log_is_withheld_outside_development(
    client: TestClient, world: World, runtime: Runtime, caplog
) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner_roles(world))
    outlets = scheduler.outlets_of(runtime)
    with caplog.at_level("INFO", logger="fairslot.notifications"):
        try:
            scheduler.send_messages(runtime, outlets)
        finally:
            outlets.close()
    assert "staff invitation (withheld" in caplog.text
    assert created["invitation_url"] not in caplog.text


def test_an_account_of_one_office_is_refused_at_another_on_the_api(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    camille = person(client, runtime, world.admin, "camille@example.org", _planner_roles(world))
    key = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [world.office]},
        headers=auth(world.admin),
    ).json()["key"]
    body = {
        "office": other,
        "service": world.service,
        "draw_at": (world.now + timedelta(hours=1)).isoformat(),
        "slots": [{"starts_at": (world.now + timedelta(days=2)).isoformat()}],
    }
    response = client.post("/api/v1/releases", json=body, headers=auth(key))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    assert create_key(runtime, "planner", [other])  # the office exists and another planner may
