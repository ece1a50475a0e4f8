"""Person keys written before look-alike letters were folded are derived again once, from the key itself:
names whose folding changed get the new key (and so do their sanctions); an earlier verified request of the
same person keeps the key; the others are left as they are."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta

from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, AuditEvent, ClaimSanction, PersonRekey
from app.domain.identity import person_key
from app.services.intake import person_keys
from app.services.unit_of_work import unit_of_work
from tests.conftest import TEST_SECRET
from tests.factories import World, request_body

BORN = date(1990, 4, 12)
CYRILLIC_A = "\u0430"


def _file(world: World, document: str, family: str) -> dict:
    identity = {
        "document_type": "passport",
        "document_number": document,
        "family_name": family,
        "given_names": "Aïcha",
        "birth_date": BORN.isoformat(),
    }
    response = world.client.post(
        "/api/v1/requests", json=request_body(world.service, [world.office], identity=identity)
    )
    assert response.status_code == 201, response.text
    return response.json()


def _as_written_before(runtime, request_id: str) -> str:
    """Give a stored request the key the older normalisation derived, and mark it as the migration does."""
    with session_scope(runtime.engine) as session:
        row = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        old = person_keys.legacy_person_key(runtime.pepper, row.family_name, row.given_names, BORN)
        row.person_key = old
        row.active_person_key = old if row.active_person_key else None
        session.add(row)
        session.add(PersonRekey(request_seq=row.seq))
    return old


def _row(runtime, request_id: str) -> AppointmentRequest:
    with session_scope(runtime.engine) as session:
        row = session.exec(select(AppointmentRequest).where(AppointmentRequest.id == request_id)).one()
        session.expunge(row)
        return row


def _rekey(runtime) -> person_keys.RekeyReport:
    report = person_keys.RekeyReport()
    while True:
        with unit_of_work(runtime.engine) as session:
            if not person_keys.rekey_batch(
                session, pepper=runtime.pepper, now=runtime.clock.now(), report=report
            ):
                return report


def test_a_key_whose_names_fold_differently_is_derived_again_and_its_sanctions_follow(client, runtime):
    world = World(client, runtime)
    squatter = _file(world, "PASSPORT1", f"Di{CYRILLIC_A}llo")
    plain = _file(world, "PASSPORT2", "Ndiaye")
    old = _as_written_before(runtime, squatter["id"])
    _as_written_before(runtime, plain["id"])
    with session_scope(runtime.engine) as session:
        service_id = _row(runtime, squatter["id"]).service_id
        session.add(
            ClaimSanction(service_id=service_id, digest=old, effect="excluded", until=date(2027, 6, 1))
        )

    report = _rekey(runtime)

    new = person_key(runtime.pepper, "Diallo", "Aïcha", BORN)
    assert new != old
    assert (_row(runtime, squatter["id"]).person_key, _row(runtime, squatter["id"]).active_person_key) == (
        new,
        new,
    )
    assert _row(runtime, plain["id"]).person_key == person_key(runtime.pepper, "Ndiaye", "Aïcha", BORN)
    with session_scope(runtime.engine) as session:
        assert [s.digest for s in session.exec(select(ClaimSanction)).all()] == [new]
        assert session.exec(select(PersonRekey)).all() == []
    assert (report.rekeyed, report.unchanged, report.unmatched) == (1, 1, 0)


def test_of_two_verified_requests_that_now_share_a_person_the_first_verified_keeps_it(client, runtime, clock):
    world = World(client, runtime)
    squatter = _file(world, "PASSPORT1", f"Di{CYRILLIC_A}llo")  # filed, and verified, first
    _as_written_before(runtime, squatter["id"])  # under the older keys: a look-alike was another person
    clock.advance(timedelta(minutes=5))
    holder = _file(world, "PERMIT22", "Diallo")

    report = _rekey(runtime)

    assert report.duplicates == 1
    new = person_key(runtime.pepper, "Diallo", "Aïcha", BORN)
    assert _row(runtime, squatter["id"]).active_person_key == new
    assert _row(runtime, holder["id"]).active_person_key is None
    assert _row(runtime, holder["id"]).status == "pending"  # an agent judges them: nothing is closed
    with session_scope(runtime.engine) as session:
        found = session.exec(select(AuditEvent).where(AuditEvent.action == "person.duplicate_found")).one()
    assert (found.subject, found.details["kept_by"]) == (f"request:{holder['id']}", squatter["id"])


def test_fairslot_db_upgrade_derives_the_marked_keys_again(client, runtime, tmp_path):
    world = World(client, runtime)
    squatter = _file(world, "PASSPORT1", f"Di{CYRILLIC_A}llo")
    _as_written_before(runtime, squatter["id"])

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        env={
            **os.environ,
            "FAIRSLOT_DATABASE_URL": runtime.settings.database_url,
            "FAIRSLOT_SECRET_KEY": TEST_SECRET,
            "FAIRSLOT_ENV": "test",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "1 derived again" in result.stdout
    assert _row(runtime, squatter["id"]).person_key == person_key(runtime.pepper, "Diallo", "Aïcha", BORN)
