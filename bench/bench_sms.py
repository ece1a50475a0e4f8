"""SMS benchmark: how many SMS one worker hands to a local SMSC, and how long releasing 10,000 unconfirmed
bookings takes.

Run: ``python bench/bench_sms.py [--messages 2000] [--bookings 10000]``. It migrates a scratch database
(SQLite in a temporary folder, or ``FAIRSLOT_BENCH_DATABASE_URL`` for PostgreSQL), seeds SMS in the
outbox with SQL, starts the test SMSC of the suite (``tests/smsc.py``, SMPP 3.4 over TCP on 127.0.0.1,
in a process of its own) and drains the outbox with one worker exactly as the scheduler does (claim, commit, submit, record);
then it seeds unconfirmed bookings past their ``confirm_by`` and runs the scheduler's release job.
Goals: >= 200 SMS/s (a draw of 10,000 offers announced within a minute). It prints figures, asserts
nothing about time.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.db import scratch
from app.db.engine import make_engine, session_scope
from app.db.migrations import upgrade
from app.db.models import AppointmentRequest, Booking, Offer, OutboxMessage, Slot
from app.services.bookings import confirmations
from app.services.messages import outbox
from tests.smsc import Smsc

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


#: A PostgreSQL server to bench on (a scratch database is made there); SQLite when unset.
BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL")


def _database() -> tuple[str, str | None]:
    """The bench's database: its URL, and the scratch PostgreSQL database's name to drop (None: SQLite)."""
    if not BASE_URL:
        folder = tempfile.mkdtemp(prefix="fairslot-bench-sms-")
        return f"sqlite:///{folder}/bench.db", None
    return scratch.create(BASE_URL, "fairslot_bench_sms")


def _catalogue(engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO office (code, name, timezone, created_at) "
                "VALUES ('bench', 'Préfecture de bench', 'Europe/Paris', :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO service (code, name, slot_minutes, created_at) VALUES ('bench', 'Bench', 20, :now)"
            ),
            {"now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO release (office_id, service_id, kind, status, draw_at, seed, seed_commitment, "
                "offer_ttl_hours, slot_count, created_at) VALUES (1, 1, 'release', 'drawn', :now, :z, :z, 48, 0, :now)"
            ),
            {"now": NOW, "z": "0" * 64},
        )
        conn.execute(
            text(
                "INSERT INTO draw (release_id, drawn_at, entry_count, offered_count, header) "
                "VALUES (1, :now, 0, 0, '{}')"
            ),
            {"now": NOW},
        )


def _requests(engine, count: int, status: str, start: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    rows = [
        {
            "id": request_id,
            "entry": f"FS-B{start + i:011d}",
            "service_id": 1,
            "offices": ["bench"],
            "identity_key": f"{start + i:064d}",
            "active_identity_key": f"{start + i:064d}",
            "vulnerabilities": [],
            "phone": f"+3361{(start + i) % 10_000_000:07d}",
            "language": "fr" if i % 2 else "ar",
            "access_code_hash": "0" * 64,
            "status": status,
            "submitted_at": NOW,
            "updated_at": NOW,
        }
        for i, request_id in enumerate(ids)
    ]
    with engine.begin() as conn:
        for chunk in range(0, count, 5000):
            conn.execute(insert(AppointmentRequest.__table__), rows[chunk : chunk + 5000])  # type: ignore[attr-defined]
    return ids


def _smsc_process(conn) -> None:
    """The SMSC in its own process, as a real one is (not sharing the worker's interpreter lock)."""
    smsc = Smsc().start()
    conn.send(smsc.url)
    conn.recv()
    conn.send(len(smsc.submits))
    smsc.stop()


def bench_send(engine, count: int) -> None:
    ids = _requests(engine, count, "offered", 0)
    context = {
        "office": "Préfecture de bench",
        "starts_at": "2026-12-14T09:30:00+01:00",
        "expires_at": "2026-12-03T09:00:00+01:00",
    }
    rows = [
        {
            "request_id": request_id,
            "channel": "sms",
            "kind": "offer_made",
            "language": "fr" if i % 2 else "ar",
            "recipient": f"+3361{i % 10_000_000:07d}",
            "context": {**context, "entry": f"FS-B{i:011d}", "request_id": request_id},
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": NOW,
            "created_at": NOW,
        }
        for i, request_id in enumerate(ids)
    ]
    with engine.begin() as conn:
        for chunk in range(0, count, 5000):
            conn.execute(insert(OutboxMessage.__table__), rows[chunk : chunk + 5000])  # type: ignore[attr-defined]
    parent, child = multiprocessing.Pipe()
    smsc = multiprocessing.Process(target=_smsc_process, args=(child,), daemon=True)
    smsc.start()
    url = parent.recv()
    outlets = outbox.outlets_for(
        smtp_url=None, smpp_url=url, mail_from="bench@example.org", public_url="https://rdv.example.fr"
    )
    try:
        started = time.perf_counter()
        handled = 0
        while handled < count:
            done = outbox.send_due(engine, outlets=outlets, now=NOW)
            if done == 0:
                time.sleep(0.01)  # the link backs off (it should not here)
            handled += done
        elapsed = time.perf_counter() - started
        receipts_started = time.perf_counter()
        while True:
            with engine.connect() as conn:
                settled = conn.execute(
                    text("SELECT count(*) FROM outbox_message WHERE status IN ('delivered', 'failed')")
                ).scalar_one()
            if settled >= count or time.perf_counter() - receipts_started > 60:
                break
            outbox.send_due(engine, outlets=outlets, now=NOW)
        receipts = time.perf_counter() - receipts_started
    finally:
        outlets.close()
        parent.send("stop")
        segments = parent.recv()
        smsc.join(timeout=10)
    print(
        f"sms: {count} messages ({segments} segments, half French GSM-7, half Arabic UCS-2) handed to the SMSC "
        f"by one worker in {elapsed:.2f} s: {count / elapsed:.0f} SMS/s, {segments / elapsed:.0f} segments/s "
        f"(goal >= 200 SMS/s); receipts of all settled {receipts:.2f} s later ({settled} settled)"
    )


def bench_release(engine, count: int) -> None:
    ids = _requests(engine, count, "booked", 1_000_000)
    starts = NOW + timedelta(days=1)
    with engine.begin() as conn:
        slot_rows = [
            {
                "release_id": 1,
                "office_id": 1,
                "service_id": 1,
                "starts_at": starts + timedelta(minutes=i % 480),
                "ends_at": starts + timedelta(minutes=i % 480 + 20),
                "desk": i // 480 + 1,
            }
            for i in range(count)
        ]
        for chunk in range(0, count, 5000):
            conn.execute(insert(Slot.__table__), slot_rows[chunk : chunk + 5000])  # type: ignore[attr-defined]
        slot_ids = [r[0] for r in conn.execute(text("SELECT id FROM slot ORDER BY id")).all()]
        offer_rows = [
            {
                "request_id": request_id,
                "slot_id": slot_id,
                "active_slot_id": slot_id,
                "draw_id": 1,
                "status": "accepted",
                "expires_at": NOW,
                "remind_at": NOW,
                "created_at": NOW - timedelta(days=20),
            }
            for request_id, slot_id in zip(ids, slot_ids, strict=True)
        ]
        for chunk in range(0, count, 5000):
            conn.execute(insert(Offer.__table__), offer_rows[chunk : chunk + 5000])  # type: ignore[attr-defined]
        offer_ids = [r[0] for r in conn.execute(text("SELECT id FROM offer ORDER BY id")).all()]
        booking_rows = [
            {
                "id": str(uuid.uuid4()),
                "offer_id": offer_id,
                "request_id": request_id,
                "slot_id": slot_id,
                "office_id": 1,
                "identity_key": "0" * 64,
                "status": "booked",
                "token": "x",
                "created_at": NOW - timedelta(days=20),
                "confirm_from": starts - timedelta(days=7),
                "confirm_by": NOW,
            }
            for request_id, slot_id, offer_id in zip(ids, slot_ids, offer_ids, strict=True)
        ]
        for chunk in range(0, count, 5000):
            conn.execute(insert(Booking.__table__), booking_rows[chunk : chunk + 5000])  # type: ignore[attr-defined]
    started = time.perf_counter()
    released = 0
    while True:
        with session_scope(engine) as session:
            batch = confirmations.release_unconfirmed(session, now=NOW, redraw_within=timedelta(hours=1))
        if not batch:
            break
        released += len(batch)
    elapsed = time.perf_counter() - started
    print(
        f"release: {released} unconfirmed bookings released at confirm_by in {elapsed:.2f} s "
        f"({released / elapsed:.0f}/s), batches of {confirmations.BATCH}, each slot back to the draws"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--bookings", type=int, default=10_000)
    args = parser.parse_args()
    url, name = _database()
    upgrade(url)
    engine = make_engine(url)
    try:
        _catalogue(engine)
        print(f"database: {engine.dialect.name}")
        bench_send(engine, args.messages)
        bench_release(engine, args.bookings)
    finally:
        engine.dispose()
        if BASE_URL and name:
            scratch.drop(BASE_URL, name)


if __name__ == "__main__":
    main()
