"""The ``fairslot`` command line, run as a real process against the test databases."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from app.services.bookings import token_keys
from tests.conftest import TEST_SECRET
from tests.factories import World, auth, create_key, create_office


def _fairslot(database_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_admin_create_key_prints_the_key_alone_and_the_key_works(client, runtime, tmp_path):
    admin = create_key(runtime, "admin")
    office = create_office(client, admin, code="lyon-3")["code"]

    result = _fairslot(
        runtime.settings.database_url,
        "admin",
        "create-key",
        "--role",
        "planner",
        "--office",
        office,
        "--label",
        "night shift",
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    key = lines[0]
    assert key.startswith("fsk_")
    assert key == key.strip()
    assert len(key) > 30
    service = client.post(
        "/api/v1/services",
        json={"code": "renewal", "name": "Renewal", "slot_minutes": 20},
        headers=auth(admin),
    ).json()["code"]
    release = {
        "office": office,
        "service": service,
        "draw_at": "2026-12-02T09:00:00+00:00",
        "slots": [{"starts_at": "2026-12-03T09:00:00+00:00"}],
    }
    allowed = client.post("/api/v1/releases", json=release, headers=auth(key))
    assert allowed.status_code == 201, allowed.text
    elsewhere = create_office(client, admin)["code"]
    denied = client.post("/api/v1/releases", json={**release, "office": elsewhere}, headers=auth(key))
    assert denied.status_code == 403


def test_admin_create_key_refuses_a_bad_role_or_office_and_prints_no_key(runtime, tmp_path):
    for args in (
        ["--role", "janitor"],
        ["--role", "desk"],  # a desk key needs an office
        ["--role", "desk", "--office", "nowhere"],
    ):
        result = _fairslot(runtime.settings.database_url, "admin", "create-key", *args, cwd=tmp_path)
        assert result.returncode != 0, args
        assert "fsk_" not in result.stdout


def test_db_upgrade_builds_a_fresh_sqlite_file_and_is_idempotent(tmp_path):
    path = tmp_path / "fresh.db"
    url = f"sqlite:///{path}"

    first = _fairslot(url, "db", "upgrade", cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert path.exists()
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        versions = conn.execute("SELECT version_num FROM alembic_version").fetchall()
    expected = {"office", "service", "release", "slot", "appointment_request", "offer", "booking"}
    assert expected | {"audit_event", "outbox_message", "token_key", "no_show"} <= tables
    assert len(versions) == 1
    second = _fairslot(url, "db", "upgrade", cwd=tmp_path)
    assert second.returncode == 0, second.stderr


def _published_record(client, runtime, clock) -> dict:
    world = World(client, runtime)
    for _ in range(7):
        world.applicant()
    world.applicant(permit_expires_on="2026-12-20", availability={"weekdays": [4, 5]})
    release = world.release(slots=3, desks=2)
    clock.advance(timedelta(hours=1))
    drawn = client.post(
        f"/api/v1/releases/{release['id']}/draw", json={"beacon": "drand-1234"}, headers=auth(world.planner)
    )
    assert drawn.status_code == 200, drawn.text
    return client.get(f"/api/v1/draws/{drawn.json()['draw_id']}").json()


def test_verify_draw_exits_0_on_a_genuine_record(client, runtime, clock, tmp_path):
    record = _published_record(client, runtime, clock)
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record), encoding="utf-8")

    result = _fairslot(runtime.settings.database_url, "verify-draw", str(path), cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    assert len(result.stdout.splitlines()) == 1


def test_verify_draw_exits_1_with_the_differences_on_a_tampered_record(client, runtime, clock, tmp_path):
    record = _published_record(client, runtime, clock)
    winner = next(e for e in record["entries"] if e["outcome"] == "offered")
    loser = next(e for e in record["entries"] if e["outcome"] != "offered")
    # Hand the winner's slot to a loser (swapping names instead would move the weights along, which can
    # be a consistent record by chance).
    winner["outcome"], loser["outcome"] = loser["outcome"], winner["outcome"]
    winner["slot"], loser["slot"] = loser["slot"], winner["slot"]
    path = tmp_path / "draw.json"
    path.write_text(json.dumps(record), encoding="utf-8")

    result = _fairslot(runtime.settings.database_url, "verify-draw", str(path), cwd=tmp_path)

    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) >= 2
    assert winner["entry"] in result.stdout or loser["entry"] in result.stdout


def test_verify_draw_exits_1_on_an_unreadable_file(runtime, tmp_path):
    missing = _fairslot(
        runtime.settings.database_url, "verify-draw", str(tmp_path / "nope.json"), cwd=tmp_path
    )
    assert missing.returncode == 1
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    bad = _fairslot(runtime.settings.database_url, "verify-draw", str(tmp_path / "bad.json"), cwd=tmp_path)
    assert bad.returncode == 1


def test_keys_rotate_prints_the_new_kid_and_the_jwks_publishes_both(client, runtime, clock, tmp_path):
    token_keys.clear_cache()
    first = client.get("/api/v1/token-keys").json()
    assert [k["kid"] for k in first["keys"]] == ["k1"]

    result = _fairslot(runtime.settings.database_url, "keys", "rotate", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    kid = result.stdout.strip()
    assert kid and kid != "k1"
    token_keys.clear_cache()
    assert {k["kid"] for k in client.get("/api/v1/token-keys").json()["keys"]} == {"k1", kid}
    token_keys.clear_cache()
