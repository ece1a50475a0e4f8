"""Staff sign-in through OpenID Connect, against a real provider the suite starts on 127.0.0.1.

Success; an unknown e-mail; an unverified e-mail; a forged ``state``; a callback replayed; a code replayed
under another sign-in; a sign-in finished in another browser; an expired ID token; an ID token for another
audience; an invited account completing its first sign-in. No account is ever created by a sign-in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.clock import FrozenClock
from app.main import create_app
from app.runtime import Runtime
from app.services.staff import oidc
from tests.conftest import test_settings
from tests.factories import World, auth
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, as_client, authorize, provider, set_user
from tests.staff_accounts import invite, person
from tests.web.helpers import csrf_of


def _runtime(runtime: Runtime, database_url: str, issuer: str) -> Runtime:
    oidc.forget_discovery()
    settings = test_settings(
        database_url, oidc_issuer=issuer, oidc_client_id=CLIENT_ID, oidc_client_secret=CLIENT_SECRET
    )
    # ID tokens carry the provider's real time: the service's clock starts at it.
    return dataclasses.replace(runtime, settings=settings, clock=FrozenClock(datetime.now(UTC)))


@pytest.fixture
def issuer() -> Iterator[str]:
    with provider() as url:
        yield url


@pytest.fixture
def app_runtime(runtime: Runtime, database_url: str, issuer: str) -> Runtime:
    return _runtime(runtime, database_url, issuer)


@pytest.fixture
def browser(app_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(app_runtime), raise_server_exceptions=False) as client:
        yield client


def _start(browser: TestClient) -> str:
    """Press the provider's button on the sign-in page; returns the provider's authorization URL."""
    page = browser.get("/staff/sign-in?lang=en")
    assert "Sign in with ProConnect" in page.text
    answer = browser.post(
        "/staff/oidc/start", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _callback(browser: TestClient, url: str):  # type: ignore[no-untyped-def]
    parts = urlsplit(url)
    assert parts.path == "/staff/oidc/callback"
    return browser.get(f"{parts.path}?{parts.query}&lang=en")


def _accounts(runtime: Runtime) -> int:
    with runtime.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM staff_account")).scalar_one())


def _world(browser: TestClient, runtime: Runtime) -> World:
    return World(browser, runtime)


def test_an_account_whose_email_the_provider_verified_signs_in(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    world = _world(browser, app_runtime)
    with TestClient(create_app(app_runtime), raise_server_exceptions=False) as admin_browser:
        camille = person(
            admin_browser,
            app_runtime,
            world.admin,
            "camille.martin@interieur.gouv.fr",
            [{"role": "planner", "offices": [world.office]}],
        )
    set_user(issuer, "agent-42", email="Camille.Martin@interieur.gouv.fr", email_verified=True)
    url = _start(browser)
    assert "code_challenge_method=S256" in url and "nonce=" in url and "state=" in url
    answer = _callback(browser, authorize(url, "agent-42"))
    assert answer.status_code == 200, answer.text
    assert "Publish a release" in answer.text
    assert "Signed in as Camille Martin" in answer.text
    with app_runtime.engine.connect() as conn:
        method = conn.execute(
            text("SELECT method FROM staff_session WHERE ended_at IS NULL ORDER BY id DESC")
        ).scalar()
        actor = conn.execute(
            text("SELECT actor_account_id FROM audit_event WHERE action = 'staff.signed_in' ORDER BY id DESC")
        ).scalar()
    assert method == "oidc"
    assert actor == camille.id


def test_an_unknown_email_is_refused_with_a_clear_page_and_no_account_is_created(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    _world(browser, app_runtime)
    set_user(issuer, "stranger", email="stranger@example.org", email_verified=True)
    answer = _callback(browser, authorize(_start(browser), "stranger"))
    assert answer.status_code == 403
    assert "no enabled Fairslot account has this e-mail address" in answer.text
    assert _accounts(app_runtime) == 0
    assert "Publish a release" not in browser.get("/staff?lang=en").text


def test_an_email_the_provider_says_is_not_verified_is_refused(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    world = _world(browser, app_runtime)
    invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "unverified", email="camille@example.org", email_verified=False)
    answer = _callback(browser, authorize(_start(browser), "unverified"))
    assert answer.status_code == 403
    assert "not verified" in answer.text


def test_a_forged_state_is_refused(browser: TestClient, app_runtime: Runtime, issuer: str) -> None:
    world = _world(browser, app_runtime)
    invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "agent", email="camille@example.org", email_verified=True)
    back = authorize(_start(browser), "agent")
    parts = urlsplit(back)
    forged = parts.query.replace("state=", "state=forged")
    answer = browser.get(f"{parts.path}?{forged}&lang=en")
    assert answer.status_code == 403
    assert "not valid for this browser" in answer.text
    assert "Audit log" not in browser.get("/staff?lang=en").text


def test_a_replayed_callback_is_refused(browser: TestClient, app_runtime: Runtime, issuer: str) -> None:
    world = _world(browser, app_runtime)
    invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "agent", email="camille@example.org", email_verified=True)
    back = authorize(_start(browser), "agent")
    assert _callback(browser, back).status_code == 200
    with TestClient(create_app(app_runtime), raise_server_exceptions=False) as thief:
        thief.get("/staff/sign-in")
        assert _callback(thief, back).status_code == 403
    assert _callback(browser, back).status_code == 403


def test_a_code_replayed_under_another_sign_in_is_refused_by_the_provider(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    world = _world(browser, app_runtime)
    invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "agent", email="camille@example.org", email_verified=True)
    first = authorize(_start(browser), "agent")
    assert _callback(browser, first).status_code == 200
    token = csrf_of(browser.get("/staff?lang=en").text)  # signed in now: a second sign-in from the home
    second = browser.post("/staff/oidc/start", data={"csrf_token": token}, follow_redirects=False)
    second_state = urlsplit(second.headers["location"]).query.split("state=", 1)[1].split("&", 1)[0]
    code = urlsplit(first).query.split("code=", 1)[1].split("&", 1)[0]
    answer = browser.get(f"/staff/oidc/callback?code={code}&state={second_state}&lang=en")
    assert answer.status_code == 403
    assert "refused to confirm this sign-in" in answer.text


def test_a_sign_in_started_in_another_browser_is_refused(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    world = _world(browser, app_runtime)
    invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "agent", email="camille@example.org", email_verified=True)
    back = authorize(_start(browser), "agent")
    with TestClient(create_app(app_runtime), raise_server_exceptions=False) as victim:
        victim.get("/staff/sign-in")
        answer = _callback(victim, back)  # login CSRF: the attacker's callback in the victim's browser
        assert answer.status_code == 403
        assert "Audit log" not in victim.get("/staff?lang=en").text


def test_an_expired_id_token_is_refused(runtime: Runtime, database_url: str) -> None:
    with provider(token_max_age=timedelta(seconds=5)) as short_lived:
        app_runtime = _runtime(runtime, database_url, short_lived)
        with TestClient(create_app(app_runtime), raise_server_exceptions=False) as browser:
            world = _world(browser, app_runtime)
            invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
            set_user(short_lived, "agent", email="camille@example.org", email_verified=True)
            back = authorize(_start(browser), "agent")
            app_runtime.clock.advance(timedelta(minutes=2))  # type: ignore[attr-defined]
            answer = _callback(browser, back)
            assert answer.status_code == 403
            assert "could not be verified" in answer.text


def test_an_id_token_for_another_audience_is_refused(runtime: Runtime, database_url: str) -> None:
    with provider(wrap=as_client("another-application")) as mixed_up:
        app_runtime = _runtime(runtime, database_url, mixed_up)
        with TestClient(create_app(app_runtime), raise_server_exceptions=False) as browser:
            world = _world(browser, app_runtime)
            invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
            set_user(mixed_up, "agent", email="camille@example.org", email_verified=True)
            back = authorize(_start(browser), "agent", client_id="another-application")
            answer = _callback(browser, back)
            assert answer.status_code == 403
            assert "could not be verified" in answer.text
            assert "Audit log" not in browser.get("/staff?lang=en").text


def test_an_invited_account_completes_its_first_sign_in_through_the_provider(
    browser: TestClient, app_runtime: Runtime, issuer: str
) -> None:
    world = _world(browser, app_runtime)
    created = invite(browser, world.admin, "camille@example.org", [{"role": "auditor", "offices": []}])
    set_user(issuer, "agent", email="camille@example.org", email_verified=True)
    answer = _callback(browser, authorize(_start(browser), "agent"))
    assert answer.status_code == 200
    got = browser.get(f"/api/v1/staff-accounts/{created['id']}", headers=auth(world.admin)).json()
    assert got["status"] == "active"


def test_without_the_three_settings_the_page_offers_no_provider(client: TestClient) -> None:
    page = client.get("/staff/sign-in?lang=en").text
    assert "/staff/oidc/start" not in page
    answer = client.post("/staff/oidc/start", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 503
