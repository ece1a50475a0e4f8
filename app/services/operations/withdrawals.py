"""Withdrawing a release before its draw: published by mistake, or for a week the office will not open.

The release row is locked as the draw locks it, so a withdrawal and a draw never both happen: once drawn,
``409 already_drawn``. A withdrawn release is never drawn, its seed never revealed, and its week may be
published again. Slots that came back from earlier draws and were waiting in it go back to the re-draws.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from app.db.models import Offer, Slot
from app.domain.access import Action
from app.domain.errors import InvalidInput
from app.domain.statuses import ReleaseKind, ReleaseStatus
from app.services import audit
from app.services.draws import releases
from app.services.staff.keys import StaffPrincipal


def withdraw_release(
    *, session: Session, staff: StaffPrincipal, release_id: int, reason: str, now: datetime
) -> releases.ReleaseView:
    """Withdraw a scheduled release (a planner of its office)."""
    release = releases.lock_undrawn(session, staff, Action.WITHDRAW_RELEASE, release_id)
    if release.kind != ReleaseKind.RELEASE:
        raise InvalidInput(
            "a re-draw of returned slots is not withdrawn: close the days instead",
            errors=[{"path": "release_id", "message": "only a planner's release can be withdrawn"}],
        )
    release.status = ReleaseStatus.WITHDRAWN
    release.withdrawn_at = now
    release.withdrawn_reason = reason
    session.add(release)
    # Slots an earlier draw offered, that came back and joined this release: back to the re-draws.
    returned = session.exec(
        select(Slot)
        .where(Slot.release_id == release.id, col(Slot.closed_at).is_(None))
        .where(col(Slot.id).in_(select(Offer.slot_id)))
        .with_for_update(key_share=True)
    ).all()
    for slot in returned:
        slot.returned_at = now
        session.add(slot)
    session.flush()
    audit.log(
        session,
        action="release.withdrawn",
        subject=f"release:{release.id}",
        actor=staff.actor,
        reason=reason,
        week=release.week,
        returned_slots=len(returned),
    )
    return releases.get_release(session, release_id)
