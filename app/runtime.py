"""What a running process holds: settings, the database engine, the clock and the server secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from app.clock import Clock, SystemClock
from app.db.engine import make_engine
from app.settings import Settings, get_settings


@dataclass
class Runtime:
    """Shared by the API, the web pages, the scheduler and the CLI of one process."""

    settings: Settings
    engine: Engine
    clock: Clock = field(default_factory=SystemClock)

    @property
    def secret(self) -> bytes:
        """The server secret (identity pepper and token signing seed)."""
        return self.settings.secret_bytes()

    @property
    def pepper(self) -> bytes:
        """The identity pepper, kept apart from the signing seed by a label."""
        return b"identity:" + self.secret

    @classmethod
    def from_settings(cls, settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
        """A runtime for ``settings`` (the environment's by default)."""
        settings = settings or get_settings()
        return cls(
            settings=settings,
            engine=make_engine(settings.database_url, capacity=settings.database_pool_capacity),
            clock=clock or SystemClock(),
        )
