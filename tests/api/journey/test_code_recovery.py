"""A lost access code recovered alone: a code by SMS to the verified phone, then a new access code; a
stranger learns nothing, and no flood pumps texts."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import func, select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.services.messages import outbox
from tests.assertions import assert_problem
from tests.factories import auth
from tests.verified import phone_world, sealed_code, texting, verify

BORN = "1990-04-12"
START = "/api/v1/access-code-recoveries"
CONFIRM = "/api/v1/access-code-recoveries/confirm"


def _codes_sent(runtime, request_id: str) -> int:
    with session_scope(runtime.engine) as session:
        return session.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.request_id == request_id, OutboxMessage.kind == outbox.CODE_KIND)
        ).one()


def _verified(client, runtime):
    world = phone_world(client, runtime)
    person = texting(world)
    verify(world, person)
    return world, person


def test_the_holder_gets_a_new_code_and_the_old_one_stops_with_its_kept_answers(client, runtime, clock):
    _world, person = _verified(client, runtime)
    old = auth(person["access_code"])
    kept = client.post(f"/api/v1/requests/{person['id']}/accept", headers={**old, "Idempotency-Key": "k1"})
    assert_problem(kept, 409, "no_offer")
    clock.advance(timedelta(minutes=2))

    started = client.post(START, json={"entry": person["entry"].lower(), "birth_date": BORN})
    assert started.status_code == 202
    code = sealed_code(runtime, person["id"])
    recovered = client.post(CONFIRM, json={"entry": person["entry"], "birth_date": BORN, "code": code})

    assert recovered.status_code == 200, recovered.text
    body = recovered.json()
    assert body["request_id"] == person["id"] and body["access_code"] != person["access_code"]
    assert client.get(f"/api/v1/requests/{person['id']}", headers=old).status_code == 404
    replay = client.post(f"/api/v1/requests/{person['id']}/accept", headers={**old, "Idempotency-Key": "k1"})
    assert replay.status_code == 404  # the kept 409 is not replayed to a code that stopped working
    assert (
        client.get(f"/api/v1/requests/{person['id']}", headers=auth(body["access_code"])).status_code == 200
    )
    again = client.post(CONFIRM, json={"entry": person["entry"], "birth_date": BORN, "code": code})
    assert_problem(again, 409, "code_expired")  # used once


def test_a_stranger_learns_nothing_and_no_text_leaves(client, runtime, clock):
    world, person = _verified(client, runtime)
    unverified = texting(world, n=7)
    sent_before = _codes_sent(runtime, person["id"]) + _codes_sent(runtime, unverified["id"])
    tries = [
        {"entry": person["entry"], "birth_date": "1991-04-12"},  # a wrong birth date
        {"entry": "FS-AAAAA-AAAAA", "birth_date": BORN},  # an unknown entry
        {"entry": unverified["entry"], "birth_date": BORN},  # a phone never verified
    ]
    answers = [client.post(START, json=body) for body in tries]

    assert {(a.status_code, a.text) for a in answers} == {(202, answers[0].text)}
    assert _codes_sent(runtime, person["id"]) + _codes_sent(runtime, unverified["id"]) == sent_before
    for body in tries:  # the confirmation answers a stranger as it would the holder with a wrong code
        wrong = client.post(CONFIRM, json={**body, "code": "123456"})
        assert_problem(wrong, 422, "code_invalid")
        assert wrong.json()["tries_left"] == 4
    assert_problem(
        client.post(CONFIRM, json={"entry": "FS-BBBBB-BBBBB", "birth_date": BORN, "code": "123456"}),
        409,
        "code_expired",
    )


def test_six_wrong_codes_lock_the_recovery(client, runtime, clock):
    _world, person = _verified(client, runtime)
    clock.advance(timedelta(minutes=2))
    assert client.post(START, json={"entry": person["entry"], "birth_date": BORN}).status_code == 202
    right = sealed_code(runtime, person["id"])
    wrong = "000000" if right != "000000" else "111111"
    body = {"entry": person["entry"], "birth_date": BORN}

    left = [client.post(CONFIRM, json={**body, "code": wrong}).json()["tries_left"] for _ in range(5)]

    assert left == [4, 3, 2, 1, 0]
    assert_problem(client.post(CONFIRM, json={**body, "code": wrong}), 429, "code_locked")
    assert_problem(client.post(CONFIRM, json={**body, "code": right}), 429, "code_locked")


def test_a_flood_of_recoveries_for_one_entry_sends_five_codes_a_day_at_most(client, runtime, clock):
    _world, person = _verified(client, runtime)
    before = _codes_sent(runtime, person["id"])
    for n in range(12):
        clock.advance(timedelta(minutes=2))
        headers = {"X-Forwarded-For": f"203.0.113.{n}"}
        answer = client.post(START, json={"entry": person["entry"], "birth_date": BORN}, headers=headers)
        assert answer.status_code == 202
        assert client.post(START, json={"entry": person["entry"], "birth_date": BORN}).status_code == 202

    assert _codes_sent(runtime, person["id"]) - before <= 5


def test_recoveries_of_several_entries_on_one_number_stay_within_its_ten_codes_a_day(client, runtime, clock):
    world = phone_world(client, runtime)
    people = [texting(world, n=n) for n in range(3)]  # one number verifies three requests
    for person in people:
        verify(world, person)
    for _ in range(6):
        clock.advance(timedelta(minutes=2))
        for person in people:
            assert client.post(START, json={"entry": person["entry"], "birth_date": BORN}).status_code == 202

    assert sum(_codes_sent(runtime, p["id"]) for p in people) == 10  # the number's budget, codes included
