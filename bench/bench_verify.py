"""How many one-time codes a second one worker verifies.

Run: ``python bench/bench_verify.py [--requests 2000] [--sqlite]``. It creates a scratch database (PostgreSQL
on ``FAIRSLOT_BENCH_DATABASE_URL``, default the local server, or a SQLite file with ``--sqlite``), files
unverified requests of a phone-policy service, sends each a code through the service (the code is read back
from its sealed outbox row, as the SMS worker would), then verifies them one after the other, each in its own
transaction exactly as ``POST /api/v1/requests/{id}/phone-verification`` does (locks, the number's count,
the person key), once through the service and once through the HTTP app in process. It prints the figures;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlmodel import select

from app.clock import SystemClock
from app.db import scratch
from app.db.engine import make_engine, session_scope
from app.db.migrations import upgrade
from app.db.models import OutboxMessage
from app.domain import verification as rules
from app.main import create_app
from app.runtime import Runtime
from app.schemas.catalog import OfficeCreate, ServiceCreate, WeightPolicyIn
from app.schemas.requests import ContactIn, IdentityIn, RequestCreate
from app.services.intake import submission, verification
from app.services.operations import catalog
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import unit_of_work
from app.settings import Settings

BASE_URL = os.environ.get("FAIRSLOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET = "bench-secret-with-enough-entropy-0123456789abcdef"


def _database(sqlite: bool) -> tuple[str, str | None]:
    """The bench's database: its URL, and the scratch PostgreSQL database's name to drop (None: SQLite)."""
    if sqlite:
        return f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.db'}", None
    return scratch.create(BASE_URL, "fairslot_bench")


def _seed(runtime: Runtime, count: int) -> list[tuple[str, str, str]]:
    """``count`` unverified requests with a code each: (request id, access code, code)."""
    now = runtime.clock.now()
    operator = staff_keys.operator("bench")
    with unit_of_work(runtime.engine) as session:
        catalog.create_office(
            session=session,
            data=OfficeCreate(code="bench", name="Bench", timezone="Europe/Paris"),
            staff=operator,
        )
        catalog.create_service(
            session=session,
            data=ServiceCreate(
                code="bench",
                name="Bench",
                slot_minutes=20,
                weight_policy=WeightPolicyIn(entry_verification="phone"),
            ),
            staff=operator,
        )
    made = []
    for i in range(count):
        data = RequestCreate(
            service="bench",
            offices=["bench"],
            identity=IdentityIn(
                document_type="passport",
                document_number=f"BENCH{i:07d}",
                family_name=f"Bench {i}",
                given_names="Applicant",
                birth_date=date(1980, 1, 1),
            ),
            contact=ContactIn(phone=f"+336{10_000_000 + i:08d}"),
        )
        with unit_of_work(runtime.engine) as session:
            request, access = submission.submit_request(
                session=session, data=data, pepper=runtime.pepper, now=now
            )
            verification.send_code(
                session=session, request_id=request.id, now=now, secret=runtime.secret, pepper=runtime.pepper
            )
            request_id = request.id
        with session_scope(runtime.engine) as session:
            sealed = session.exec(
                select(OutboxMessage.context).where(  # type: ignore[call-overload]
                    OutboxMessage.request_id == request_id, OutboxMessage.kind == "phone_code"
                )
            ).one()
        made.append((request_id, access, rules.open_code(runtime.secret, sealed["code_sealed"], request_id)))
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of PostgreSQL")
    args = parser.parse_args()
    url, name = _database(args.sqlite)
    try:
        upgrade(url)
        engine = make_engine(url)
        settings = Settings(
            _env_file=None, database_url=url, secret_key=SECRET, env="test", rate_limits="off"
        )  # type: ignore[call-arg]
        runtime = Runtime(settings=settings, engine=engine, clock=SystemClock())
        half = args.requests // 2
        made = _seed(runtime, args.requests)
        started = time.perf_counter()
        for request_id, _access, code in made[:half]:
            with unit_of_work(engine) as session:
                verification.verify_code(
                    session=session,
                    request_id=request_id,
                    code=code,
                    now=runtime.clock.now(),
                    secret=runtime.secret,
                )
        service_rate = half / (time.perf_counter() - started)
        with TestClient(create_app(runtime)) as client:
            started = time.perf_counter()
            for request_id, access, code in made[half:]:
                answer = client.post(
                    f"/api/v1/requests/{request_id}/phone-verification",
                    json={"code": code},
                    headers={"Authorization": f"Bearer {access}"},
                )
                assert answer.status_code == 200, answer.text
            http_rate = (args.requests - half) / (time.perf_counter() - started)
        backend = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"verify codes, one worker, {backend}: {service_rate:,.0f} codes/s through the service")
        print(f"verify codes, one worker, {backend}: {http_rate:,.0f} codes/s through HTTP (in process)")
        engine.dispose()
    finally:
        if name:
            scratch.drop(BASE_URL, name)


if __name__ == "__main__":
    main()
