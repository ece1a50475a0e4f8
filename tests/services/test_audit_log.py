"""The audit log: every state change writes a hash-chained row, and any edit or removal is found."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from app.db.engine import session_scope
from app.db.models import AuditEvent
from app.services import audit, scheduler
from tests.conftest import TEST_SECRET
from tests.factories import World, auth, named_for, request_body


def _verify(runtime):
    with session_scope(runtime.engine) as session:
        return audit.verify(session)


def _actions(runtime) -> list[str]:
    with runtime.engine.connect() as conn:
        return list(conn.execute(text("SELECT action FROM audit_event ORDER BY id")).scalars())


def _scalar(runtime, sql: str, **params):
    with runtime.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _execute(runtime, sql: str, **params) -> None:
    with runtime.engine.begin() as conn:
        conn.execute(text(sql), params)


def _applicant(world: World, document: str) -> dict:
    body = request_body(
        world.service,
        [world.office],
        identity={
            "document_type": "passport",
            "document_number": document,
            "family_name": named_for("Kowalska", document),
            "given_names": "Zofia",
            "birth_date": "1992-09-09",
        },
        contact={"email": f"{document.replace(' ', '').lower()}@mail.example"},
    )
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def _post(client, applicant, action: str):
    response = client.post(
        f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _events(runtime) -> list[tuple[str, str]]:
    with runtime.engine.connect() as conn:
        return [
            tuple(row) for row in conn.execute(text("SELECT action, subject FROM audit_event ORDER BY id"))
        ]


def test_every_state_change_writes_one_chained_row_and_the_chain_verifies(client, runtime, clock):
    world = World(client, runtime)
    created = client.post(
        "/api/v1/staff-keys",
        json={"role": "auditor", "offices": [], "label": "temp"},
        headers=auth(world.admin),
    )
    assert created.status_code == 201, created.text
    key_id = created.json()["id"]
    revoked = client.delete(f"/api/v1/staff-keys/{key_id}", headers=auth(world.admin))
    assert revoked.status_code == 204
    documents = ["ATTEND01", "DECLINE2", "EXPIRE03", "CANCEL04", "NOSHOW05"]
    people = dict(zip(documents, (_applicant(world, d) for d in documents), strict=True))
    release = world.release(slots=5, offer_ttl_hours=24)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    assert _scalar(runtime, "SELECT count(*) FROM offer WHERE status = 'open'") == 5
    attended = _post(client, people["ATTEND01"], "accept")["booking"]
    _post(client, people["DECLINE2"], "decline")
    _post(client, people["CANCEL04"], "accept")
    _post(client, people["CANCEL04"], "cancel")
    missed = _post(client, people["NOSHOW05"], "accept")["booking"]
    withdrawn = _applicant(world, "WITHDRAW6")
    _post(client, withdrawn, "cancel")
    clock.advance(timedelta(hours=24))
    scheduler.tick(runtime)
    checked = client.post(
        "/api/v1/check-ins",
        json={"token": attended["token"], "document_number": "attend01", "birth_date": "1992-09-09"},
        headers=auth(world.desk),
    )
    assert checked.status_code == 200, checked.text
    clock.set(datetime.fromisoformat(missed["ends_at"]) + timedelta(hours=1))
    scheduler.tick(runtime)

    events = Counter(_events(runtime))

    def request(document: str) -> str:
        return f"request:{(people.get(document) or withdrawn)['id']}"

    expected = [
        ("staff_key.created", f"staff_key:{key_id}"),
        ("staff_key.revoked", f"staff_key:{key_id}"),
        *[("request.submitted", request(d)) for d in [*documents, "WITHDRAW6"]],
        ("release.created", f"release:{release['id']}"),
        ("draw.completed", f"release:{release['id']}"),
        *[("offer.made", request(d)) for d in documents],
        *[("offer.accepted", request(d)) for d in ("ATTEND01", "CANCEL04", "NOSHOW05")],
        ("offer.declined", request("DECLINE2")),
        ("offer.expired", request("EXPIRE03")),
        ("booking.cancelled", request("CANCEL04")),
        ("request.withdrawn", request("WITHDRAW6")),
        ("booking.checked_in", f"booking:{attended['id']}"),
        ("booking.no_show", f"booking:{missed['id']}"),
    ]
    for event in expected:
        assert events[event] >= 1, (event, sorted(events))
    for event in expected:
        if event[0] not in ("offer.made",):  # a declined or expired request may be offered again
            assert events[event] == 1, event
    assert sum(1 for action, _subject in events.elements() if action == "slot.returned") >= 3
    count, problems = _verify(runtime)
    assert problems == []
    assert count == sum(events.values())
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT prev_hash, hash FROM audit_event ORDER BY id")).all()
    assert rows[0][0] == audit.GENESIS
    assert all(rows[i][0] == rows[i - 1][1] for i in range(1, len(rows)))


def test_the_audit_log_holds_no_personal_data(client, runtime, clock):
    world = World(client, runtime)
    applicant = _applicant(world, "PRIV 7788")
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    _post(client, applicant, "accept")
    with runtime.engine.connect() as conn:
        dump = " ".join(
            str(row) for row in conn.execute(text("SELECT subject, actor, details FROM audit_event")).all()
        )
    for secret in ("Kowalska", "Zofia", "PRIV 7788", "PRIV7788", "priv7788", "mail.example", "1992-09-09"):
        assert secret not in dump
    assert applicant["id"] in dump


def test_a_refused_change_writes_no_audit_row(client, runtime):
    world = World(client, runtime)
    applicant = world.applicant()
    before = _actions(runtime)
    refused = client.post(
        f"/api/v1/requests/{applicant['id']}/accept", headers=auth(applicant["access_code"])
    )
    assert refused.status_code == 409
    duplicate = client.post("/api/v1/requests", json=request_body(world.service, [world.office], n=4242))
    assert duplicate.status_code == 201
    again = client.post("/api/v1/requests", json=request_body(world.service, [world.office], n=4242))
    assert again.status_code == 409
    assert _actions(runtime) == [*before, "request.submitted"]
    assert _verify(runtime)[1] == []


def _small_chain(client, runtime, clock) -> list[int]:
    world = World(client, runtime)
    for _ in range(4):
        world.applicant()
    world.release(slots=2)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    count, problems = _verify(runtime)
    assert problems == []
    assert count >= 10
    with runtime.engine.connect() as conn:
        return list(conn.execute(text("SELECT id FROM audit_event ORDER BY id")).scalars())


def test_editing_a_rows_details_in_sql_is_detected(client, runtime, clock):
    ids = _small_chain(client, runtime, clock)
    middle = ids[len(ids) // 2]
    _execute(runtime, """UPDATE audit_event SET details = '{"forged": true}' WHERE id = :id""", id=middle)
    _count, problems = _verify(runtime)
    assert [(p.event_id, "content" in p.problem) for p in problems] == [(middle, True)]


def test_editing_a_rows_action_or_actor_in_sql_is_detected(client, runtime, clock):
    ids = _small_chain(client, runtime, clock)
    _execute(runtime, "UPDATE audit_event SET actor = 'someone-else' WHERE id = :id", id=ids[3])
    _execute(runtime, "UPDATE audit_event SET action = 'offer.declined' WHERE id = :id", id=ids[-1])
    _count, problems = _verify(runtime)
    assert {p.event_id for p in problems} == {ids[3], ids[-1]}


def test_deleting_a_middle_row_is_detected(client, runtime, clock):
    ids = _small_chain(client, runtime, clock)
    middle = ids[len(ids) // 2]
    _execute(runtime, "DELETE FROM audit_event WHERE id = :id", id=middle)
    count, problems = _verify(runtime)
    assert count == len(ids) - 1
    following = ids[ids.index(middle) + 1]
    assert [(p.event_id, "link" in p.problem) for p in problems] == [(following, True)]


def test_changing_a_hash_is_detected(client, runtime, clock):
    ids = _small_chain(client, runtime, clock)
    target = ids[2]
    _execute(runtime, "UPDATE audit_event SET hash = :h WHERE id = :id", h="f" * 64, id=target)
    _count, problems = _verify(runtime)
    assert {p.event_id for p in problems} == {target, ids[3]}


def test_rewriting_a_row_and_its_hash_consistently_still_breaks_the_next_link(client, runtime, clock):
    ids = _small_chain(client, runtime, clock)
    target = ids[2]
    with session_scope(runtime.engine) as session:
        event = session.get(AuditEvent, target)
        assert event is not None
        forged = audit.event_hash(
            event.prev_hash,
            event.occurred_at,
            event.action,
            event.subject,
            "x",
            {},
            audit.who_of(event),
            event.office,
        )
    _execute(
        runtime,
        "UPDATE audit_event SET actor = 'x', details = '{}', hash = :h WHERE id = :id",
        h=forged,
        id=target,
    )
    _count, problems = _verify(runtime)
    assert [p.event_id for p in problems] == [ids[3]]


def _cli_audit_verify(runtime) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "FAIRSLOT_DATABASE_URL": runtime.settings.database_url,
        "FAIRSLOT_SECRET_KEY": TEST_SECRET,
        "FAIRSLOT_ENV": "test",
    }
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("tamper", ["edit", "delete"])
def test_fairslot_audit_verify_exits_0_on_an_intact_chain_and_1_on_a_tampered_one(
    client, runtime, clock, tamper
):
    ids = _small_chain(client, runtime, clock)
    intact = _cli_audit_verify(runtime)
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("OK")
    assert str(len(ids)) in intact.stdout

    if tamper == "edit":
        _execute(runtime, "UPDATE audit_event SET subject = 'request:someone' WHERE id = :id", id=ids[4])
    else:
        _execute(runtime, "DELETE FROM audit_event WHERE id = :id", id=ids[4])
    broken = _cli_audit_verify(runtime)

    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert broken.stdout.startswith("FAILED")
    assert f"event {ids[4] if tamper == 'edit' else ids[5]}:" in broken.stdout
