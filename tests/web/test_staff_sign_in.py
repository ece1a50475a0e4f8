"""Staff sign-in on the pages: enrolment on the invitation page, password and TOTP, one generic refusal,
lockout, server-side sessions (idle, maximum, sign-out, everywhere), no fixation, CSRF, offices."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.runtime import Runtime
from app.web.session import STAFF_COOKIE
from tests.factories import World, auth, create_key, create_office
from tests.staff_accounts import (
    PASSWORD,
    code,
    enrol,
    invitation_path,
    invite,
    person,
    sign_in_form,
    signed_in,
)
from tests.web.helpers import csrf_of, token_for

GENERIC = "Sign-in refused: the e-mail, the password or the code is not right"


def _planner(world: World) -> list[dict]:
    return [{"role": "planner", "offices": [world.office]}]


def _scalar(runtime: Runtime, sql: str, **params: object) -> object:
    with runtime.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


# --- the invitation page -------------------------------------------------------------------------------


def test_the_invitation_page_shows_a_qr_code_and_the_secret_written_out_in_french_and_english(
    client: TestClient, world: World
) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner(world))
    path = invitation_path(created["invitation_url"])
    english = client.get(f"{path}?lang=en")
    french = client.get(f"{path}?lang=fr")
    assert english.status_code == french.status_code == 200
    assert "<svg" in english.text
    assert 'id="totp-secret"' in english.text
    assert "Set up your staff account" in english.text
    assert "Configurer votre compte agent" in french.text


@pytest.mark.parametrize(
    ("password", "again", "wrong_code", "message"),
    [
        ("short pass", "short pass", False, "at least 12 characters"),
        ("password1234", "password1234", False, "among the 10,000 most common"),
        ("Password1234", "Password1234", False, "among the 10,000 most common"),
        (PASSWORD, PASSWORD + "!", False, "The two passwords differ"),
        (PASSWORD, PASSWORD, True, "not the code your app shows now"),
    ],
)
def test_a_refused_enrolment_says_why_and_changes_nothing(
    client: TestClient,
    world: World,
    runtime: Runtime,
    password: str,
    again: str,
    wrong_code: bool,
    message: str,
) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner(world))
    path = invitation_path(created["invitation_url"])
    page = client.get(f"{path}?lang=en").text
    secret = page.split('id="totp-secret">', 1)[1].split("<", 1)[0].replace(" ", "")
    typed = "000000" if wrong_code else code(secret, runtime.clock.now())
    if wrong_code and typed == code(secret, runtime.clock.now()):
        typed = "111111"
    answer = client.post(
        path, data={"csrf_token": csrf_of(page), "password": password, "password_again": again, "code": typed}
    )
    assert answer.status_code == 422
    assert message in answer.text
    assert _scalar(runtime, "SELECT status FROM staff_account") == "invited"
    assert _scalar(runtime, "SELECT count(*) FROM staff_session") == 0
    assert client.get(path).status_code == 200  # the link still works


def test_an_invitation_link_works_once(client: TestClient, world: World, runtime: Runtime) -> None:
    created = invite(client, world.admin, "camille@example.org", _planner(world))
    _secret, first = enrol(client, runtime, created["invitation_url"])
    assert first.status_code == 200
    with TestClient(create_app(runtime), raise_server_exceptions=False) as thief:
        again = thief.get(invitation_path(created["invitation_url"]) + "?lang=en")
        assert again.status_code == 410
        token = token_for(thief, "/staff?lang=en")
        posted = thief.post(
            invitation_path(created["invitation_url"]),
            data={
                "csrf_token": token,
                "password": "another long password",
                "password_again": "another long password",
                "code": "123456",
            },
        )
        assert posted.status_code == 410


def test_enrolment_signs_the_person_in_and_lands_on_their_screen(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    created = invite(client, world.admin, "desk@example.org", [{"role": "desk", "offices": [world.office]}])
    _secret, answer = enrol(client, runtime, created["invitation_url"])
    assert answer.status_code == 200
    assert str(answer.url).endswith("/desk")


# --- signing in -----------------------------------------------------------------------------------------


def test_a_person_signs_in_and_every_staff_page_says_who_with_roles_and_offices(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    roles = [{"role": "planner", "offices": [world.office]}, {"role": "auditor", "offices": []}]
    camille = person(client, runtime, world.admin, "camille@example.org", roles, name="Camille Martin")
    signed_in(client, runtime, camille)
    for path in ("/staff?lang=en", "/staff/account?lang=en", "/staff/audit?lang=en"):
        page = client.get(path).text
        assert "Signed in as Camille Martin" in page, path
        assert "Planner</strong> · " + world.office in page
        assert "Auditor</strong> · every office" in page
    french = client.get("/staff?lang=fr").text
    assert "Connecté·e : Camille Martin" in french
    assert 'href="/staff/accounts"' not in client.get("/staff?lang=en").text  # not an admin
    assert 'href="/staff/audit"' in client.get("/staff?lang=en").text


@pytest.mark.parametrize("what", ["email", "password", "code"])
def test_one_generic_refusal_whatever_factor_failed(
    client: TestClient, world: World, runtime: Runtime, what: str
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    runtime.clock.advance(timedelta(seconds=30))
    good = code(camille.totp_secret, runtime.clock.now())
    typed = {
        "email": ("nobody@example.org", PASSWORD, good),
        "password": (camille.email, PASSWORD + "x", good),
        "code": (camille.email, PASSWORD, "000000" if good != "000000" else "111111"),
    }[what]
    answer = sign_in_form(client, *typed)
    assert answer.status_code == 401
    assert GENERIC in answer.text
    assert camille.email in answer.text or what == "email"  # what was typed stays
    assert 'value="' + PASSWORD not in answer.text  # never the password
    assert client.cookies.get(STAFF_COOKIE) is None


def test_a_reused_code_is_refused_and_the_previous_windows_code_is_accepted_once(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    runtime.clock.advance(timedelta(seconds=60))
    previous = code(camille.totp_secret, runtime.clock.now() - timedelta(seconds=30))
    assert sign_in_form(client, camille.email, PASSWORD, previous).status_code == 200
    replayed = sign_in_form(other_browser, camille.email, PASSWORD, previous)
    assert replayed.status_code == 401
    current = code(camille.totp_secret, runtime.clock.now())
    assert sign_in_form(other_browser, camille.email, PASSWORD, current).status_code == 200
    assert sign_in_form(other_browser, camille.email, PASSWORD, current).status_code == 401  # reused


def test_five_failures_lock_the_account_fifteen_minutes_even_for_the_right_password(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    for _ in range(5):
        runtime.clock.advance(timedelta(seconds=30))
        assert sign_in_form(client, camille.email, "wrong password here", "000000").status_code == 401
    assert _scalar(runtime, "SELECT locked_until FROM staff_account") is not None
    runtime.clock.advance(timedelta(minutes=14))
    right = sign_in_form(client, camille.email, PASSWORD, code(camille.totp_secret, runtime.clock.now()))
    assert right.status_code == 401
    assert GENERIC in right.text
    runtime.clock.advance(timedelta(minutes=1, seconds=30))
    assert signed_in(client, runtime, camille)
    assert _scalar(runtime, "SELECT count(*) FROM audit_event WHERE action = 'staff_account.locked'") == 1


def test_a_disabled_account_cannot_sign_in(client: TestClient, world: World, runtime: Runtime) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    client.patch(
        f"/api/v1/staff-accounts/{camille.id}", json={"status": "disabled"}, headers=auth(world.admin)
    )
    runtime.clock.advance(timedelta(seconds=30))
    answer = sign_in_form(client, camille.email, PASSWORD, code(camille.totp_secret, runtime.clock.now()))
    assert answer.status_code == 401
    assert GENERIC in answer.text


def test_a_key_owned_by_an_account_does_not_open_a_web_session(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    key = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [world.office]},
        headers=auth(world.admin),
    ).json()["key"]
    token = token_for(client, "/staff?lang=en")
    answer = client.post("/staff/sign-in", data={"csrf_token": token, "key": key})
    assert answer.status_code == 401
    assert "This key belongs to a named account" in answer.text


# --- sessions -------------------------------------------------------------------------------------------


def test_the_cookie_holds_only_an_opaque_id_and_the_server_keeps_its_digest(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    import hashlib
    import re

    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    signed_in(client, runtime, camille)
    cookie = client.cookies.get(STAFF_COOKIE)
    assert cookie and re.fullmatch(r"[A-Za-z0-9_-]{43}", cookie)  # 256 random bits, nothing else
    assert _scalar(runtime, "SELECT count(*) FROM staff_session WHERE token_hash = :t", t=cookie) == 0
    digest = hashlib.sha256(cookie.encode()).hexdigest()
    assert (
        _scalar(runtime, "SELECT account_id FROM staff_session WHERE token_hash = :t", t=digest) == camille.id
    )


def test_a_session_ends_after_thirty_idle_minutes(client: TestClient, world: World, runtime: Runtime) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    signed_in(client, runtime, camille)
    runtime.clock.advance(timedelta(minutes=29))
    assert "Publish a release" in client.get("/staff?lang=en").text
    runtime.clock.advance(timedelta(minutes=29))
    assert "Publish a release" in client.get("/staff?lang=en").text  # used: not idle
    runtime.clock.advance(timedelta(minutes=31))
    assert "Publish a release" not in client.get("/staff?lang=en").text


def test_a_session_ends_after_ten_hours_however_busy(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    signed_in(client, runtime, camille)
    for _ in range(39):
        runtime.clock.advance(timedelta(minutes=15))
        assert "Publish a release" in client.get("/staff?lang=en").text
    runtime.clock.advance(timedelta(minutes=15))
    assert "Publish a release" not in client.get("/staff?lang=en").text


def test_signing_out_ends_the_session_on_the_server_so_a_copied_cookie_is_worthless(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    token = signed_in(client, runtime, camille)
    stolen = client.cookies.get(STAFF_COOKIE)
    assert client.post("/staff/sign-out", data={"csrf_token": token}).status_code == 200
    with TestClient(create_app(runtime), raise_server_exceptions=False) as thief:
        thief.cookies.set(STAFF_COOKIE, stolen)
        assert "Publish a release" not in thief.get("/staff?lang=en").text


def test_sign_out_everywhere_ends_every_session_of_the_account(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    signed_in(other_browser, runtime, camille)
    token = signed_in(client, runtime, camille)
    account = client.get("/staff/account?lang=en").text
    assert "this browser" in account
    answer = client.post("/staff/account/sign-out-everywhere", data={"csrf_token": token})
    assert answer.status_code == 200
    assert "Publish a release" not in other_browser.get("/staff?lang=en").text
    assert "Publish a release" not in client.get("/staff?lang=en").text
    assert _scalar(runtime, "SELECT count(*) FROM staff_session WHERE ended_at IS NULL") == 0


def test_a_planted_session_id_is_replaced_at_sign_in_no_fixation(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    planted = "attacker-chosen-session-id-0123456789abcdef"
    client.cookies.set(STAFF_COOKIE, planted, domain="testserver.local")
    signed_in(client, runtime, camille)
    assert client.cookies.get(STAFF_COOKIE) != planted
    with TestClient(create_app(runtime), raise_server_exceptions=False) as attacker:
        attacker.cookies.set(STAFF_COOKIE, planted)
        assert "Publish a release" not in attacker.get("/staff?lang=en").text


def test_a_new_sign_in_ends_the_session_the_browser_held_before(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    signed_in(client, runtime, camille)
    first = client.cookies.get(STAFF_COOKIE)
    signed_in(client, runtime, camille)
    with TestClient(create_app(runtime), raise_server_exceptions=False) as other:
        other.cookies.set(STAFF_COOKIE, first)
        assert "Publish a release" not in other.get("/staff?lang=en").text


@pytest.mark.parametrize(
    "path",
    [
        "/staff/sign-in",
        "/staff/sign-out",
        "/staff/oidc/start",
        "/staff/account/sign-out-everywhere",
        "/staff/accounts",
        "/staff/accounts/1",
        "/staff/accounts/1/status",
        "/staff/accounts/1/invitation",
        "/staff/accounts/1/second-factor-reset",
        "/staff/accounts/1/sessions/end",
        "/staff/accounts/1/keys",
        "/staff/invitations/sometoken",
    ],
)
def test_every_new_form_refuses_a_post_without_the_csrf_token(
    client: TestClient, world: World, runtime: Runtime, path: str
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", [{"role": "admin", "offices": []}])
    signed_in(client, runtime, camille)
    before = _scalar(runtime, "SELECT count(*) FROM audit_event")
    for data in ({}, {"csrf_token": ""}, {"csrf_token": "a" * 43}):
        answer = client.post(
            path,
            data={
                **data,
                "email": "x@example.org",
                "display_name": "X",
                "role_admin": "on",
                "status": "disabled",
            },
        )
        assert answer.status_code == 403, (path, data)
    assert _scalar(runtime, "SELECT count(*) FROM audit_event") == before
    assert _scalar(runtime, "SELECT status FROM staff_account") == "active"


# --- offices and roles on the pages ---------------------------------------------------------------------


def test_an_account_outside_its_offices_is_refused_on_the_pages(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    create_key(runtime, "planner", [other])
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    token = signed_in(client, runtime, camille)
    day = (runtime.clock.now() + timedelta(days=3)).date()
    form = {
        "csrf_token": token,
        "office": other,
        "service": world.service,
        "draw_at": (runtime.clock.now() + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "first_day": day.isoformat(),
        "last_day": day.isoformat(),
        "weekdays": [str(day.isoweekday())],
        "times": "09:00",
        "desks": "1",
    }
    answer = client.post("/staff/releases?lang=en", data=form)
    assert answer.status_code == 403
    assert _scalar(runtime, "SELECT count(*) FROM release") == 0


def test_a_planner_cannot_open_the_account_pages_nor_create_an_account(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    camille = person(client, runtime, world.admin, "camille@example.org", _planner(world))
    token = signed_in(client, runtime, camille)
    assert client.get("/staff/accounts?lang=en").status_code == 403
    answer = client.post(
        "/staff/accounts",
        data={"csrf_token": token, "email": "x@example.org", "display_name": "X", "role_admin": "on"},
    )
    assert answer.status_code == 403
    assert _scalar(runtime, "SELECT count(*) FROM staff_account") == 1


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_admin_invites_disables_and_enables_an_account_on_the_pages(
    client: TestClient, world: World, runtime: Runtime, lang: str
) -> None:
    admin = person(
        client,
        runtime,
        world.admin,
        "admin@example.org",
        [{"role": "admin", "offices": []}],
        name="Ada Admin",
    )
    token = signed_in(client, runtime, admin)
    listing = client.get(f"/staff/accounts?lang={lang}")
    assert listing.status_code == 200
    bad = client.post(
        f"/staff/accounts?lang={lang}",
        data={"csrf_token": token, "email": "not-an-address", "display_name": "Sacha", "role_desk": "on"},
    )
    assert bad.status_code == 422
    assert 'value="Sacha"' in bad.text  # kept what was typed
    assert _scalar(runtime, "SELECT count(*) FROM staff_account") == 1
    created = client.post(
        f"/staff/accounts?lang={lang}",
        data={
            "csrf_token": token,
            "email": "sacha@example.org",
            "display_name": "Sacha Desk",
            "role_desk": "on",
            "offices_desk": [world.office],
        },
    )
    assert created.status_code == 201, created.text
    assert "/staff/invitations/" in created.text
    taken = client.post(
        f"/staff/accounts?lang={lang}",
        data={
            "csrf_token": token,
            "email": "SACHA@example.org",
            "display_name": "Again",
            "role_auditor": "on",
        },
    )
    assert taken.status_code == 409
    account_id = _scalar(runtime, "SELECT id FROM staff_account WHERE email = 'sacha@example.org'")
    disabled = client.post(
        f"/staff/accounts/{account_id}/status?lang={lang}", data={"csrf_token": token, "status": "disabled"}
    )
    assert disabled.status_code == 200
    assert _scalar(runtime, "SELECT status FROM staff_account WHERE id = :i", i=account_id) == "disabled"
    enabled = client.post(
        f"/staff/accounts/{account_id}/status?lang={lang}", data={"csrf_token": token, "status": "active"}
    )
    assert enabled.status_code == 200
    assert _scalar(runtime, "SELECT status FROM staff_account WHERE id = :i", i=account_id) == "invited"
    again = client.post(f"/staff/accounts/{account_id}/invitation?lang={lang}", data={"csrf_token": token})
    assert 'id="invitation-url"' in again.text
    actor = _scalar(
        runtime,
        "SELECT actor_name FROM audit_event WHERE action = 'staff_account.created' ORDER BY id DESC LIMIT 1",
    )
    assert actor == "Ada Admin"


def test_the_demo_keys_of_before_still_sign_in_as_unowned_keys(client: TestClient, world: World) -> None:
    token = token_for(client, "/staff?lang=en")
    answer = client.post("/staff/sign-in", data={"csrf_token": token, "key": world.planner})
    assert answer.status_code == 200
    assert "Publish a release" in answer.text
    assert "Signed in as test" in answer.text  # the key's label


def test_sign_in_attempts_from_one_address_are_limited_on_top_of_the_account_lock(
    runtime: Runtime, database_url: str
) -> None:
    import dataclasses

    from app import metrics
    from tests.conftest import test_settings

    def refused() -> float:
        return metrics.RATE_LIMITED.labels(scope="sign-in")._value.get()

    before = refused()
    limited = dataclasses.replace(runtime, settings=test_settings(database_url, rate_limits="on"))
    with TestClient(create_app(limited), raise_server_exceptions=False) as browser:
        token = csrf_of(browser.get("/staff/sign-in").text)
        form = {"csrf_token": token, "password": "wrong password", "code": "123456"}
        # Half through the form, half through the provider's callback (not a write): one budget for both.
        posted = [
            browser.post("/staff/sign-in", data={**form, "email": f"spray{i}@example.org"}).status_code
            for i in range(30)
        ]
        called = [browser.get(f"/staff/oidc/callback?state=s{i}&code=c").status_code for i in range(31)]
    assert posted == [401] * 30
    assert called[:30] == [503] * 30  # no provider configured
    assert called[30] == 429
    assert refused() == before + 1
