"""The staff member behind a web session: the key row is read on every request, so revocation (of the key,
or of its web sessions at sign-out) is immediate."""

from __future__ import annotations

from sqlmodel import Session

from app.services.staff.keys import StaffPrincipal, principal_of_key
from app.web.session import WebSession


def principal_of(db: Session, web_session: WebSession) -> StaffPrincipal | None:
    """The principal of the session's staff key, or ``None`` (not signed in, expired, revoked)."""
    if not web_session.staff_signed_in or web_session.staff_key_id is None:
        return None
    return principal_of_key(db, web_session.staff_key_id, web_session.generation)
