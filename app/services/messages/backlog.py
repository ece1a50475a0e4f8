"""The outbox seen by staff (admin, auditor): backlog and failure rate per channel."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app.db.models import OutboxMessage
from app.domain.access import Action
from app.schemas.outbox import OutboxChannelPublic, OutboxPublic
from app.services.staff.keys import StaffPrincipal

#: Outcomes are counted over this window (the backlog is counted whatever its age).
WINDOW = timedelta(days=7)
CHANNELS = ("email", "sms")


def summary(*, session: Session, staff: StaffPrincipal, now: datetime) -> OutboxPublic:
    """Per channel: queued and due messages, the oldest queued, and the last week's outcomes."""
    staff.require(Action.READ_OUTBOX)
    since = now - WINDOW
    pending = col(OutboxMessage.status) == "pending"
    rows = session.execute(
        sa_select(
            col(OutboxMessage.channel),
            func.sum(case((pending, 1), else_=0)),
            func.sum(case((pending & (col(OutboxMessage.next_attempt_at) <= now), 1), else_=0)),
            func.min(case((pending, col(OutboxMessage.created_at)), else_=None)),
            func.sum(case((pending & (col(OutboxMessage.attempts) > 0), 1), else_=0)),
            func.sum(
                case(
                    ((col(OutboxMessage.status) == "sent") & (col(OutboxMessage.created_at) >= since), 1),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    (
                        (col(OutboxMessage.status) == "delivered") & (col(OutboxMessage.created_at) >= since),
                        1,
                    ),
                    else_=0,
                )
            ),
            func.sum(
                case(
                    ((col(OutboxMessage.status) == "failed") & (col(OutboxMessage.created_at) >= since), 1),
                    else_=0,
                )
            ),
        ).group_by(col(OutboxMessage.channel))
    ).all()
    found = {row[0]: row for row in rows}
    channels = []
    for channel in CHANNELS:
        _c, queued, due, oldest, retrying, sent, delivered, failed = found.get(
            channel, (channel, 0, 0, None, 0, 0, 0, 0)
        )
        settled = int(sent or 0) + int(delivered or 0) + int(failed or 0)
        channels.append(
            OutboxChannelPublic(
                channel=channel,
                queued=int(queued or 0),
                due=int(due or 0),
                oldest_queued_at=oldest,
                retrying=int(retrying or 0),
                sent=int(sent or 0),
                delivered=int(delivered or 0),
                failed=int(failed or 0),
                failure_rate=round(int(failed or 0) / settled, 4) if settled else None,
            )
        )
    return OutboxPublic(as_of=now, since=since, channels=channels)
