"""Per-channel and per-filer counts for staff (``Action.READ_STATISTICS``).

A partner key is trusted to answer for the people it files for; the check on that trust is that its
counts are watched. For each agent and partner key: how many requests it filed, how many are active,
booked, attended, and how many closed without an attendance (withdrawn, cancelled, no-show, superseded),
and when it last filed. A "partner" filing for a reseller shows up as many filings, few attendances.
Counts are exact (no personal data: labels name organisations and counters), service-wide.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import AppointmentRequest, StaffKey
from app.domain.access import Action
from app.domain.statuses import ACTIVE_REQUEST_STATUSES
from app.schemas.channel_stats import ChannelStatsPublic, FilerCounts
from app.services.staff.keys import StaffPrincipal

CLOSED_UNATTENDED = frozenset(
    {"withdrawn", "cancelled", "no_show", "superseded", "lapsed", "forfeited", "released"}
)


def channel_stats(*, session: Session, staff: StaffPrincipal) -> ChannelStatsPublic:
    """Requests by channel, and what each filing key filed."""
    staff.require(Action.READ_STATISTICS)
    rows = session.execute(
        sa_select(
            col(AppointmentRequest.channel),
            col(AppointmentRequest.filed_by),
            col(AppointmentRequest.status),
            func.count(),
            func.max(AppointmentRequest.submitted_at),
        ).group_by(
            col(AppointmentRequest.channel), col(AppointmentRequest.filed_by), col(AppointmentRequest.status)
        )
    ).all()
    by_channel: dict[str, int] = defaultdict(int)
    per_key: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    last: dict[int, datetime] = {}
    for channel, filed_by, status, count, latest in rows:
        by_channel[channel] += count
        if filed_by is not None:
            per_key[filed_by][status] += count
            if latest is not None and (filed_by not in last or latest > last[filed_by]):
                last[filed_by] = latest
    keys = {
        k.id: k
        for k in session.exec(select(StaffKey).where(col(StaffKey.id).in_(list(per_key)))).all()
        if k.id is not None
    }
    filers = [
        FilerCounts(
            key_id=key_id,
            role=keys[key_id].role,
            label=keys[key_id].label,
            offices=keys[key_id].offices,
            revoked=keys[key_id].revoked_at is not None,
            filed=sum(counts.values()),
            active=sum(n for s, n in counts.items() if s in ACTIVE_REQUEST_STATUSES),
            booked=counts.get("booked", 0),
            attended=counts.get("attended", 0),
            closed_unattended=sum(n for s, n in counts.items() if s in CLOSED_UNATTENDED),
            last_filed_at=last.get(key_id),
        )
        for key_id, counts in sorted(per_key.items(), key=lambda item: -sum(item[1].values()))
        if key_id in keys
    ]
    return ChannelStatsPublic(
        by_channel={c: by_channel.get(c, 0) for c in ("online", "counter", "partner")}, filers=filers
    )
