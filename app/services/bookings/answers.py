"""An applicant's answers, given through any face: accept or decline an offer, confirm, give back or cancel
a booking (or withdraw the request).

The API, the status page and the partner's request page all answer through :func:`answer`, which takes what
each answer needs from the runtime's settings, so an answer behaves the same whoever gives it; ``actor`` is
who the audit log names (the applicant, or the partner's key acting for them).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlmodel import Session

from app.db.models import AppointmentRequest
from app.runtime import Runtime
from app.services.bookings import cancellations, confirmations, give_backs, offers

Answer = Literal["accept", "confirm", "decline", "give-back", "cancel"]


def answer(
    session: Session,
    runtime: Runtime,
    request_id: str,
    action: Answer,
    now: datetime,
    actor: str = "applicant",
) -> AppointmentRequest:
    """Carry out one answer on the request; the request as it is afterwards."""
    settings = runtime.settings
    if action == "accept":
        grace = timedelta(minutes=settings.no_show_grace_minutes)
        return offers.accept(
            session=session,
            request_id=request_id,
            now=now,
            secret=runtime.secret,
            token_grace=grace,
            actor=actor,
        )
    if action == "confirm":
        return confirmations.confirm(session=session, request_id=request_id, now=now, actor=actor)
    within = settings.redraw_within
    if action == "decline":
        return offers.decline(
            session=session, request_id=request_id, now=now, redraw_within=within, actor=actor
        )
    if action == "give-back":
        return give_backs.give_back(
            session=session, request_id=request_id, now=now, redraw_within=within, actor=actor
        )
    return cancellations.cancel(
        session=session, request_id=request_id, now=now, redraw_within=within, actor=actor
    )
