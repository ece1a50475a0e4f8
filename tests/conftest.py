"""Test fixtures: databases built by the Alembic migrations, an app per test, a frozen clock.

Tests that ask for ``runtime`` or ``client`` run on SQLite, and again on PostgreSQL when
``FAIRSLOT_TEST_DATABASE_URL`` is set (a fresh database is created on that server for the run). Each test
starts from empty tables. Domain tests ask for neither and run once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from app.clock import FrozenClock
from app.db import scratch
from app.db.engine import make_engine
from app.db.migrations import upgrade
from app.db.models import metadata
from app.main import create_app
from app.runtime import Runtime
from app.services.bookings import token_keys
from app.services.evidence import stats
from app.services.operations import catalog
from app.settings import Settings


def _redis_of_this_worker() -> None:
    """Under pytest-xdist, each worker its own Redis database (1, 2, ...), so that one worker's FLUSHDB
    never empties the counters another worker's test is reading."""
    url, worker = os.environ.get("FAIRSLOT_TEST_REDIS_URL"), os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker and worker.startswith("gw"):
        base = url.rsplit("/", 1)[0] if url.count("/") > 2 else url
        os.environ["FAIRSLOT_TEST_REDIS_URL"] = f"{base}/{1 + int(worker[2:])}"


_redis_of_this_worker()

PG_URL = os.environ.get("FAIRSLOT_TEST_DATABASE_URL")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])
START = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # a Tuesday, 09:00 in Paris
TEST_SECRET = "test-secret-with-enough-entropy-0123456789abcdef"


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database for the whole run, per backend."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "fairslot.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        yield url
        return
    assert PG_URL is not None
    with scratch.database(PG_URL, "fairslot_test") as (url, _name):
        upgrade(url)
        yield url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    """One engine per database for the run."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def empty_tables(engine: Engine) -> None:
    """Remove every row (faster than rebuilding the schema for each test)."""
    catalog.forget_cached()
    stats.forget_cached()
    token_keys.clear_cache()
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    # DELETE, children first: on tables this small it is many times faster than TRUNCATE on PostgreSQL.
    with engine.begin() as conn:
        for name in tables:
            conn.execute(text(f"DELETE FROM {name}"))


def test_settings(database_url: str, **overrides: object) -> Settings:
    """Settings for a test process (no environment, no .env file)."""
    values: dict[str, object] = {
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "env": "test",
        "rate_limits": "off",
        "scheduler_interval_seconds": 0.2,
        # New services draw v1 unless a test asks for a beacon: the suite does not pay for BLS on every draw.
        "beacon_chain": "none",
        # Most flows check in right after booking, days before the slot; the window's own tests
        # (tests/api/bookings/test_check_in_window.py) use the production default.
        "check_in_opens_minutes_before": 60 * 24 * 30,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


test_settings.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def clock() -> FrozenClock:
    """Time stands still until a test moves it."""
    return FrozenClock(START)


@pytest.fixture
def runtime(engine: Engine, database_url: str, clock: FrozenClock) -> Runtime:
    """A runtime on empty tables with a frozen clock."""
    empty_tables(engine)
    return Runtime(settings=test_settings(database_url), engine=engine, clock=clock)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """An HTTP client talking to a fresh app (no background scheduler: tests tick it themselves)."""
    with TestClient(create_app(runtime), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def is_postgres(database_url: str) -> bool:
    """Whether this test runs on PostgreSQL."""
    return database_url.startswith("postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every database test runs per backend; ``postgres_only`` on PostgreSQL alone; ``browser``, ``once`` and
    ``sqlite_only`` on SQLite."""
    if "database_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("postgres_only"):
        backends = ["postgresql"]
    elif any(metafunc.definition.get_closest_marker(m) for m in ("browser", "once", "sqlite_only")):
        # Browser and multi-process suites prove the faces and the processes, not the database: run them once.
        backends = ["sqlite"]
    else:
        backends = BACKENDS
    if not PG_URL:
        backends = [b for b in backends if b != "postgresql"]
    metafunc.parametrize("database_url", backends, indirect=True, scope="session")


def pytest_configure(config: pytest.Config) -> None:
    """Screenshots and other artefacts go to a git-ignored folder."""
    Path("screenshots").mkdir(exist_ok=True)
