"""The staff member behind a web session: the session is read on the server on every request, so ending it
(sign-out, an admin, a disabled account, a revoked key) takes effect at once."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from app.domain.staff.actors import Via
from app.services.staff import sessions
from app.services.staff.principal import StaffPrincipal
from app.web.session import WebSession


def principal_of(db: Session, web_session: WebSession, now: datetime) -> StaffPrincipal | None:
    """The principal of the browser's staff session, or ``None`` (none, ended, idle, too old, revoked)."""
    if web_session.staff_token is None:
        return None
    return sessions.principal_of(db, web_session.staff_token, now=now, via=Via.WEB)
