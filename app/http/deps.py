"""FastAPI dependencies as ``Annotated`` aliases: the session, the clock, staff and applicant credentials."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

import anyio.from_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from app.domain.errors import Unauthorized
from app.domain.staff.actors import Via
from app.http.middleware import deadline_of
from app.runtime import Runtime
from app.services import audit
from app.services.staff import keys as staff_keys
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import unit_of_work

# Dependencies that do no I/O are ``async``: FastAPI runs sync ones in the thread pool, one hop each.


async def get_runtime(request: Request) -> Runtime:
    """The process runtime."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


#: How long a commit may hold off its request's deadline (SQLite's busy timeout, with room to spare).
COMMIT_HOLD_SECONDS = 20.0


def _still_wanted(request: Request) -> bool:
    """Hold the request's deadline for the commit; False when the request was already abandoned (its
    client got a 503), so that nothing is committed behind that answer."""
    deadline = deadline_of(request.scope)
    if deadline is None:
        return True
    try:
        return bool(anyio.from_thread.run_sync(deadline.hold, COMMIT_HOLD_SECONDS))
    except RuntimeError:  # not in a worker thread: on the event loop itself
        return deadline.hold(COMMIT_HOLD_SECONDS)


def get_session(runtime: RuntimeDep, request: Request) -> Iterator[Session]:
    """One unit of work per request (``app.services.unit_of_work``): commits once, settles on an exception.

    A request abandoned by its timeout commits nothing: a 503 means nothing changed."""
    with unit_of_work(runtime.engine, runtime.clock) as session:
        # The audit log names the face: the API, or the pages.
        audit.set_via(session, Via.API if request.url.path.startswith("/api/") else Via.WEB)
        yield session
        if not _still_wanted(request):
            session.rollback()


# scope="function": the commit happens before the answer is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


async def get_now(runtime: RuntimeDep) -> datetime:
    """The current time from the runtime's clock."""
    return runtime.clock.now()


NowDep = Annotated[datetime, Depends(get_now)]


async def bearer(request: Request) -> str | None:
    """The bearer credential of the request, if any."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


BearerDep = Annotated[str | None, Depends(bearer)]


_staff_scheme = HTTPBearer(auto_error=False, scheme_name="StaffKey", description="A staff key (fsk_…)")


def get_staff(
    session: SessionDep, bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(_staff_scheme)]
) -> StaffPrincipal:
    """The staff member behind the bearer key (401 when missing, unknown or revoked)."""
    credential = bearer_key.credentials if bearer_key else None
    if credential is None:
        raise Unauthorized("send Authorization: Bearer <staff key>", headers={"WWW-Authenticate": "Bearer"})
    try:
        return staff_keys.authenticate(session, credential).through(Via.API)
    except Unauthorized as exc:
        raise Unauthorized(exc.detail, headers={"WWW-Authenticate": "Bearer"}) from exc


StaffDep = Annotated[StaffPrincipal, Depends(get_staff)]


def get_optional_staff(
    request: Request,
    session: SessionDep,
    bearer_key: Annotated[HTTPAuthorizationCredentials | None, Depends(_staff_scheme)],
) -> StaffPrincipal | None:
    """The staff member behind the bearer key, or None without credentials (401 for any other credential)."""
    if bearer_key is None:
        if request.headers.get("authorization"):
            raise Unauthorized(
                "send Authorization: Bearer <staff key>, or no credential",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None
    return get_staff(session, bearer_key)


OptionalStaffDep = Annotated[StaffPrincipal | None, Depends(get_optional_staff)]
