"""The staff member behind a web session: the key row is read on every request, so revocation (of the key,
or of its web sessions at sign-out) is immediate."""

from __future__ import annotations

from sqlmodel import Session

from app.db.models import StaffKey
from app.services.staff.keys import StaffPrincipal
from app.web.session import WebSession


def principal_of(db: Session, web_session: WebSession) -> StaffPrincipal | None:
    """The principal of the session's staff key, or ``None`` (not signed in, expired, revoked)."""
    if not web_session.staff_signed_in or web_session.staff_key_id is None:
        return None
    row = db.get(StaffKey, web_session.staff_key_id)
    if row is None or row.revoked_at is not None or row.id is None:
        return None
    if web_session.generation != row.session_generation:  # signed out since (server-side revocation)
        return None
    return StaffPrincipal(key_id=row.id, role=row.role, offices=frozenset(row.offices))
