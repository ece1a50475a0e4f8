"""Intake parses the phone number: stored in E.164 (overseas departments included), or a clear 422."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest
from tests.assertions import assert_problem
from tests.factories import World, request_body


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("06 12 34 56 78", "+33612345678"),
        ("0269 60 12 34", "+262269601234"),
        ("0692 12 34 56", "+262692123456"),
    ],
)
def test_intake_stores_the_phone_number_in_e164(client, runtime, typed, stored):
    world = World(client, runtime)
    created = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], contact={"phone": typed})
    )
    assert created.status_code == 201, created.text
    with session_scope(runtime.engine) as session:
        row = session.exec(
            select(AppointmentRequest).where(AppointmentRequest.id == created.json()["id"])
        ).one()
        assert row[0].phone == stored


def test_an_impossible_phone_number_is_a_422_naming_contact_phone_and_stores_nothing(client, runtime):
    world = World(client, runtime)
    answer = client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], contact={"phone": "06 12 34"})
    )
    assert_problem(answer, 422, "validation_error")
    assert [e["path"] for e in answer.json()["errors"]] == ["contact.phone"]
    assert "valid phone number" in answer.json()["errors"][0]["message"]
    with session_scope(runtime.engine) as session:
        assert session.execute(select(func.count()).select_from(AppointmentRequest)).scalar_one() == 0
