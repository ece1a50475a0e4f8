"""Verification racing a withdrawal, a draw, another verification of the same number or of the same person:
real parallel connections on PostgreSQL. Each race ends in one consistent state, with clear answers."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, DrawEntry
from app.main import create_app
from tests.factories import auth, request_body
from tests.verified import ask_code, phone_world, request_row, sealed_code, texting

pytestmark = pytest.mark.postgres_only


def _race(runtime, *calls: Callable[[TestClient], Any]) -> list[Any]:
    """Run each call on its own client (its own connection) at once; their responses."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[TestClient], Any]) -> None:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as own:
            barrier.wait()
            results[i] = call(own)

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def _verify_call(applicant: dict, code: str) -> Callable[[TestClient], Any]:
    return lambda c: c.post(
        f"/api/v1/requests/{applicant['id']}/phone-verification",
        json={"code": code},
        headers=auth(applicant["access_code"]),
    )


def test_verification_racing_a_withdrawal_ends_in_one_state(client, runtime):
    world = phone_world(client, runtime)
    for _ in range(4):
        applicant = texting(world, phone=f"+3361111{_:04d}")
        ask_code(world, applicant)
        code = sealed_code(runtime, applicant["id"])
        verified, cancelled = _race(
            runtime,
            _verify_call(applicant, code),
            lambda c, a=applicant: c.post(
                f"/api/v1/requests/{a['id']}/cancel", headers=auth(a["access_code"])
            ),
        )
        assert cancelled.status_code == 200, cancelled.text
        assert verified.status_code in (200, 409), verified.text
        row = request_row(runtime, applicant["id"])
        assert row.status == "withdrawn" and row.active_identity_key is None and row.active_person_key is None
        if verified.status_code == 409:
            assert verified.json()["code"] == "request_closed"
            assert row.verification_status == "unverified"
        else:
            assert row.verification_status == "verified"


def test_verification_racing_a_draw_is_either_an_entry_or_verified_after(client, runtime, clock):
    world = phone_world(client, runtime)
    for attempt in range(3):
        applicant = texting(world, phone=f"+3361234{attempt:04d}")
        release = world.release(slots=1, draw_in=timedelta(minutes=1))
        clock.advance(timedelta(minutes=1))
        ask_code(world, applicant)
        code = sealed_code(runtime, applicant["id"])
        verified, drawn = _race(
            runtime,
            _verify_call(applicant, code),
            lambda c, r=release: c.post(f"/api/v1/releases/{r['id']}/draw", headers=auth(world.planner)),
        )
        assert drawn.status_code == 200, drawn.text
        assert verified.status_code == 200, verified.text
        seq = request_row(runtime, applicant["id"]).seq
        with session_scope(runtime.engine) as session:
            entries = session.exec(
                select(DrawEntry).where(DrawEntry.draw_id == drawn.json()["draw_id"])
            ).all()
        ours = [e for e in entries if e.request_seq == seq]
        # Only verified requests ever enter; whether this one did depends on who took the lock first.
        assert len(ours) <= 1
        assert all(request_row(runtime, r).verification_status == "verified" for r in [applicant["id"]])
        for entry in entries:
            with session_scope(runtime.engine) as session:
                row = session.exec(
                    select(AppointmentRequest).where(AppointmentRequest.seq == entry.request_seq)
                ).one()
                assert row.verification_status == "verified"
        clock.advance(timedelta(minutes=2))


def test_two_requests_of_one_number_racing_for_its_last_place(client, runtime):
    world = phone_world(client, runtime, max_requests_per_phone=1)
    first, second = texting(world), texting(world)
    for applicant in (first, second):
        ask_code(world, applicant)
    results = _race(
        runtime,
        _verify_call(first, sealed_code(runtime, first["id"])),
        _verify_call(second, sealed_code(runtime, second["id"])),
    )
    assert sorted(r.status_code for r in results) == [200, 409]
    assert next(r for r in results if r.status_code == 409).json()["code"] == "phone_in_use"
    statuses = sorted(request_row(runtime, a["id"]).verification_status for a in (first, second))
    assert statuses == ["unverified", "verified"]


def test_two_documents_of_one_person_racing_the_first_verified_wins(client, runtime):
    world = phone_world(client, runtime)
    made = []
    for document, phone in (("RACEPASS01", "+33611110001"), ("RACEPERM01", "+33611110002")):
        body = request_body(world.service, [world.office], 0, contact={"phone": phone})
        body["identity"]["document_number"] = document
        response = world.client.post("/api/v1/requests", json=body)
        assert response.status_code == 201, response.text
        made.append(response.json())
    for applicant in made:
        ask_code(world, applicant)
    results = _race(runtime, *(_verify_call(a, sealed_code(runtime, a["id"])) for a in made))
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    assert {r.json().get("code") for r in results if r.status_code == 409} <= {
        "request_closed",
        "duplicate_person",
    }
    rows = [request_row(runtime, a["id"]) for a in made]
    assert sorted(r.status for r in rows) == ["lapsed", "pending"]
    assert sum(r.active_person_key is not None for r in rows) == 1
