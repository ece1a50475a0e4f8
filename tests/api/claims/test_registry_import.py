"""``fairslot claims import``: a permit registry export confirms or refutes declared permit-expiry claims."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import Claim
from tests.assertions import text_cells
from tests.cli.test_cli import _fairslot
from tests.factories import World, create_office, request_body

TODAY = date(2026, 12, 1)


def applicant(
    world: World, document: str, born: str, expires: date, offices: list[str] | None = None
) -> dict:
    identity = {
        "document_type": "residence_permit",
        "document_number": document,
        "family_name": f"Registre {document.lower()}",
        "given_names": "Test",
        "birth_date": born,
    }
    body = request_body(
        world.service, offices or [world.office], identity=identity, permit_expires_on=expires.isoformat()
    )
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def statuses(runtime) -> dict[int, str]:
    with session_scope(runtime.engine) as session:
        return {
            c.request_seq: c.status for c in session.exec(select(Claim).order_by(Claim.request_seq)).all()
        }


def test_the_import_confirms_matching_dates_refutes_later_ones_and_counts_the_rest(
    client, runtime, database_url, tmp_path
):
    world = World(client, runtime)
    elsewhere = create_office(client, world.admin)["code"]
    declared = TODAY + timedelta(days=20)
    applicant(world, "REG00001", "1980-01-01", declared)  # registry: same date -> confirmed
    applicant(world, "REG00002", "1981-01-01", declared)  # registry: later -> refuted
    applicant(world, "REG00003", "1982-01-01", declared)  # registry: earlier -> confirmed
    applicant(world, "REG00004", "1983-01-01", declared, offices=[elsewhere])  # another office's
    export = tmp_path / "registry.csv"
    export.write_text(
        "document_number,birth_date,permit_expires_on\n"
        f"reg 0000-1,1980-01-01,{declared}\n"
        f"REG00002,1981-01-01,{declared + timedelta(days=300)}\n"
        f"REG00003,1982-01-01,{declared - timedelta(days=5)}\n"
        f"REG00004,1983-01-01,{declared}\n"
        f"NOBODY99,1990-01-01,{declared}\n"
        f"REG00001,1999-09-09,{declared}\n",  # the wrong birth date is another identity
        encoding="utf-8",
    )

    done = _fairslot(database_url, "claims", "import", str(export), "--office", world.office, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for expected in ("rows: 6", "matched: 3", "confirmed: 2", "refuted: 1", "unmatched: 3", "malformed: 0"):
        assert expected in lines, done.stdout
    assert list(statuses(runtime).values()) == ["confirmed", "refuted", "confirmed", "declared"]
    with session_scope(runtime.engine) as session:
        assert {c.decided_by for c in session.exec(select(Claim)).all()} == {f"registry:{world.office}", None}
    stored = " ".join(value for _table, _column, value in text_cells(runtime.engine))
    assert "REG0000" not in stored and "NOBODY99" not in stored

    again = _fairslot(database_url, "claims", "import", str(export), "--office", world.office, cwd=tmp_path)
    assert "already decided: 3" in again.stdout.splitlines()


def test_a_malformed_file_changes_nothing_and_names_the_line(client, runtime, database_url, tmp_path):
    world = World(client, runtime)
    declared = TODAY + timedelta(days=20)
    applicant(world, "REG00011", "1980-01-01", declared)
    export = tmp_path / "registry.csv"
    export.write_text(f"REG00011,1980-01-01,{declared}\nREG00012,01/02/1980,{declared}\n", encoding="utf-8")

    done = _fairslot(database_url, "claims", "import", str(export), "--office", world.office, cwd=tmp_path)

    assert done.returncode == 1
    assert "line 2 is malformed: dates must be ISO dates (YYYY-MM-DD); nothing was changed" in done.stdout
    assert "malformed: 1" in done.stdout.splitlines()
    assert list(statuses(runtime).values()) == ["declared"]


def test_a_field_past_the_csv_limit_is_a_malformed_line_named_without_a_traceback(
    client, runtime, database_url, tmp_path
):
    world = World(client, runtime)
    declared = TODAY + timedelta(days=20)
    applicant(world, "REG00031", "1980-01-01", declared)
    export = tmp_path / "registry.csv"
    huge = "A" * (129 * 1024)
    export.write_text(
        f"REG00031,1980-01-01,{declared}\nREG00032,1980-01-01,{declared}\n{huge},1980-01-01,{declared}\n",
        encoding="utf-8",
    )

    done = _fairslot(database_url, "claims", "import", str(export), "--office", world.office, cwd=tmp_path)

    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert any(
        line.startswith("line 3 is malformed: a field is longer than")
        and line.endswith("nothing was changed")
        for line in done.stdout.splitlines()
    ), done.stdout
    assert list(statuses(runtime).values()) == ["declared"]


def test_an_unknown_office_is_refused(client, runtime, database_url, tmp_path):
    World(client, runtime)
    export = tmp_path / "registry.csv"
    export.write_text("REG00021,1980-01-01,2027-01-01\n", encoding="utf-8")

    done = _fairslot(database_url, "claims", "import", str(export), "--office", "nowhere", cwd=tmp_path)

    assert done.returncode == 2
    assert "unknown office" in done.stderr
