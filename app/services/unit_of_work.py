"""One unit of work: how every face settles a transaction (API requests, pages, the scheduler, the CLI).

A unit of work commits once at its end and rolls back on any exception, except a ``FairslotError`` raised
with ``keep_changes=True``: what the service wrote before refusing (the audit row of a refused check-in, a
resale attempt) is committed, then the error goes on to be answered. ``settle`` is that rule, written once.

The unit of work also carries the runtime's clock (``now_of(session)``), so what a service writes without
being handed a time (the moment of an audit event, a revocation) reads the same clock as the rest.

A page that renders its own error inside the same request wraps the one service call in ``attempt``: the
failed attempt is settled exactly as a failed API request would be, and the page then reads from a clean
session to render. No route calls ``rollback()`` by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from app.clock import Clock, SystemClock
from app.domain.errors import FairslotError

_CLOCK = "fairslot_clock"
_SYSTEM = SystemClock()


def now_of(session: OrmSession) -> datetime:
    """The current time on the clock of ``session``'s unit of work (the system clock outside one)."""
    clock: Clock = session.info.get(_CLOCK, _SYSTEM)
    return clock.now()


def settle(session: Session, exc: BaseException) -> None:
    """End a failed unit of work: keep what a ``FairslotError(keep_changes=True)`` asks to keep, else roll back."""
    if isinstance(exc, FairslotError) and exc.keep_changes:
        session.commit()
    else:
        session.rollback()


@contextmanager
def unit_of_work(engine: Engine, clock: Clock | None = None) -> Iterator[Session]:
    """A session that commits once at the end, or is settled by ``settle`` when the block raises."""
    with Session(engine, expire_on_commit=False, info={_CLOCK: clock or _SYSTEM}) as session:
        try:
            yield session
        except BaseException as exc:
            settle(session, exc)
            raise
        session.commit()


@contextmanager
def attempt(session: Session) -> Iterator[None]:
    """One service call of a page that shows its own error: a failure is settled before the page sees it."""
    try:
        yield
    except FairslotError as exc:
        settle(session, exc)
        raise
