"""The audit log for auditors and admins: every row names its actor; filters, cursor, offices; the chain's
verdict; the page with the same filters and its CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from app.main import create_app
from app.runtime import Runtime
from app.services import audit, scheduler
from tests.factories import World, auth, create_key, create_office
from tests.staff_accounts import person, signed_in


@pytest.fixture
def world(client: TestClient, runtime: Runtime) -> World:
    return World(client, runtime)


@pytest.fixture
def other_browser(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        yield browser


def _seal(runtime: Runtime) -> None:
    with runtime.engine.begin() as conn:
        from sqlmodel import Session

        with Session(bind=conn) as session:
            audit.seal(session)


def test_every_row_names_its_actor_with_account_key_and_face(
    client: TestClient, world: World, runtime: Runtime, other_browser: TestClient
) -> None:
    camille = person(
        client,
        runtime,
        world.admin,
        "camille@example.org",
        [{"role": "planner", "offices": [world.office]}],
        name="Camille Martin",
    )
    key = client.post(
        f"/api/v1/staff-accounts/{camille.id}/keys",
        json={"role": "planner", "offices": [world.office]},
        headers=auth(world.admin),
    ).json()
    world.release()  # an unowned planner key, through the API
    release = client.post(
        "/api/v1/releases",
        json={
            "office": world.office,
            "service": world.service,
            "draw_at": (world.now + timedelta(hours=1)).isoformat(),
            "slots": [{"starts_at": (world.now + timedelta(days=2)).isoformat()}],
        },
        headers=auth(key["key"]),
    ).json()
    signed_in(other_browser, runtime, camille)
    scheduler.tick(runtime)
    items = client.get("/api/v1/audit?action=release.created", headers=auth(world.admin)).json()["items"]
    by_release = {i["subject"]: i for i in items}
    mine = by_release[f"release:{release['id']}"]
    assert mine["actor"] == {
        "account_id": camille.id,
        "display_name": "Camille Martin",
        "key_id": key["id"],
        "via": "api",
    }
    assert mine["office"] == world.office
    unowned = next(i for s, i in by_release.items() if s != f"release:{release['id']}")
    assert unowned["actor"]["account_id"] is None and unowned["actor"]["via"] == "api"
    signed = client.get(
        f"/api/v1/audit?action=staff.signed_in&actor={camille.id}", headers=auth(world.admin)
    ).json()
    assert signed["items"][0]["actor"]["via"] == "web"
    assert signed["items"][0]["actor"]["key_id"] is None


def test_filters_and_the_cursor_walk_the_log_newest_first(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    for _ in range(3):
        world.release()
    first = client.get("/api/v1/audit?action=release.created", headers=auth(world.admin)).json()
    ids = [i["id"] for i in first["items"]]
    assert ids == sorted(ids, reverse=True) and len(ids) == 3
    assert first["next_cursor"] is None
    from app.services.staff import audit_log

    with runtime.engine.connect() as conn:
        from sqlmodel import Session

        with Session(bind=conn) as session:
            from app.services.staff.keys import operator

            page = audit_log.events(
                session=session,
                staff=operator("test"),
                filters=audit_log.AuditFilters(action="release.created"),
                limit=2,
            )
    assert [i.id for i in page.items] == ids[:2] and page.next_cursor
    rest = client.get(
        f"/api/v1/audit?action=release.created&cursor={page.next_cursor}", headers=auth(world.admin)
    ).json()
    assert [i["id"] for i in rest["items"]] == ids[2:]
    empty = client.get("/api/v1/audit?from=2030-01-01", headers=auth(world.admin)).json()
    assert empty["items"] == []
    today = client.get("/api/v1/audit?from=2026-12-01&to=2026-12-01", headers=auth(world.admin)).json()
    assert len(today["items"]) >= 3


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ("from=yesterday", "from"),
        ("to=2026-13-01", "to"),
        ("actor=someone", "actor"),
        ("cursor=garbage", "cursor"),
    ],
)
def test_bad_filters_are_a_422_naming_the_parameter(
    client: TestClient, world: World, query: str, path: str
) -> None:
    response = client.get(f"/api/v1/audit?{query}", headers=auth(world.admin))
    assert response.status_code == 422
    assert path in [e["path"] for e in response.json()["errors"]]


def test_only_auditors_and_admins_read_it_and_an_auditor_of_one_office_reads_only_that_office(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    other = create_office(client, world.admin)["code"]
    create_key(runtime, "planner", [other])
    world.release()
    assert client.get("/api/v1/audit", headers=auth(world.planner)).status_code == 403
    assert client.get("/api/v1/audit/verify", headers=auth(world.desk)).status_code == 403
    assert client.get("/api/v1/audit").status_code == 401
    everywhere = create_key(runtime, "auditor")
    scoped = create_key(runtime, "auditor", [world.office])
    all_rows = client.get("/api/v1/audit", headers=auth(everywhere)).json()["items"]
    assert any(i["office"] is None for i in all_rows)
    mine = client.get("/api/v1/audit", headers=auth(scoped)).json()["items"]
    assert mine and {i["office"] for i in mine} == {world.office}
    outside = client.get(f"/api/v1/audit?office={other}", headers=auth(scoped))
    assert outside.status_code == 403


def test_verify_says_whether_the_chain_holds_and_where_it_first_breaks(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    world.release()
    good = client.get("/api/v1/audit/verify", headers=auth(world.admin)).json()
    assert good["valid"] is True and good["rows"] > 0 and good["first_broken"] is None
    with runtime.engine.begin() as conn:
        target = conn.execute(
            text("SELECT id FROM audit_event WHERE action = 'release.created'")
        ).scalar_one()
        conn.execute(text("UPDATE audit_event SET actor_name = 'someone else' WHERE id = :i"), {"i": target})
    bad = client.get("/api/v1/audit/verify", headers=auth(create_key(runtime, "auditor"))).json()
    assert bad["valid"] is False
    assert bad["first_broken"] == target


def test_rows_written_before_accounts_still_verify(
    client: TestClient, world: World, runtime: Runtime
) -> None:
    """A row of the old shape (no via, no structured actor) hashes as it always did."""
    from datetime import UTC, datetime

    with runtime.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_event (occurred_at, action, subject, actor, details) VALUES (:at, 'old.event', 'x:1', 'staff:1', '{}')"
            ),
            {"at": datetime(2026, 11, 1, tzinfo=UTC)},
        )
    world.release()
    verdict = client.get("/api/v1/audit/verify", headers=auth(world.admin)).json()
    assert verdict["valid"] is True
    old = client.get("/api/v1/audit?action=old.event", headers=auth(world.admin)).json()["items"][0]
    assert old["actor"] == {"account_id": None, "display_name": "staff:1", "key_id": 1, "via": None}


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_audit_page_filters_and_exports_csv_for_an_auditor_account(
    client: TestClient, world: World, runtime: Runtime, lang: str
) -> None:
    world.release()
    auditor = person(
        client,
        runtime,
        world.admin,
        "auditor@example.org",
        [{"role": "auditor", "offices": [world.office]}],
        name="=cmd|evil",
    )
    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        signed_in(browser, runtime, auditor)
        page = browser.get(f"/staff/audit?lang={lang}&action=release.created")
        assert page.status_code == 200
        assert "release.created" in page.text
        bad = browser.get(f"/staff/audit?lang={lang}&from=soon")
        assert bad.status_code == 422
        assert 'value="soon"' in bad.text
        other = create_office(client, world.admin)["code"]
        assert browser.get(f"/staff/audit?lang={lang}&office={other}").status_code == 403
        csv = browser.get("/staff/audit.csv")
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        lines = csv.text.splitlines()
        assert lines[0] == "id,at,account_id,display_name,key_id,via,action,office,subject,details"
        assert any(",release.created," in line for line in lines)
        assert all(",staff_account.created," not in line for line in lines)  # no office: not this auditor's
    with TestClient(create_app(runtime), raise_server_exceptions=False) as admin_browser:
        admin = person(
            admin_browser, runtime, world.admin, "admin@example.org", [{"role": "admin", "offices": []}]
        )
        signed_in(admin_browser, runtime, admin)
        export = admin_browser.get("/staff/audit.csv?action=staff.signed_in").text
        assert "'=cmd|evil" in export  # a name a spreadsheet would run is neutralised


def test_a_planner_cannot_open_the_audit_page(client: TestClient, world: World, runtime: Runtime) -> None:
    planner = person(
        client, runtime, world.admin, "p@example.org", [{"role": "planner", "offices": [world.office]}]
    )
    with TestClient(create_app(runtime), raise_server_exceptions=False) as browser:
        signed_in(browser, runtime, planner)
        assert browser.get("/staff/audit?lang=en").status_code == 403
        assert browser.get("/staff/audit.csv").status_code == 403
