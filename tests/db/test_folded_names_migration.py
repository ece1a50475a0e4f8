"""The migration that brings the desk's search folds the family names of the requests already stored."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from app.db import scratch
from app.db.engine import make_engine
from app.db.migrations import upgrade
from app.domain.identity import folded_name

REVISION = "ccb0b0cc27ff"
PG_URL = os.environ.get("FAIRSLOT_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'folded.db'}"
        return
    if not PG_URL:
        pytest.skip("FAIRSLOT_TEST_DATABASE_URL is not set")
    with scratch.database(PG_URL, "fairslot_fold") as (url, _name):
        yield url


def test_upgrading_folds_the_family_names_already_stored_and_leaves_purged_ones_empty(fresh_url: str) -> None:
    upgrade(fresh_url, f"{REVISION}-1")
    engine = make_engine(fresh_url)
    now = datetime(2026, 12, 1, tzinfo=UTC)
    names = ["Éloïse  MÜLLER", "Nguyễn Văn", None]
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO service (code, name, slot_minutes, created_at) VALUES ('s', 'S', 30, :now)"),
            {"now": now},
        )
        for n, name in enumerate(names):
            conn.execute(
                text(
                    "INSERT INTO appointment_request (id, entry, service_id, offices, identity_key, family_name, "
                    "vulnerabilities, language, access_code_hash, status, submitted_at, updated_at) VALUES "
                    "(:id, :entry, (SELECT id FROM service), '[\"o\"]', :key, :name, '[]', 'fr', 'h', 'pending', "
                    ":now, :now)"
                ),
                {"id": f"id-{n}", "entry": f"FS-{n}", "key": f"k{n}", "name": name, "now": now},
            )

    upgrade(fresh_url, REVISION)

    with engine.connect() as conn:
        folded = (
            conn.execute(text("SELECT family_name_folded FROM appointment_request ORDER BY seq"))
            .scalars()
            .all()
        )
    engine.dispose()
    # Folded as intake folds: what is typed plainly at the desk finds them.
    assert folded == [folded_name("eloise muller"), folded_name("nguyen van"), None]
