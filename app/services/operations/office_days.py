"""What makes an office's day: the public holidays of its region and the closures its planners entered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlmodel import Session, col, select

from app.db.models import Office, OfficeClosure
from app.domain.planning import regions


def holidays_of(office: Office, first: date, last: date, language: str = "fr") -> dict[date, str]:
    """The office's public holidays from ``first`` to ``last`` (``holidays.France(subdiv=holiday_region)``)."""
    return regions.holidays_between(office.holiday_region, first, last, language)


def closures_between(session: Session, office: Office, first: date, last: date) -> Sequence[OfficeClosure]:
    """The closures of the office that touch ``first`` to ``last``, oldest first."""
    return session.exec(
        select(OfficeClosure)
        .where(
            OfficeClosure.office_id == office.id,
            col(OfficeClosure.starts_on) <= last,
            col(OfficeClosure.ends_on) >= first,
        )
        .order_by(col(OfficeClosure.starts_on), col(OfficeClosure.id))
    ).all()


def closure_of(closures: Sequence[OfficeClosure], day: date) -> OfficeClosure | None:
    """The closure that rules ``day``: a full closure before any reduction, then the fewest desks."""
    ruling = [c for c in closures if c.starts_on <= day <= c.ends_on]
    if not ruling:
        return None
    return min(ruling, key=lambda c: (c.desks is not None, c.desks or 0, c.id or 0))


def desk_caps(closures: Sequence[OfficeClosure], first: date, last: date) -> dict[date, int]:
    """Per closed or reduced day from ``first`` to ``last``: the desks left (0: closed)."""
    caps: dict[date, int] = {}
    day = first
    while day <= last:
        closure = closure_of(closures, day)
        if closure is not None:
            caps[day] = closure.desks or 0
        day += timedelta(days=1)
    return caps
