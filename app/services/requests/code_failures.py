"""Which requests a wrong access code was tried on, during one HTTP request (for the rate limiter).

Only a code that does not open its request is a failure: the owner's own 404s (a QR code asked before a
booking exists, an offer already gone) are not, so they never lock the owner out. The limiter opens a
:func:`watching` scope around the request; :func:`record` (called by ``requests.authenticate``) notes the
request id in it. A context variable carries the scope into the worker threads of sync routes and pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_failures: ContextVar[list[str] | None] = ContextVar("fairslot_code_failures", default=None)


@contextmanager
def watching() -> Iterator[list[str]]:
    """Collect the wrong codes of the current request (the list fills as the request runs)."""
    seen: list[str] = []
    token = _failures.set(seen)
    try:
        yield seen
    finally:
        _failures.reset(token)


def record(request_id: str) -> None:
    """Note a wrong access code tried on ``request_id`` (nothing happens outside a watching scope)."""
    seen = _failures.get()
    if seen is not None:
        seen.append(request_id)
