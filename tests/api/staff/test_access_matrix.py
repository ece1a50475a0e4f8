"""Who may do what: every staff endpoint against every role, office scope and broken credential.

Actors: an admin; a planner and a desk of the release's own office and of another office; an auditor;
nobody (no header), a garbage key, and revoked admin and planner keys. Refused calls change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.db.engine import session_scope
from app.db.models import (
    AuditEvent,
    Booking,
    Draw,
    Office,
    OfficeClosure,
    OpeningSchedule,
    Release,
    Service,
    StaffKey,
)
from app.runtime import Runtime
from app.schemas.catalog import OfficeCreate, ServiceCreate, WeightPolicyIn
from app.schemas.planning import ClosureCreate, ScheduleIn
from app.schemas.staff import StaffKeyCreate
from app.services import scheduler
from app.services.operations import catalog, closures, schedules
from app.services.staff import keys as staff_keys
from tests.factories import auth, create_release, request_body
from tests.web.helpers import csrf_of

ACTORS = [
    "admin",
    "planner_own",
    "planner_other",
    "desk_own",
    "desk_other",
    "auditor",
    "anonymous",
    "garbage",
    "revoked_admin",
    "revoked_planner",
]
UNAUTHENTICATED = {"anonymous": 401, "garbage": 401, "revoked_admin": 401, "revoked_planner": 401}
CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found"}


def admin_only(success: int) -> dict[str, int]:
    staff = dict.fromkeys(["planner_own", "planner_other", "desk_own", "desk_other", "auditor"], 403)
    return {"admin": success, **staff, **UNAUTHENTICATED}


def planner_of_the_office(success: int) -> dict[str, int]:
    # The contract gives releases and draws to planners alone: an admin manages keys, not capacity.
    others = dict.fromkeys(["admin", "planner_other", "desk_own", "desk_other", "auditor"], 403)
    return {"planner_own": success, **others, **UNAUTHENTICATED}


class Scene:
    """Two offices, a service, a key per actor, a release of the own office and a key to revoke.

    Built straight through the services in one unit of work (the endpoints under test are called over HTTP).
    """

    def __init__(self, client: TestClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime
        self.office, self.other_office, self.service = "own-office", "other-office", "matrix-service"
        operator = staff_keys.operator("t")
        with session_scope(runtime.engine) as session:
            for code in (self.office, self.other_office):
                catalog.create_office(
                    session=session,
                    data=OfficeCreate(code=code, name=code, timezone="Europe/Paris"),
                    staff=operator,
                )
            catalog.create_service(
                session=session,
                data=ServiceCreate(
                    code=self.service,
                    name="Service",
                    slot_minutes=30,
                    weight_policy=WeightPolicyIn(entry_verification="none"),
                ),
                staff=operator,
            )

            def key(role: str, offices: list[str], revoked: bool = False) -> tuple[int, str]:
                data = StaffKeyCreate(role=role, offices=offices, label="matrix")
                row, secret = staff_keys.create_key(session=session, data=data, staff=operator)
                assert row.id is not None
                if revoked:
                    staff_keys.revoke_key(session=session, key_id=row.id, staff=operator)
                return row.id, secret

            self.keys: dict[str, str | None] = {
                "admin": key("admin", [])[1],
                "planner_own": key("planner", [self.office])[1],
                "planner_other": key("planner", [self.other_office])[1],
                "desk_own": key("desk", [self.office])[1],
                "desk_other": key("desk", [self.other_office])[1],
                "auditor": key("auditor", [])[1],
                "anonymous": None,
                "garbage": "fsk_this-is-not-a-key",
                "revoked_admin": key("admin", [], revoked=True)[1],
                "revoked_planner": key("planner", [self.office], revoked=True)[1],
            }
            self.target_key_id = key("auditor", [])[0]
        planner = self.keys["planner_own"]
        assert planner is not None
        self.release = create_release(
            client, planner, office=self.office, service=self.service, now=runtime.clock.now()
        )

    def headers(self, actor: str) -> dict[str, str]:
        key = self.keys[actor]
        return {} if key is None else auth(key)

    def count(self, what: Callable[[Runtime], int]) -> int:
        return what(self.runtime)


def _rows(model: Any, *where: Any) -> Callable[[Runtime], int]:
    def count(runtime: Runtime) -> int:
        with runtime.engine.connect() as conn:
            query = select(func.count()).select_from(model.__table__)
            for condition in where:
                query = query.where(condition)
            return conn.execute(query).scalar_one()

    return count


@dataclass(frozen=True)
class Endpoint:
    """One staff endpoint: how to call it and which rows it changes when it succeeds."""

    name: str
    call: Callable[[Scene, dict[str, str]], Any]
    rows: Callable[[Runtime], int]
    expected: dict[str, int]
    success_code: str | None = None  # the problem code of an allowed call that still cannot act (409)


def _release_body(scene: Scene) -> dict[str, Any]:
    first = scene.runtime.clock.now() + timedelta(days=3)
    return {
        "office": scene.office,
        "service": scene.service,
        "draw_at": (scene.runtime.clock.now() + timedelta(hours=2)).isoformat(),
        "slots": [{"starts_at": (first + timedelta(hours=i)).isoformat()} for i in range(2)],
    }


ENDPOINTS = [
    Endpoint(
        "post-offices",
        lambda s, h: s.client.post(
            "/api/v1/offices",
            json={"code": "new-office", "name": "New", "timezone": "Europe/Paris"},
            headers=h,
        ),
        _rows(Office),
        admin_only(201),
    ),
    Endpoint(
        "post-services",
        lambda s, h: s.client.post(
            "/api/v1/services", json={"code": "new-service", "name": "New", "slot_minutes": 15}, headers=h
        ),
        _rows(Service),
        admin_only(201),
    ),
    Endpoint(
        "post-staff-keys",
        lambda s, h: s.client.post("/api/v1/staff-keys", json={"role": "auditor", "label": "new"}, headers=h),
        _rows(StaffKey),
        admin_only(201),
    ),
    Endpoint(
        "delete-staff-key",
        lambda s, h: s.client.delete(f"/api/v1/staff-keys/{s.target_key_id}", headers=h),
        _rows(StaffKey, StaffKey.__table__.c.revoked_at.is_not(None)),
        admin_only(204),
    ),
    Endpoint(
        "post-releases",
        lambda s, h: s.client.post("/api/v1/releases", json=_release_body(s), headers=h),
        _rows(Release),
        planner_of_the_office(201),
    ),
    Endpoint(
        "draw-before-draw-at",
        lambda s, h: s.client.post(f"/api/v1/releases/{s.release['id']}/draw", json={}, headers=h),
        _rows(Draw),
        planner_of_the_office(409),
        success_code="too_early",
    ),
]


def _draw_when_due(scene: Scene, headers: dict[str, str]) -> Any:
    scene.runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]
    return scene.client.post(
        f"/api/v1/releases/{scene.release['id']}/draw", json={"beacon": "b"}, headers=headers
    )


ENDPOINTS.append(Endpoint("draw-when-due", _draw_when_due, _rows(Draw), planner_of_the_office(200)))


def planners_and_admins(success: int) -> dict[str, int]:
    # Schedules and closures are the office's planners' and the admins' (the contract's "Operating an office").
    others = dict.fromkeys(["planner_other", "desk_own", "desk_other", "auditor"], 403)
    return {"admin": success, "planner_own": success, **others, **UNAUTHENTICATED}


_WEEKDAY = [{"weekday": 1, "opens": "09:00", "closes": "10:00", "desks": 1}]


def _with_schedule(scene: Scene) -> None:
    with session_scope(scene.runtime.engine) as session:
        schedules.put_schedule(
            session=session,
            staff=staff_keys.operator("t"),
            office=scene.office,
            service=scene.service,
            data=ScheduleIn.model_validate({"weekly": _WEEKDAY}),
            now=scene.runtime.clock.now(),
        )


def _publish_week(scene: Scene, headers: dict[str, str]) -> Any:
    _with_schedule(scene)
    draw_at = scene.runtime.clock.now() + timedelta(hours=2)
    return scene.client.post(
        f"/api/v1/offices/{scene.office}/schedules/{scene.service}/publish",
        json={"week": "2027-W02", "draw_at": draw_at.isoformat()},
        headers=headers,
    )


def _delete_closure(scene: Scene, headers: dict[str, str]) -> Any:
    with session_scope(scene.runtime.engine) as session:
        view = closures.create_closure(
            session=session,
            staff=staff_keys.operator("t"),
            office=scene.office,
            data=ClosureCreate.model_validate(
                {"starts_on": "2027-02-01", "ends_on": "2027-02-01", "reason": "x"}
            ),
            now=scene.runtime.clock.now(),
        )
    return scene.client.delete(f"/api/v1/offices/{scene.office}/closures/{view.closure.id}", headers=headers)


ENDPOINTS += [
    Endpoint(
        "patch-office",
        lambda s, h: s.client.patch(
            f"/api/v1/offices/{s.office}", json={"phone": "01 42 76 40 40"}, headers=h
        ),
        _rows(Office, Office.__table__.c.phone.is_not(None)),
        admin_only(200),
    ),
    Endpoint(
        "patch-service",
        lambda s, h: s.client.patch(f"/api/v1/services/{s.service}", json={"names": {"fr": "S"}}, headers=h),
        _rows(Service, Service.__table__.c.revision > 0),
        admin_only(200),
    ),
    Endpoint(
        "put-schedule",
        lambda s, h: s.client.put(
            f"/api/v1/offices/{s.office}/schedules/{s.service}", json={"weekly": _WEEKDAY}, headers=h
        ),
        _rows(OpeningSchedule),
        planners_and_admins(200),
    ),
    Endpoint("publish-week", _publish_week, _rows(Release), planner_of_the_office(201)),
    Endpoint(
        "post-closure",
        lambda s, h: s.client.post(
            f"/api/v1/offices/{s.office}/closures",
            json={"starts_on": "2027-02-01", "ends_on": "2027-02-02", "reason": "Grève"},
            headers=h,
        ),
        _rows(OfficeClosure),
        planners_and_admins(201),
    ),
    Endpoint(
        "delete-closure",
        _delete_closure,
        _rows(AuditEvent, AuditEvent.__table__.c.action == "closure.deleted"),
        planners_and_admins(204),
    ),
    Endpoint(
        "withdraw-release",
        lambda s, h: s.client.post(
            f"/api/v1/releases/{s.release['id']}/withdraw", json={"reason": "x"}, headers=h
        ),
        _rows(Release, Release.__table__.c.status == "withdrawn"),
        planner_of_the_office(200),
    ),
]

CASES = [
    pytest.param(
        endpoint, actor, endpoint.expected[actor], id=f"{endpoint.name}-as-{actor}-{endpoint.expected[actor]}"
    )
    for endpoint in ENDPOINTS
    for actor in ACTORS
]


@pytest.mark.parametrize(("endpoint", "actor", "status"), CASES)
def test_each_staff_endpoint_answers_each_actor_exactly(
    client: TestClient, runtime: Runtime, endpoint: Endpoint, actor: str, status: int
) -> None:
    scene = Scene(client, runtime)
    before = scene.count(endpoint.rows)

    response = endpoint.call(scene, scene.headers(actor))

    assert response.status_code == status, response.text
    changed = scene.count(endpoint.rows) - before
    if status in (200, 201, 204):
        assert changed == 1
        return
    assert changed == 0
    assert response.headers["content-type"].startswith("application/problem+json")
    expected_code = endpoint.success_code if status == 409 else CODES[status]
    assert response.json()["code"] == expected_code
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def test_the_matrix_covers_every_staff_write_route_of_the_openapi_document(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    covered = {
        ("post", "/api/v1/offices"),
        ("post", "/api/v1/services"),
        ("post", "/api/v1/staff-keys"),
        ("delete", "/api/v1/staff-keys/{key_id}"),
        ("post", "/api/v1/releases"),
        ("post", "/api/v1/releases/{release_id}/draw"),
        ("patch", "/api/v1/offices/{code}"),
        ("patch", "/api/v1/services/{code}"),
        ("put", "/api/v1/offices/{office}/schedules/{service}"),
        ("post", "/api/v1/offices/{office}/schedules/{service}/publish"),
        ("post", "/api/v1/offices/{office}/closures"),
        ("delete", "/api/v1/offices/{office}/closures/{closure_id}"),
        ("post", "/api/v1/releases/{release_id}/withdraw"),
    }
    staff_routes = {
        (method, path)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if path.startswith(("/api/v1/offices", "/api/v1/services", "/api/v1/staff-keys", "/api/v1/releases"))
        and method in ("post", "put", "patch", "delete")
        and "401" in operation.get("responses", {})
    }
    assert staff_routes == covered


# --- reads are public ----------------------------------------------------------------------------------

PUBLIC_READS = [
    pytest.param(lambda s: "/api/v1/offices", id="offices"),
    pytest.param(lambda s: "/api/v1/services", id="services"),
    pytest.param(lambda s: "/api/v1/releases", id="releases"),
    pytest.param(lambda s: f"/api/v1/releases/{s.release['id']}", id="one-release"),
]


@pytest.mark.parametrize("path", PUBLIC_READS)
@pytest.mark.parametrize("actor", ["anonymous", "garbage", "revoked_admin", "desk_other", "auditor"])
def test_public_reads_answer_anyone_whatever_their_credential(
    client: TestClient, runtime: Runtime, path: Callable[[Scene], str], actor: str
) -> None:
    scene = Scene(client, runtime)

    response = client.get(path(scene), headers=scene.headers(actor))

    assert response.status_code == 200, response.text


# --- order of checks -----------------------------------------------------------------------------------


def test_a_role_that_may_never_draw_gets_403_even_for_an_unknown_release(
    client: TestClient, runtime: Runtime
) -> None:
    scene = Scene(client, runtime)
    response = client.post("/api/v1/releases/987654/draw", headers=scene.headers("desk_own"))
    assert response.status_code == 403


def test_a_planner_of_another_office_learns_nothing_about_a_release_by_drawing_it(
    client: TestClient, runtime: Runtime
) -> None:
    scene = Scene(client, runtime)
    runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]

    response = client.post(
        f"/api/v1/releases/{scene.release['id']}/draw", headers=scene.headers("planner_other")
    )

    assert response.status_code == 403
    assert client.get(f"/api/v1/releases/{scene.release['id']}").json()["status"] == "scheduled"


def test_a_planner_may_not_publish_for_an_office_outside_its_scope_even_with_a_valid_body(
    client: TestClient, runtime: Runtime
) -> None:
    scene = Scene(client, runtime)
    body = {**_release_body(scene), "office": scene.other_office}

    own = client.post("/api/v1/releases", json=body, headers=scene.headers("planner_own"))
    other = client.post("/api/v1/releases", json=body, headers=scene.headers("planner_other"))

    assert own.status_code == 403
    assert other.status_code == 201, other.text


# --- the same matrix through the web forms ----------------------------------------------------------------
# A page answers 303 (to the sign-in form) when nobody is signed in; a revoked or garbage key cannot sign in
# (tests/web/test_pages.py). Allowed and refused calls otherwise answer as the API does, from the same
# service check: the page only asks ``staff.can`` to decide what it shows.

WEB_ACTORS = ["admin", "planner_own", "planner_other", "desk_own", "desk_other", "auditor", "anonymous"]


def _web(expected: dict[str, int]) -> dict[str, int]:
    return {actor: (303 if actor == "anonymous" else expected[actor]) for actor in WEB_ACTORS}


def _signed_in(scene: Scene, actor: str) -> str:
    """Sign ``actor`` in on the scene's client (nobody for ``anonymous``); returns the CSRF token."""
    key = scene.keys[actor]
    token = csrf_of(scene.client.get("/staff?lang=en").text)
    if actor == "anonymous" or key is None:
        return token
    response = scene.client.post("/staff/sign-in", data={"csrf_token": token, "key": key})
    assert response.status_code == 200, response.text
    return csrf_of(response.text)


def _release_form(scene: Scene) -> dict[str, Any]:
    zone = ZoneInfo("Europe/Paris")
    now = scene.runtime.clock.now().astimezone(zone)
    day = (now + timedelta(days=3)).date()
    return {
        "office": scene.office,
        "service": scene.service,
        "draw_at": (now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "first_day": day.isoformat(),
        "last_day": day.isoformat(),
        "weekdays": [str(day.isoweekday())],
        "times": "09:00 10:00",
        "desks": "1",
    }


@dataclass(frozen=True)
class Form:
    """One staff form: what it posts and which rows it changes when it succeeds."""

    name: str
    path: Callable[[Scene], str]
    data: Callable[[Scene], dict[str, Any]]
    rows: Callable[[Runtime], int]
    expected: dict[str, int]
    before: Callable[[Scene], None] = lambda scene: None


def _due(scene: Scene) -> None:
    scene.runtime.clock.advance(timedelta(hours=2))  # type: ignore[attr-defined]


FORMS = [
    Form(
        "office-form",
        lambda s: "/staff/offices",
        lambda s: {"code": "new-office", "name": "New", "timezone": "Europe/Paris"},
        _rows(Office),
        _web(admin_only(201)),
    ),
    Form(
        "service-form",
        lambda s: "/staff/services",
        lambda s: {"code": "new-service", "name": "New", "slot_minutes": "15"},
        _rows(Service),
        _web(admin_only(201)),
    ),
    Form(
        "staff-key-form",
        lambda s: "/staff/keys",
        lambda s: {"role": "auditor", "label": "new"},
        _rows(StaffKey),
        _web(admin_only(201)),
    ),
    Form(
        "revoke-form",
        lambda s: f"/staff/keys/{s.target_key_id}/revoke",
        lambda s: {},
        _rows(StaffKey, StaffKey.__table__.c.revoked_at.is_not(None)),
        _web(admin_only(200)),
    ),
    Form(
        "publish-form",
        lambda s: "/staff/releases",
        _release_form,
        _rows(Release),
        _web(planner_of_the_office(201)),
    ),
    Form(
        "draw-form-before-draw-at",
        lambda s: f"/staff/releases/{s.release['id']}/draw",
        lambda s: {},
        _rows(Draw),
        _web(planner_of_the_office(409)),
    ),
    Form(
        "draw-form-when-due",
        lambda s: f"/staff/releases/{s.release['id']}/draw",
        lambda s: {"beacon": "b"},
        _rows(Draw),
        _web(planner_of_the_office(200)),
        before=_due,
    ),
]

WEB_CASES = [
    pytest.param(form, actor, form.expected[actor], id=f"{form.name}-as-{actor}-{form.expected[actor]}")
    for form in FORMS
    for actor in WEB_ACTORS
]


@pytest.mark.parametrize(("form", "actor", "status"), WEB_CASES)
def test_each_staff_form_answers_each_actor_as_the_api_does(
    client: TestClient, runtime: Runtime, form: Form, actor: str, status: int
) -> None:
    scene = Scene(client, runtime)
    form.before(scene)  # first: moving the clock past a draw time would end an idle session
    token = _signed_in(scene, actor)
    before = scene.count(form.rows)

    response = client.post(
        form.path(scene), data={"csrf_token": token, **form.data(scene)}, follow_redirects=False
    )

    assert response.status_code == status, response.text
    assert scene.count(form.rows) - before == (1 if status in (200, 201) else 0)
    if status == 403:
        assert "Your staff key is not allowed to do this." in response.text


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        ("admin", {"admin"}),
        ("planner_own", {"publish", "draw"}),
        ("planner_other", {"publish"}),
        ("desk_own", {"desk"}),
        ("auditor", set()),
    ],
)
def test_the_staff_home_shows_the_buttons_the_access_table_grants(
    client: TestClient, runtime: Runtime, actor: str, sees: set[str]
) -> None:
    scene = Scene(client, runtime)
    _due(scene)  # first: moving the clock two hours on would end an idle session
    _signed_in(scene, actor)

    page = client.get("/staff?lang=en").text

    shown = {
        "admin": 'action="/staff/offices"' in page and 'action="/staff/keys"' in page,
        "publish": 'action="/staff/releases"' in page,
        "draw": f'action="/staff/releases/{scene.release["id"]}/draw"' in page,
        "desk": 'href="/desk"' in page,
    }
    assert {name for name, present in shown.items() if present} == sees


# --- the desk: the same check-in through the API and the desk page --------------------------------------

CHECK_IN = {  # actor: (API status, web status, checked in)
    "desk_own": (200, 200, True),
    "desk_other": (409, 200, False),  # wrong_office; the desk page shows a red verdict
    "admin": (403, 403, False),
    "planner_own": (403, 403, False),
    "auditor": (403, 403, False),
    "anonymous": (401, 303, False),
}


def _booked_token(scene: Scene) -> tuple[str, str]:
    """A booking of the scene's release: its id and token (the holder's document is P00000042)."""
    body = request_body(scene.service, [scene.office], n=42)
    applicant = scene.client.post("/api/v1/requests", json=body).json()
    _due(scene)
    scheduler.tick(scene.runtime)
    accepted = scene.client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert accepted.status_code == 200, accepted.text
    booking = accepted.json()["booking"]
    return booking["id"], booking["token"]


def _booking_status(runtime: Runtime, booking_id: str) -> str:
    with runtime.engine.connect() as conn:
        table = Booking.__table__  # type: ignore[attr-defined]
        return conn.execute(select(table.c.status).where(table.c.id == booking_id)).scalar_one()


@pytest.mark.parametrize("face", ["api", "web"])
@pytest.mark.parametrize("actor", list(CHECK_IN))
def test_a_check_in_answers_each_actor_alike_at_the_api_and_at_the_desk_page(
    client: TestClient, runtime: Runtime, actor: str, face: str
) -> None:
    scene = Scene(client, runtime)
    booking_id, token = _booked_token(scene)
    document = {"token": token, "document_number": "P00000042", "birth_date": "1990-04-12"}
    api_status, web_status, checked_in = CHECK_IN[actor]

    if face == "api":
        response = client.post("/api/v1/check-ins", json=document, headers=scene.headers(actor))
        assert response.status_code == api_status, response.text
    else:
        csrf = _signed_in(scene, actor)
        response = client.post(
            "/desk/check-in", data={"csrf_token": csrf, **document}, follow_redirects=False
        )
        assert response.status_code == web_status, response.text

    assert _booking_status(runtime, booking_id) == ("attended" if checked_in else "booked")
