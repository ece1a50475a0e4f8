"""Who files through a staff page, for the per-filer intake budget of ``app.http.ratelimit``: the account or
the unowned key behind the browser's staff session, read on the server (the cookie holds only an opaque id)."""

from __future__ import annotations

from app.runtime import Runtime
from app.services.staff import sessions
from app.services.unit_of_work import unit_of_work
from app.web.session import staff_token_of


def filer_of_cookies(cookies: dict[str, str], runtime: Runtime) -> str | None:
    """``account-N`` or ``key-N`` for a live staff session, else None (a blocking read: run in a thread)."""
    token = staff_token_of(cookies)
    if token is None:
        return None
    with unit_of_work(runtime.engine, runtime.clock) as session:
        return sessions.filer_of(session, token)
