"""Entries frozen at ``draw_at``: nothing changes a v2 draw's entry set between its time and its end.

With the public round unknown until ``draw_at`` and the entry set fixed from then on, re-filing to fish for
a lucky entry reference buys nothing, even for whoever can read the seed.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, Office, Release
from app.domain.errors import DrawPending
from app.domain.statuses import ReleaseStatus


def require_not_frozen(
    session: Session, request: AppointmentRequest, now: datetime, *, rejoining: bool = False
) -> None:
    """``409 draw_pending`` while a v2 draw this pending request enters is due and not complete.

    From ``draw_at`` until the draw completes, the entry set is fixed (a withdrawal, a lapse or a
    supersession would change it once the seed holder could know it), so the pool is fixed before the
    public round is out. Lapses and supersessions call this too. ``rejoining``: the change would make an
    offered or booked request pending again (declining its offer, the office cancelling its appointment),
    which would add it to that draw's entries.
    """
    if request.status != "pending" and not (rejoining and request.status in ("offered", "booked")):
        return
    due = session.exec(
        select(Release.id, Release.office_id).where(
            Release.service_id == request.service_id,
            Release.status == ReleaseStatus.SCHEDULED,
            Release.draw_at <= now,
            Release.draw_at > request.submitted_at,
            col(Release.beacon_round).is_not(None),
        )
    ).all()
    if not due:
        return
    codes = {
        o.id: o.code for o in session.exec(select(Office).where(col(Office.id).in_([d[1] for d in due])))
    }
    for release_id, office_id in due:
        if codes.get(office_id) in request.offices:
            raise DrawPending(
                f"release {release_id} is being drawn with this request among its entries; retry shortly",
                release_id=release_id,
            )
