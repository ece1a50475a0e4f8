"""Signing out ends a staff web session on the server: a copied cookie is worth nothing after."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db.models import StaffKey
from app.main import create_app
from app.runtime import Runtime
from app.web.session import COOKIE, STAFF_COOKIE
from tests.factories import World
from tests.web.helpers import csrf_of, sign_in


def test_a_cookie_copied_before_sign_out_cannot_create_a_key_after(
    client: TestClient, runtime: Runtime
) -> None:
    world = World(client, runtime)
    token = sign_in(client, world.admin)
    stolen = client.cookies.get(COOKIE)
    stolen_session = client.cookies.get(STAFF_COOKIE)
    assert stolen and stolen_session
    with Session(runtime.engine) as db:
        keys_before = len(db.exec(select(StaffKey)).all())

    signed_out = client.post("/staff/sign-out", data={"csrf_token": token})
    assert signed_out.status_code == 200

    with TestClient(create_app(runtime), raise_server_exceptions=False) as thief:
        thief.cookies.set(COOKIE, stolen)
        thief.cookies.set(STAFF_COOKIE, stolen_session)
        page = thief.get("/staff")
        attempt = thief.post("/staff/keys", data={"csrf_token": token, "role": "admin", "label": "mine"})

    assert 'name="key"' in page.text  # the sign-in form, not the admin's home
    assert attempt.status_code in (200, 401, 403)
    with Session(runtime.engine) as db:
        assert len(db.exec(select(StaffKey)).all()) == keys_before


def test_signing_in_again_after_a_sign_out_works(client: TestClient, runtime: Runtime) -> None:
    world = World(client, runtime)
    token = sign_in(client, world.planner)
    client.post("/staff/sign-out", data={"csrf_token": token})

    again = sign_in(client, world.planner)
    home = client.get("/staff?lang=en")

    assert again
    assert "Publish a release" in home.text
    assert csrf_of(home.text)
