"""Helpers shared by the tests of named staff accounts: invite through the API, enrol on the invitation page,
sign in with password and a TOTP code of the test clock."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from app.domain.staff import second_factor
from app.runtime import Runtime
from tests.factories import auth
from tests.web.helpers import csrf_of, text_of

PASSWORD = "correct horse battery staple"
_TOKEN = re.compile(r"/staff/invitations/([A-Za-z0-9_-]+)")


@dataclass
class Person:
    """A member of staff the tests invited and enrolled."""

    id: int
    email: str
    password: str
    totp_secret: str
    invitation_url: str


def invite(
    client: TestClient, admin: str, email: str, roles: list[dict[str, Any]], name: str = "Camille Martin"
) -> dict[str, Any]:
    """``POST /api/v1/staff-accounts`` as ``admin``; the answer's JSON."""
    response = client.post(
        "/api/v1/staff-accounts",
        json={"email": email, "display_name": name, "roles": roles},
        headers=auth(admin),
    )
    assert response.status_code == 201, response.text
    return response.json()


def invitation_path(url: str) -> str:
    """The page path of an invitation URL."""
    match = _TOKEN.search(url)
    assert match, url
    return f"/staff/invitations/{match.group(1)}"


def code(secret: str, at: datetime) -> str:
    """The TOTP code an app shows at ``at``."""
    return second_factor.code_at(secret, at)


def enrol(
    client: TestClient, runtime: Runtime, url: str, password: str = PASSWORD, lang: str = "en"
) -> tuple[str, Any]:
    """Open the invitation page and enrol; returns the TOTP secret and the answer (signed in)."""
    path = invitation_path(url)
    page = client.get(f"{path}?lang={lang}")
    assert page.status_code == 200, page.text
    secret = text_of(page.text, "totp-secret").replace(" ", "")
    answer = client.post(
        path,
        data={
            "csrf_token": csrf_of(page.text),
            "password": password,
            "password_again": password,
            "code": code(secret, runtime.clock.now()),
        },
    )
    return secret, answer


def person(
    client: TestClient,
    runtime: Runtime,
    admin: str,
    email: str,
    roles: list[dict[str, Any]],
    name: str = "Camille Martin",
) -> Person:
    """A member of staff invited and enrolled (then signed out of that browser's session)."""
    created = invite(client, admin, email, roles, name)
    with TestClient(client.app, raise_server_exceptions=False) as browser:
        secret, answer = enrol(browser, runtime, created["invitation_url"])
        assert answer.status_code == 200, answer.text
    return Person(created["id"], email, PASSWORD, secret, created["invitation_url"])


def sign_in_form(client: TestClient, email: str, password: str, totp: str, lang: str = "en") -> Any:
    """Post the sign-in form (the page's own CSRF token); the answer, redirects followed."""
    token = csrf_of(client.get(f"/staff/sign-in?lang={lang}").text)
    return client.post(
        "/staff/sign-in", data={"csrf_token": token, "email": email, "password": password, "code": totp}
    )


def signed_in(client: TestClient, runtime: Runtime, who: Person) -> str:
    """Sign ``who`` in, in the next 30-second step (each step's code is accepted once); returns the CSRF token."""
    runtime.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    answer = sign_in_form(client, who.email, who.password, code(who.totp_secret, runtime.clock.now()))
    assert answer.status_code == 200, answer.text
    return csrf_of(answer.text)
