"""Attestation and receipt costs: signing and verifying statements, and rendering one PDF receipt.

Run: ``.venv/bin/python -m bench.bench_attestations``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from app.clock import FrozenClock
from app.db.engine import make_engine, session_scope
from app.db.migrations import upgrade
from app.domain.proofs import attestation
from app.domain.proofs.attestation import DrawOutcome
from app.domain.proofs.tokens import TokenKeyring
from app.main import create_app
from app.runtime import Runtime
from app.services.channels import receipts
from app.services.requests import repository
from tests.conftest import START, test_settings
from tests.factories import World

N = 2000


def _statement(draws: int) -> dict:
    now = datetime(2026, 12, 1, 8, tzinfo=UTC)
    return attestation.build_statement(
        issuer="https://fairslot.example",
        issued_at=now,
        request_id="6e41b3ee-bb15-42cb-9c89-8940b9b8e69c",
        family_name="Diallo",
        given_names="Aïcha",
        service="first-permit",
        offices=["paris-cite", "bobigny"],
        channel="partner",
        submitted_at=now - timedelta(days=90),
        status="pending",
        draws=[DrawOutcome(i, "paris-cite", now - timedelta(days=i), "not_selected") for i in range(draws)],
    )


def main() -> None:
    ring = TokenKeyring(
        [("k1", datetime(2026, 1, 1, tzinfo=UTC))], b"bench-secret-0123456789abcdef0123456789"
    )
    for draws in (0, 12):
        statement = _statement(draws)
        started = time.perf_counter()
        tokens = [attestation.sign(ring, statement) for _ in range(N)]
        signed = time.perf_counter() - started
        started = time.perf_counter()
        assert all(attestation.verify(ring, t).valid for t in tokens)
        verified = time.perf_counter() - started
        print(
            f"{draws:>2} draws: {len(tokens[0])} chars; sign {N / signed:,.0f}/s, verify {N / verified:,.0f}/s"
        )
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{os.path.join(folder, 'bench.db')}"
        upgrade(url)
        runtime = Runtime(settings=test_settings(url), engine=make_engine(url), clock=FrozenClock(START))
        with TestClient(create_app(runtime)) as client:
            request = World(client, runtime).applicant()
        with session_scope(runtime.engine) as session:
            row = repository.by_id(session, request["id"])
            assert row is not None
            for lang in ("fr", "ar"):
                times = []
                for _ in range(5):
                    started = time.perf_counter()
                    pdf = receipts.receipt_pdf(
                        session=session, request=row, now=START, secret=runtime.secret,
                        public_url="https://fairslot.example", lang=lang,
                    )  # fmt: skip
                    times.append(time.perf_counter() - started)
                print(
                    f"receipt {lang}: {len(pdf) / 1024:.0f} KiB, first {times[0] * 1000:.0f} ms, then {min(times[1:]) * 1000:.0f} ms"
                )


if __name__ == "__main__":
    main()
