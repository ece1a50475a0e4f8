"""The migrations are the schema: ``upgrade head`` on an empty database leaves autogenerate nothing to add."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.db.models import metadata


def test_upgrade_head_on_an_empty_database_equals_the_models(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_model_table_exists_after_upgrade(engine):
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(engine):
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_upgrading_gives_existing_draws_their_local_day_and_marks_person_keys_to_derive_again(tmp_path):
    from datetime import UTC, date, datetime

    from sqlalchemy import create_engine, text

    from app.db.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "08c6371c1602")
    engine = create_engine(url)
    late_evening = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # 1 December in Paris, 03:30 in Réunion
    with engine.begin() as conn:
        for office_id, zone in ((1, "Europe/Paris"), (2, "Indian/Reunion"), (3, "America/Cayenne")):
            conn.execute(
                text(
                    "INSERT INTO office (id, code, name, timezone, created_at) VALUES (:i, :c, 'x', :z, :t)"
                ),
                {"i": office_id, "c": f"o{office_id}", "z": zone, "t": late_evening},
            )
            conn.execute(
                text(
                    "INSERT INTO release (id, office_id, service_id, kind, status, draw_at, seed_commitment, "
                    "offer_ttl_hours, slot_count, created_at, beacon_trust) VALUES (:i, :i, 1, 'release', "
                    "'drawn', :t, 'c', 48, 0, :t, 'none')"
                ),
                {"i": office_id, "t": late_evening.replace(tzinfo=None)},
            )
            conn.execute(
                text(
                    "INSERT INTO draw (id, release_id, drawn_at, entry_count, offered_count, header) "
                    "VALUES (:i, :i, :t, 0, 0, '{}')"
                ),
                {"i": office_id, "t": late_evening.replace(tzinfo=None)},
            )
        conn.execute(
            text(
                "INSERT INTO service (id, code, name, slot_minutes, created_at) VALUES (1, 's', 'S', 30, :t)"
            ),
            {"t": late_evening.replace(tzinfo=None)},
        )
        for seq, names in ((1, ("Diallo", "Aicha")), (2, (None, None))):
            conn.execute(
                text(
                    "INSERT INTO appointment_request (seq, id, entry, service_id, offices, identity_key, "
                    "person_key, family_name, given_names, vulnerabilities, language, access_code_hash, status, "
                    "submitted_at, updated_at, channel, verification_status) VALUES (:s, :id, :e, 1, '[]', 'k', "
                    "'p', :f, :g, '[]', 'fr', 'h', 'pending', :t, :t, 'online', 'verified')"
                ),
                {"s": seq, "id": f"r{seq}", "e": f"E{seq}", "f": names[0], "g": names[1], "t": late_evening},
            )

    upgrade(url)

    with engine.connect() as conn:
        days = dict(conn.execute(text("SELECT id, day FROM draw")).all())
        marked = list(conn.execute(text("SELECT request_seq FROM person_rekey")).scalars())
    engine.dispose()
    assert {i: date.fromisoformat(str(d)) for i, d in days.items()} == {
        1: date(2026, 12, 1),
        2: date(2026, 12, 1),
        3: date(2026, 11, 30),
    }
    assert marked == [1]  # a purged request has no names to derive a key from
