"""One person, one chance: a second document of the same person is a duplicate; an agent can file a homonym."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent
from app.domain.identity import person_key
from app.services.intake import verification
from tests.assertions import assert_problem
from tests.factories import World, auth, create_key, create_office, request_body


def person(
    document: str, family: str = "Ben Salah", given: str = "Youssef", born: str = "1979-01-01"
) -> dict:
    return {
        "document_type": "passport",
        "document_number": document,
        "family_name": family,
        "given_names": given,
        "birth_date": born,
    }


def submit(world: World, identity: dict, headers: dict | None = None, **extra):
    body = request_body(world.service, [world.office], identity=identity, **extra)
    return world.client.post("/api/v1/requests", json=body, headers=headers or {})


def test_the_same_person_with_a_second_document_is_a_409_duplicate_person_that_tells_a_homonym_what_to_do(
    client, runtime
):
    world = World(client, runtime)
    assert submit(world, person("PASSPORT1")).status_code == 201

    response = submit(world, person("PERMIT22", family=" BEN  SALAH ", given="Yóussef"))

    problem = assert_problem(response, 409, "duplicate_person")
    assert "counter" in problem["detail"] and "agent" in problem["detail"]
    assert "PERMIT22" not in problem["detail"]
    with session_scope(runtime.engine) as session:
        assert len(session.exec(select(AppointmentRequest)).all()) == 1


def test_the_same_document_again_is_still_a_duplicate_request(client, runtime):
    world = World(client, runtime)
    assert submit(world, person("PASSPORT1")).status_code == 201
    assert_problem(submit(world, person("PASSPORT1")), 409, "duplicate_request")


def test_the_person_key_is_a_keyed_digest_of_the_normalised_names_and_birth_date(client, runtime):
    world = World(client, runtime)
    assert submit(world, person("PASSPORT1", family="Bén  SALAH")).status_code == 201
    with session_scope(runtime.engine) as session:
        stored = session.exec(select(AppointmentRequest)).one()

    assert stored.person_key == person_key(runtime.pepper, "ben salah", "youssef", date(1979, 1, 1))
    assert stored.active_person_key == stored.person_key
    assert person_key(b"another pepper", "ben salah", "youssef", date(1979, 1, 1)) != stored.person_key


def test_a_closed_request_frees_the_person_for_another_document(client, runtime):
    world = World(client, runtime)
    first = submit(world, person("PASSPORT1")).json()
    cancelled = client.post(f"/api/v1/requests/{first['id']}/cancel", headers=auth(first["access_code"]))
    assert cancelled.status_code == 200

    assert submit(world, person("PERMIT22")).status_code == 201


def test_an_agent_of_the_office_files_a_homonym_with_distinct_person_and_it_is_audit_logged(client, runtime):
    world = World(client, runtime)
    agent = create_key(runtime, "agent", [world.office])
    assert submit(world, person("PASSPORT1")).status_code == 201

    response = submit(world, person("HOMONYM9"), headers=auth(agent), distinct_person=True)

    assert response.status_code == 201, response.text
    with session_scope(runtime.engine) as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "request.submitted")).all()
        homonym = session.exec(
            select(AppointmentRequest).where(AppointmentRequest.id == response.json()["id"])
        ).one()
    filed = [e for e in events if e.subject == f"request:{homonym.id}"]
    assert filed[0].actor.startswith("staff:")
    assert filed[0].details["distinct_person"] is True
    assert homonym.active_person_key is None


@pytest.mark.parametrize("who", ["anonymous", "partner"])
def test_distinct_person_from_anyone_but_an_agent_of_the_office_is_ignored(client, runtime, who):
    world = World(client, runtime)
    keys = {"anonymous": None, "partner": create_key(runtime, "partner", [world.office])}
    assert submit(world, person("PASSPORT1")).status_code == 201

    key = keys[who]
    response = submit(world, person("SECOND22"), headers=auth(key) if key else None, distinct_person=True)

    assert_problem(response, 409, "duplicate_person")


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("desk", 403, "forbidden"),
        ("agent-of-another-office", 422, "office_not_served"),
        ("bad-key", 401, "unauthorized"),
    ],
)
def test_a_staff_key_that_may_not_file_here_gets_a_clear_problem_whatever_distinct_person_says(
    client, runtime, who, status, code
):
    """A staff key's request is filed through its channel (``app.services.channels.filing``): a key that may not
    file for this office is refused outright, so ``distinct_person`` never reaches the person check."""
    world = World(client, runtime)
    elsewhere = create_office(client, world.admin)["code"]
    keys = {
        "desk": world.desk,
        "agent-of-another-office": create_key(runtime, "agent", [elsewhere]),
        "bad-key": "fsk_not-a-real-key",
    }
    assert submit(world, person("PASSPORT1")).status_code == 201

    response = submit(world, person("SECOND22"), headers=auth(keys[who]), distinct_person=True)

    assert_problem(response, status, code)


def test_a_request_older_than_entry_verification_counts_as_verified():
    assert verification.is_verified({"id": "x"}) is True
    assert verification.is_verified({"id": "x", "verification_status": "unverified"}) is False


@pytest.mark.parametrize(
    ("family", "given", "status", "field"),
    [
        ("Ben Sa\u00adlah", "Youssef", 422, "identity.family_name"),  # soft hyphen
        ("Ben Sa\u200dlah", "Youssef", 422, "identity.family_name"),  # zero-width joiner
        ("Ben Salah", "You\u2060ssef", 422, "identity.given_names"),  # word joiner
        ("\ufeffBen Salah", "Youssef", 422, "identity.family_name"),  # byte order mark
        ("Ben Sal\u034fah", "Youssef", 422, "identity.family_name"),  # combining grapheme joiner
        ("Ben Salah\u3164", "Youssef", 422, "identity.family_name"),  # Hangul filler
        ("Ben S\u0430lah", "Youssef", 409, None),  # a Cyrillic small a
        ("BEN SALAH", "Youssef", 409, None),  # plain: the control case
        ("\u0392EN S\u0391LAH", "Youssef", 409, None),  # Greek capitals beta and alpha
    ],
)
def test_invisible_characters_are_refused_and_look_alike_letters_are_the_same_person(
    client, runtime, family, given, status, field
):
    world = World(client, runtime)
    assert submit(world, person("PASSPORT1")).status_code == 201

    response = submit(world, person("PERMIT22", family=family, given=given))

    if status == 422:
        problem = assert_problem(response, 422, "validation_error")
        assert [e["path"] for e in problem["errors"]] == [field]
        assert "invisible" in problem["errors"][0]["message"]
    else:
        assert_problem(response, 409, "duplicate_person")
    with session_scope(runtime.engine) as session:
        assert len(session.exec(select(AppointmentRequest)).all()) == 1


def test_the_person_key_folds_look_alike_letters_to_their_latin_prototype(client, runtime):
    assert person_key(runtime.pepper, "Di\u0430llo", "A\u00efcha", date(1990, 4, 12)) == person_key(
        runtime.pepper, "Diallo", "Aïcha", date(1990, 4, 12)
    )
    assert person_key(runtime.pepper, "Diallo", "Aïcha", date(1990, 4, 12)) != person_key(
        runtime.pepper, "Diallo", "Aminata", date(1990, 4, 12)
    )
