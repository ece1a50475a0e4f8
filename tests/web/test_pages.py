"""The web pages through FastAPI's TestClient: languages, forms, CSRF, session cookie, escaping, journeys."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.clock import FrozenClock
from app.db.engine import session_scope
from app.db.models import AppointmentRequest, Release, StaffKey
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.staff.keys import hash_key
from app.web.routes import public
from tests.conftest import test_settings
from tests.factories import World, auth, create_key
from tests.web.helpers import apply, apply_data, csrf_of, request_count, sign_in, text_of, token_for

PAGES = ["/", "/apply", "/status", "/staff", "/desk", "/accessibility"]


def _drawn(world: World, runtime: Runtime) -> int:
    """Move past the draw time of every release and let the scheduler draw; returns the last draw id."""
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(hours=2))
    report = scheduler.tick(runtime)
    assert report.draws
    return report.draws[-1]


def _offered(client: TestClient, world: World, runtime: Runtime, **overrides: str) -> tuple[str, str, str]:
    world.release()
    request_id, code, token = apply(client, world.service, world.office, **overrides)
    _drawn(world, runtime)
    return request_id, code, token


# Languages ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_in_both_languages(client: TestClient, world: World, path: str) -> None:
    french = client.get(path + "?lang=fr")
    english = client.get(path + "?lang=en")
    assert french.status_code == english.status_code == 200
    assert '<html lang="fr" dir="ltr">' in french.text
    assert '<html lang="en" dir="ltr">' in english.text
    assert "Aller au contenu principal" in french.text
    assert "Skip to main content" in english.text
    for page in (french, english):
        assert 'href="' + path + '?lang=en"' in page.text
        assert 'href="' + path + '?lang=fr"' in page.text
        assert page.headers["content-type"].startswith("text/html")
        assert "'unsafe-inline'" not in page.headers["content-security-policy"]
        assert "style=" not in page.text
        assert "<script" not in page.text


def test_language_from_query_is_remembered_else_accept_language(client: TestClient) -> None:
    assert '<html lang="fr" dir="ltr">' in client.get("/").text
    assert (
        '<html lang="en" dir="ltr">'
        in client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,fr;q=0.5"}).text
    )
    assert (
        '<html lang="fr" dir="ltr">'
        in client.get("/", headers={"Accept-Language": "de, fr;q=0.3, en;q=0.2"}).text
    )
    chosen = client.get("/?lang=en", headers={"Accept-Language": "fr"})
    assert "fairslot_lang=en" in chosen.headers["set-cookie"]
    assert '<html lang="en" dir="ltr">' in client.get("/", headers={"Accept-Language": "fr"}).text
    assert '<html lang="fr" dir="ltr">' in client.get("/?lang=fr").text
    assert '<html lang="fr" dir="ltr">' in client.get("/?lang=xx").text


def test_home_explains_the_draw_and_links_to_apply_and_status(client: TestClient) -> None:
    page = client.get("/?lang=en").text
    assert "Why buying an appointment is useless" in page
    assert 'href="/apply"' in page
    assert 'href="/status"' in page
    assert 'href="#main"' in page
    assert 'id="main"' in page


def test_static_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/static/fairslot.css")
    assert response.status_code == 200
    assert "@media print" in response.text
    assert "http" not in re.sub(r"/\*.*?\*/", "", response.text, flags=re.S)


# Applying ----------------------------------------------------------------------------------------------


def test_apply_form_has_every_field_with_labels(client: TestClient, world: World) -> None:
    page = client.get("/apply").text
    names = set(re.findall(r'name="([a-z_0-9]+)"', page))
    assert names >= {
        "service",
        "office_1",
        "office_2",
        "office_3",
        "document_type",
        "document_number",
        "family_name",
        "given_names",
        "birth_date",
        "permit_expires_on",
        "vulnerabilities",
        "earliest",
        "latest",
        "weekdays",
        "email",
        "phone",
        "language",
        "csrf_token",
    }
    for field_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', page):
        assert f'for="{field_id}"' in page, field_id
    assert world.office in page
    assert world.service in page


def test_apply_bad_input_shows_inline_errors_and_changes_nothing(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    token = token_for(client, "/apply?lang=en")
    bad = apply_data(
        world.service,
        world.office,
        document_number="12",
        birth_date="1990-02-31",
        email="not-an-email",
        phone="call me",
        earliest="2027-02-01",
        latest="2027-01-01",
        office_2=world.office,
        family_name="<b>Bold</b>",
    )
    response = client.post("/apply", data={"csrf_token": token, **bad})
    assert response.status_code == 422
    page = response.text
    assert "<title>Error:" in page
    assert "There is a problem" in page
    for name in ("document_number", "birth_date", "email", "phone", "latest", "office_2"):
        assert f'id="f-{name}-error"' in page, name
        assert f'href="#f-{name}"' in page, name
        tag = re.search(rf'<(?:input|select)[^>]*id="f-{name}"[^>]*>', page)
        assert tag, name
        assert 'aria-invalid="true"' in tag.group(0)
        assert f"f-{name}-error" in tag.group(0)
    assert "4 to 32 letters or digits" in page
    assert "The last date must be on or after the first date." in page
    assert "Choose a different office for each choice." in page
    assert 'value="&lt;b&gt;Bold&lt;/b&gt;"' in page
    assert request_count(runtime) == 0


def test_apply_empty_form_asks_for_each_required_field_in_french(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    token = token_for(client)
    response = client.post("/apply", data={"csrf_token": token})
    assert response.status_code == 422
    for message in (
        "Choisissez la prestation dont vous avez besoin.",
        "Choisissez au moins un lieu.",
        "Saisissez le numéro de votre pièce d&#39;identité.",
        "Saisissez votre nom.",
        "Saisissez vos prénoms.",
        "Saisissez votre date de naissance.",
    ):
        assert message in response.text
    assert request_count(runtime) == 0


def test_apply_shows_the_access_code_once(client: TestClient, world: World, runtime: Runtime) -> None:
    token = token_for(client, "/apply?lang=en")
    response = client.post(
        "/apply",
        data={
            "csrf_token": token,
            **apply_data(
                world.service,
                world.office,
                permit_expires_on="2026-12-20",
                vulnerabilities=["pregnancy", "disability"],
                earliest="2026-12-02",
                latest="2027-03-01",
                weekdays=["1", "4"],
                phone="+33 6 12 34 56 78",
                language="en",
            ),
        },
    )
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    request_id, code = text_of(page, "request-id"), text_of(page, "access-code")
    assert "shown only this once" in page
    assert f'href="/status?id={request_id}"' in page
    assert "permit expires in 19 days (30 days or less)" in page
    assert "declared situation (Disability, Pregnancy)" in page
    with session_scope(runtime.engine) as session:
        stored = session.exec(select(AppointmentRequest)).one()
        assert stored.id == request_id
        assert stored.availability == {"earliest": "2026-12-02", "latest": "2027-03-01", "weekdays": [1, 4]}
        assert stored.vulnerabilities == ["disability", "pregnancy"]
        assert stored.language == "en"
        assert stored.phone == "+33612345678"  # stored E.164
    status = client.get(f"/status?id={request_id}")
    assert request_id in status.text
    assert code not in status.text
    shown = client.post("/status", data={"csrf_token": token, "request_id": request_id, "access_code": code})
    assert shown.status_code == 200
    assert "Waiting for a draw" in shown.text


def test_duplicate_request_is_explained(client: TestClient, world: World, runtime: Runtime) -> None:
    apply(client, world.service, world.office)
    token = token_for(client, "/apply?lang=en")
    again = client.post("/apply", data={"csrf_token": token, **apply_data(world.service, world.office)})
    assert again.status_code == 409
    assert "You already have an active request for this service." in again.text
    assert request_count(runtime) == 1


# CSRF and the session cookie ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/apply",
        "/status",
        "/status/accept",
        "/status/decline",
        "/status/cancel",
        "/status/print",
        "/staff/sign-in",
        "/staff/sign-out",
        "/staff/releases",
        "/staff/releases/1/draw",
        "/staff/offices",
        "/staff/services",
        "/staff/keys",
        "/staff/keys/1/revoke",
        "/desk/check-in",
    ],
)
def test_every_form_refuses_a_post_without_the_csrf_token(
    client: TestClient, world: World, runtime: Runtime, path: str
) -> None:
    token = token_for(client)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": token + "x"}, {"csrf_token": "a" * 43}):
        response = client.post(path, data={**apply_data(world.service, world.office), **data})
        assert response.status_code == 403, (path, data)
        assert "Formulaire refusé" in response.text
    assert request_count(runtime) == 0


def test_csrf_token_of_another_session_is_refused(client: TestClient, world: World, runtime: Runtime) -> None:
    stolen = token_for(client)
    with TestClient(create_app(runtime)) as other:
        other.get("/")
        response = other.post(
            "/apply", data={"csrf_token": stolen, **apply_data(world.service, world.office)}
        )
        assert response.status_code == 403
        fresh = TestClient(create_app(runtime))
        response = fresh.post(
            "/apply", data={"csrf_token": stolen, **apply_data(world.service, world.office)}
        )
        assert response.status_code == 403
    assert request_count(runtime) == 0


def test_staff_pages_refuse_forms_after_a_sign_in_with_the_old_token(
    client: TestClient, world: World
) -> None:
    before = token_for(client, "/staff")
    after = sign_in(client, world.planner)
    assert before != after
    response = client.post("/staff/sign-out", data={"csrf_token": before})
    assert response.status_code == 403


def test_session_cookie_flags(client: TestClient) -> None:
    cookie = client.get("/").headers["set-cookie"]
    assert cookie.startswith("fairslot_session=")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(runtime: Runtime) -> None:
    settings = test_settings(runtime.settings.database_url, public_url="https://rdv.example.fr")
    secure = Runtime(settings=settings, engine=runtime.engine, clock=runtime.clock)
    with TestClient(create_app(secure), base_url="https://testserver") as https:
        headers = https.get("/?lang=en").headers.get_list("set-cookie")
    assert headers
    assert all("Secure" in h and "HttpOnly" in h and "SameSite=lax" in h for h in headers)


def test_forged_session_cookie_is_ignored(client: TestClient, world: World) -> None:
    client.cookies.set("fairslot_session", "eyJjc3JmIjoiYWFhYSJ9.forged.signature")
    page = client.get("/staff")
    assert "Staff key" in page.text or "Clé agent" in page.text
    assert "fairslot_session=" in page.headers["set-cookie"]


# Status page -------------------------------------------------------------------------------------------


def test_status_escapes_injected_markup_in_names(client: TestClient, world: World) -> None:
    injected = "<script>alert('x')</script>"
    request_id, code, token = apply(client, world.service, world.office, given_names=injected)
    page = client.post("/status", data={"csrf_token": token, "request_id": request_id, "access_code": code})
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page.text


def test_status_wrong_code_or_unknown_id_look_the_same(client: TestClient, world: World) -> None:
    request_id, _code, token = apply(client, world.service, world.office)
    wrong = client.post(
        "/status", data={"csrf_token": token, "request_id": request_id, "access_code": "nope"}
    )
    unknown = client.post(
        "/status", data={"csrf_token": token, "request_id": "x" * 36, "access_code": "nope"}
    )
    assert wrong.status_code == unknown.status_code == 404
    message = "Aucune demande ne correspond à ce numéro et à ce code d&#39;accès."
    assert message in wrong.text
    assert message in unknown.text


def test_offer_accept_print_and_cancel(client: TestClient, world: World, runtime: Runtime) -> None:
    request_id, code, token = _offered(client, world, runtime)
    creds = {"csrf_token": token, "request_id": request_id, "access_code": code}
    page = client.post("/status?lang=en", data=creds).text
    assert "An appointment is offered to you" in page
    assert "Answer before" in page
    assert 'action="/status/accept"' in page
    assert 'action="/status/decline"' in page
    assert "Offered a slot" in page
    draw_link = re.search(r'href="(/draws/\d+\?page=1#rank-1)"', page)
    assert draw_link
    assert code not in draw_link.group(1)

    accepted = client.post("/status/accept", data=creds)
    assert accepted.status_code == 200
    assert 'id="booking-qr"' in accepted.text
    assert 'src="data:image/svg+xml;base64,' in accepted.text
    assert "Appointment booked" in accepted.text
    printable = client.post("/status/print", data=creds)
    assert printable.status_code == 200
    assert "qr--print" in printable.text
    assert "Diallo" in printable.text

    again = client.post("/status/accept", data=creds)
    assert again.status_code == 409
    assert "There is no open offer on this request any more." in again.text

    confirm = client.post("/status/cancel", data=creds)
    assert confirm.status_code == 200
    assert "Cancel your appointment?" in confirm.text
    assert 'name="confirm" value="yes"' in confirm.text
    with session_scope(runtime.engine) as session:
        assert session.exec(select(AppointmentRequest)).one().status == "booked"
    cancelled = client.post("/status/cancel", data={**creds, "confirm": "yes"})
    assert cancelled.status_code == 200
    assert "Your request is cancelled." in cancelled.text
    assert text_of(cancelled.text, "request-status") == "Cancelled"
    closed = client.post("/status/cancel", data={**creds, "confirm": "yes"})
    assert closed.status_code == 409
    assert "This request is closed" in closed.text


def test_decline_keeps_the_request_pending(client: TestClient, world: World, runtime: Runtime) -> None:
    request_id, code, token = _offered(client, world, runtime, language="en")
    creds = {"csrf_token": token, "request_id": request_id, "access_code": code}
    asked = client.post("/status/decline?lang=en", data=creds)
    assert asked.status_code == 200 and "Decline the offer?" in asked.text
    assert "You keep your place" in asked.text
    assert text_of(client.post("/status?lang=en", data=creds).text, "request-status") == "Appointment offered"
    declined = client.post("/status/decline?lang=en", data={**creds, "confirm": "yes"})
    assert declined.status_code == 200
    assert "You declined the offer." in declined.text
    assert text_of(declined.text, "request-status") == "Waiting for a draw"


def test_dates_are_in_the_office_time_zone_and_reader_language(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    world.release()  # slots two days later, 09:00 in Paris (08:00 UTC)
    request_id, code, token = apply(client, world.service, world.office)
    _drawn(world, runtime)
    creds = {"csrf_token": token, "request_id": request_id, "access_code": code}
    french = client.post("/status?lang=fr", data=creds).text
    assert "jeudi 3 décembre 2026, 09:00" in french
    english = client.post("/status?lang=en", data=creds).text
    assert "Thursday 3 December 2026, 09:00" in english


# Draw page ---------------------------------------------------------------------------------------------


def test_draw_page_shows_the_record_and_how_to_verify(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    world.release()
    for _ in range(4):
        world.applicant()
    draw_id = _drawn(world, runtime)
    record = client.get(f"/api/v1/draws/{draw_id}").json()
    page = client.get(f"/draws/{draw_id}?lang=en")
    assert page.status_code == 200
    html = page.text
    assert text_of(html, "seed-commitment") == record["seed_commitment"]
    assert text_of(html, "seed") == record["seed"]
    for entry in record["entries"]:
        assert entry["entry"] in html
        assert f'id="rank-{entry["rank"]}"' in html
    assert html.count("Offered a slot") == 3
    assert "Not selected this time" in html
    assert f"fairslot verify-draw {runtime.settings.public_url}/api/v1/draws/{draw_id}" in html
    assert f'href="/api/v1/draws/{draw_id}"' in html
    assert "sha256(seed) = seed_commitment" in html
    assert client.get(f"/draws/{draw_id}?page=abc").status_code == 200


def test_draw_entries_are_paged(
    client: TestClient, world: World, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(public, "ENTRIES_PER_PAGE", 3)
    world.release()
    for _ in range(4):
        world.applicant()
    draw_id = _drawn(world, runtime)
    first = client.get(f"/draws/{draw_id}?lang=en").text
    assert 'id="rank-3"' in first
    assert 'id="rank-4"' not in first
    assert "Page 1 of 2" in first
    assert 'href="?page=2"' in first
    second = client.get(f"/draws/{draw_id}?page=2").text
    assert 'id="rank-4"' in second
    assert 'id="rank-1"' not in second
    assert 'id="rank-4"' in client.get(f"/draws/{draw_id}?page=9").text


@pytest.mark.parametrize("path", ["/draws/999", "/draws/abc", "/draws/0", "/draws/99999999999"])
def test_unknown_draw_is_a_404_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.text


# Staff -------------------------------------------------------------------------------------------------


def test_staff_sign_in_refuses_a_wrong_key(client: TestClient, world: World) -> None:
    token = token_for(client, "/staff?lang=en")
    response = client.post("/staff/sign-in", data={"csrf_token": token, "key": "fsk_wrong"})
    assert response.status_code == 401
    assert "This staff key is unknown or revoked." in response.text
    assert "Sign in" in client.get("/staff").text


def test_planner_publishes_a_release_and_draws_it(client: TestClient, world: World, runtime: Runtime) -> None:
    token = sign_in(client, world.planner)
    home = client.get("/staff?lang=en").text
    assert "Publish a release" in home
    assert "Administration" not in home
    form = {
        "csrf_token": token,
        "office": world.office,
        "service": world.service,
        "draw_at": "2026-12-01T12:00",
        "first_day": "2026-12-07",
        "last_day": "2026-12-11",
        "weekdays": ["1", "3", "5"],
        "times": "09:00 14h30",
        "desks": "2",
        "offer_ttl_hours": "24",
    }
    bad = client.post("/staff/releases", data={**form, "times": "9 o'clock", "weekdays": [], "desks": "0"})
    assert bad.status_code == 422
    for name in ("times", "weekdays", "desks"):
        assert f'id="release-{name}-error"' in bad.text
    with session_scope(runtime.engine) as session:
        assert session.exec(select(Release)).all() == []

    past = client.post("/staff/releases", data={**form, "draw_at": "2026-11-30T09:00"})
    assert past.status_code == 422
    assert "The draw time must not be in the past." in past.text

    created = client.post("/staff/releases", data=form)
    assert created.status_code == 201, created.text
    assert "is published: 12 slots" in created.text
    with session_scope(runtime.engine) as session:
        release = session.exec(select(Release)).one()
        assert release.slot_count == 12
        assert release.offer_ttl_hours == 24
        assert release.draw_at.isoformat() == "2026-12-01T11:00:00+00:00"
    assert "Not yet due" in created.text

    apply(client, world.service, world.office)
    assert isinstance(runtime.clock, FrozenClock)
    runtime.clock.advance(timedelta(hours=4))
    token = sign_in(client, world.planner)  # four idle hours ended the session
    due = client.get("/staff").text
    assert f'action="/staff/releases/{release.id}/draw"' in due
    drawn = client.post(
        f"/staff/releases/{release.id}/draw", data={"csrf_token": token, "beacon": "round-42"}
    )
    assert drawn.status_code == 200
    assert "is drawn: 1 entries, 1 offers made." in drawn.text
    link = re.search(r'href="(/draws/\d+)"', drawn.text)
    assert link
    draw_page = client.get(link.group(1)).text
    assert "round-42" in draw_page
    twice = client.post(f"/staff/releases/{release.id}/draw", data={"csrf_token": token})
    assert twice.status_code == 409


def test_planner_cannot_publish_for_another_office(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_key(runtime, "planner", [world.office])
    token = sign_in(client, other)
    response = client.post(
        "/staff/releases",
        data={
            "csrf_token": token,
            "office": "elsewhere",
            "service": world.service,
            "draw_at": "2026-12-01T12:00",
            "first_day": "2026-12-07",
            "last_day": "2026-12-07",
            "weekdays": ["1"],
            "times": "09:00",
            "desks": "1",
        },
    )
    assert response.status_code == 422
    assert 'id="release-office-error"' in response.text


def test_desk_key_cannot_publish(client: TestClient, world: World) -> None:
    token = sign_in(client, world.desk)
    response = client.post("/staff/releases", data={"csrf_token": token, "office": world.office})
    assert response.status_code == 403


def test_revoked_key_is_signed_out_at_once(client: TestClient, world: World, runtime: Runtime) -> None:
    sign_in(client, world.planner)
    assert "Publier une ouverture" in client.get("/staff").text
    with session_scope(runtime.engine) as session:
        row = session.exec(select(StaffKey).where(StaffKey.key_hash == hash_key(world.planner))).one()
    assert client.delete(f"/api/v1/staff-keys/{row.id}", headers=auth(world.admin)).status_code == 204
    page = client.get("/staff").text
    assert "Publier une ouverture" not in page
    assert 'name="key"' in page


def test_sign_out_forgets_the_key(client: TestClient, world: World) -> None:
    token = sign_in(client, world.planner)
    response = client.post("/staff/sign-out", data={"csrf_token": token})
    assert response.status_code == 200
    assert 'name="key"' in response.text


def test_admin_creates_an_office_a_service_and_a_key(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    token = sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    assert "Administration" in page
    assert "Publish a release" not in page  # publishing is the planners' job, as in the API
    bad = client.post(
        "/staff/offices", data={"csrf_token": token, "code": "Bad Code", "name": "", "timezone": "Mars/Base"}
    )
    assert bad.status_code == 422
    for name in ("code", "name", "timezone"):
        assert f'id="office-{name}-error"' in bad.text
    office = client.post(
        "/staff/offices",
        data={"csrf_token": token, "code": "lyon", "name": "Lyon", "timezone": "Europe/Paris"},
    )
    assert office.status_code == 201
    taken = client.post(
        "/staff/offices",
        data={"csrf_token": token, "code": "lyon", "name": "Lyon", "timezone": "Europe/Paris"},
    )
    assert taken.status_code == 409
    assert "This code is already taken." in taken.text
    service = client.post(
        "/staff/services",
        data={"csrf_token": token, "code": "naturalisation", "name": "Naturalisation", "slot_minutes": "45"},
    )
    assert service.status_code == 201
    no_office = client.post("/staff/keys", data={"csrf_token": token, "role": "desk", "label": "desk 1"})
    assert no_office.status_code == 422
    assert 'id="key-offices-error"' in no_office.text
    created = client.post(
        "/staff/keys", data={"csrf_token": token, "role": "desk", "offices": ["lyon"], "label": "desk 1"}
    )
    assert created.status_code == 201
    key = text_of(created.text, "created-key")
    assert key.startswith("fsk_")
    assert client.get("/api/v1/offices").json()[-1]["code"] in {"lyon", world.office}
    with TestClient(create_app(runtime)) as desk_client:
        sign_in(desk_client, key)
        assert "Enregistrer l" in desk_client.get("/desk").text
    key_id = int(re.findall(r'action="/staff/keys/(\d+)/revoke"', created.text)[0])
    revoked = client.post(f"/staff/keys/{key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200
    assert f"Staff key {key_id} is revoked." in revoked.text


# Desk --------------------------------------------------------------------------------------------------


def _booked(client: TestClient, world: World, runtime: Runtime) -> str:
    request_id, code, token = _offered(client, world, runtime)
    page = client.post(
        "/status/accept", data={"csrf_token": token, "request_id": request_id, "access_code": code}
    )
    return text_of(page.text, "booking-token")


def test_desk_check_in_verdicts(client: TestClient, world: World, runtime: Runtime) -> None:
    booking_token = _booked(client, world, runtime)
    with TestClient(create_app(runtime)) as desk:
        token = sign_in(desk, world.desk)
        assert "Booking code" in desk.get("/desk?lang=en").text
        bad = desk.post("/desk/check-in", data={"csrf_token": token, "token": "", "birth_date": "12/04/1990"})
        assert bad.status_code == 422
        for name in ("token", "document_number", "birth_date"):
            assert f'id="desk-{name}-error"' in bad.text

        def check(document: str, tok: str = booking_token, status: int = 200) -> str:
            response = desk.post(
                "/desk/check-in",
                data={
                    "csrf_token": token,
                    "token": tok,
                    "document_number": document,
                    "birth_date": "1990-04-12",
                },
            )
            assert response.status_code == status  # a refusal answers as the API does
            return response.text

        mismatch = check("X9999999", status=403)
        assert "verdict--refused" in mismatch
        assert "The document does not match this booking." in mismatch
        assert 'value="X9999999"' in mismatch  # what was typed stays
        forged = check("P01234567", booking_token[:-4] + "AAAA", status=401)
        assert "This booking code is not valid" in forged
        garbage = check("P01234567", "not a token", status=401)
        assert "This booking code is not valid" in garbage
        ok = check("p0123 4567")
        assert "verdict--ok" in ok
        assert text_of(ok, "verdict-name") == "Aïcha Diallo"
        assert "Thursday 3 December 2026, 09:00" in ok
        again = check("P01234567", status=409)
        assert "This booking has already been checked in." in again


def test_desk_of_another_office_sees_wrong_office(client: TestClient, world: World, runtime: Runtime) -> None:
    booking_token = _booked(client, world, runtime)
    other_office = client.post(
        "/api/v1/offices",
        json={"code": "other", "name": "Other office", "timezone": "Europe/Paris"},
        headers=auth(world.admin),
    ).json()["code"]
    other_desk = create_key(runtime, "desk", [other_office])
    with TestClient(create_app(runtime)) as desk:
        token = sign_in(desk, other_desk)
        response = desk.post(
            "/desk/check-in?lang=en",
            data={
                "csrf_token": token,
                "token": booking_token,
                "document_number": "P01234567",
                "birth_date": "1990-04-12",
            },
        )
        assert "This booking is for another office." in response.text
        assert "Test office" in response.text


def test_desk_checks_in_with_a_desk_key_only(client: TestClient, world: World, runtime: Runtime) -> None:
    page = client.get("/desk")
    assert page.status_code == 200
    assert 'name="next" value="desk"' in page.text
    agent = create_key(runtime, "agent", [world.office])
    sign_in(client, agent)
    assert client.get("/desk").status_code == 403
    token = sign_in(client, world.planner)
    listing = client.get("/desk")  # a planner reads the office's day, and checks nobody in
    assert listing.status_code == 200
    assert 'action="/desk/check-in"' not in listing.text
    response = client.post(
        "/desk/check-in",
        data={"csrf_token": token, "token": "x", "document_number": "x", "birth_date": "1990-01-01"},
    )
    assert response.status_code == 403


def test_desk_sign_in_goes_to_the_desk(client: TestClient, world: World) -> None:
    token = csrf_of(client.get("/desk").text)
    response = client.post("/staff/sign-in", data={"csrf_token": token, "key": world.desk, "next": "desk"})
    assert response.status_code == 200
    assert str(response.url).endswith("/desk")


def test_the_accessibility_statement_gives_its_status_tests_gaps_and_contact(client: TestClient) -> None:
    french = client.get("/accessibility?lang=fr")
    assert french.status_code == 200
    assert "Déclaration d\u2019accessibilité" in french.text
    assert "Non conforme au RGAA" in french.text
    assert "axe-core" in french.text
    assert 'href="mailto:accessibilite@fairslot.localhost"' in french.text
    assert "Défenseur des droits" in french.text
    assert "1 décembre 2026" in french.text
    for lang, title in [
        ("ar", "بيان إمكانية الوصول"),
        ("uk", "Заява про доступність"),
        ("es", "Declaración"),
    ]:
        page = client.get(f"/accessibility?lang={lang}")
        assert title in page.text
    assert 'href="/accessibility" aria-current="page"' in client.get("/accessibility").text
    assert 'href="/accessibility"' in client.get("/").text


def test_admin_sets_a_services_weight_policy_as_the_api_takes_it(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    token = sign_in(client, world.admin)
    page = client.get("/staff?lang=en").text
    # The page's own example (urgency first, docs/evidence/simulation.md) is a policy the service accepts.
    example = html.unescape(
        re.findall(r"urgency first, with expiry dates[^:]*: ([^<]+)</p>", page)[0]
    ).strip()
    created = client.post(
        "/staff/services",
        data={
            "csrf_token": token,
            "code": "busy",
            "name": "Busy",
            "slot_minutes": "30",
            "weight_policy": example,
        },
    )
    assert created.status_code == 201, created.text
    services = {s["code"]: s for s in client.get("/api/v1/services").json()}
    policy = services["busy"]["weight_policy"]
    assert [(b["within_days"], b["multiplier"]) for b in policy["expiry_bands"]] == [
        (30, "100"),
        (60, "20"),
        (90, "4"),
    ]
    assert policy["verify_claims"] == "before_draw"
    assert policy["waiting_cap"] == "3"  # what the JSON left out keeps the default
    # Not JSON, not an object, or rules the API refuses: the form says so, keeps the text, creates nothing.
    for typed in (
        "{expiry_bands: x4}",
        "[1, 2]",
        '{"expiry_bands": [{"within_days": 30, "multiplier": 1000}]}',
    ):
        refused = client.post(
            "/staff/services",
            data={
                "csrf_token": token,
                "code": "other",
                "name": "Other",
                "slot_minutes": "30",
                "weight_policy": typed,
            },
        )
        assert refused.status_code == 422, typed
        assert 'id="service-weight_policy-error"' in refused.text
        assert typed in html.unescape(refused.text)
    assert "other" not in {s["code"] for s in client.get("/api/v1/services").json()}


def test_the_status_page_of_a_withdrawn_request_shows_no_weight(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    request_id, code, token = apply(client, world.service, world.office)
    creds = {"csrf_token": token, "request_id": request_id, "access_code": code}
    assert 'id="weight-title"' in client.post("/status?lang=en", data=creds).text

    withdrawn = client.post(f"/api/v1/requests/{request_id}/cancel", headers=auth(code))
    assert withdrawn.status_code == 200, withdrawn.text
    page = client.post("/status?lang=en", data=creds)

    assert page.status_code == 200
    assert 'id="weight-title"' not in page.text
    assert "Your weight today" not in page.text


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("fr", "Votre nom de famille contient un caractère invisible"),
        ("en", "Your family name contains an invisible character"),
        ("ar", "يحتوي اسم العائلة على حرف غير مرئي"),
        ("es", "Su apellido contiene un carácter invisible"),
        ("pt", "O seu apelido contém um carácter invisível"),
        ("uk", "Ваше прізвище містить невидимий символ"),
    ],
)
def test_a_name_with_an_invisible_character_is_explained_in_the_readers_language_and_kept(
    client: TestClient, world: World, runtime: Runtime, lang: str, message: str
) -> None:
    token = token_for(client, f"/apply?lang={lang}")
    typed = "Dia\u00adllo"  # a soft hyphen, pasted with the name
    response = client.post(
        "/apply", data={"csrf_token": token, **apply_data(world.service, world.office, family_name=typed)}
    )

    assert response.status_code == 422
    assert html.escape(message, quote=True) in response.text or message in response.text
    assert 'id="f-family_name-error"' in response.text
    assert f'value="{typed}"' in response.text
    assert request_count(runtime) == 0
