"""Releases: a planner publishes slots of one office and service, drawn at ``draw_at``.

The seed is drawn when the release is created; its SHA-256 (the commitment) is public at once and the seed
itself is shown only after the draw, so nobody, staff included, can steer a draw after seeing the entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import Draw, Office, Release, Service, Slot
from app.domain import lottery
from app.domain.errors import InvalidInput, NotFound
from app.schemas.releases import MAX_SLOTS_PER_RELEASE, ReleaseCreate
from app.services import audit, catalog
from app.services.staff_keys import StaffPrincipal

#: How far in the past ``draw_at`` may be, to absorb clock skew between the planner and the server.
DRAW_AT_LEEWAY = timedelta(minutes=1)
#: How far ahead a release may be drawn and its slots start: two years is more than any office plans.
RELEASE_HORIZON = timedelta(days=2 * 366)


@dataclass(frozen=True)
class ReleaseView:
    """A release with the codes and draw id a reader needs."""

    release: Release
    office: Office
    service: Service
    draw_id: int | None

    @property
    def public_seed(self) -> str | None:
        """The seed, only once drawn."""
        return self.release.seed if self.release.status == "drawn" else None


def create_release(
    *, session: Session, staff: StaffPrincipal, data: ReleaseCreate, now: datetime, default_ttl_hours: int
) -> Release:
    """Validate and store a release with its slots and a fresh seed commitment."""
    office = catalog.office_by_code(session, data.office)
    service = catalog.service_by_code(session, data.service)
    staff.require_office(office.code)
    errors: list[dict[str, str]] = []
    if data.draw_at < now - DRAW_AT_LEEWAY:
        errors.append({"path": "draw_at", "message": "draw_at must not be in the past"})
    if data.draw_at > now + RELEASE_HORIZON:
        errors.append({"path": "draw_at", "message": "draw_at must be within two years"})
    seen: dict[datetime, int] = {}
    total = 0
    for index, slot in enumerate(data.slots):
        path = f"slots.{index}.starts_at"
        if slot.starts_at <= now:
            errors.append({"path": path, "message": "slots must start in the future"})
        if slot.starts_at > now + RELEASE_HORIZON:
            errors.append({"path": path, "message": "slots must start within two years"})
        if slot.starts_at <= data.draw_at:
            errors.append({"path": path, "message": "draw_at must be before the first slot"})
        if slot.starts_at in seen:
            errors.append({"path": path, "message": f"same start time as slots.{seen[slot.starts_at]}"})
        seen.setdefault(slot.starts_at, index)
        total += slot.desks
    if total > MAX_SLOTS_PER_RELEASE:
        errors.append({"path": "slots", "message": f"at most {MAX_SLOTS_PER_RELEASE} slots (desks included)"})
    if errors:
        raise InvalidInput("the release is not valid", errors=errors[:50])

    release = new_release(
        session=session,
        office=office,
        service=service,
        draw_at=data.draw_at,
        offer_ttl_hours=data.offer_ttl_hours or default_ttl_hours,
        created_by=staff.key_id,
        now=now,
    )
    length = timedelta(minutes=service.slot_minutes)
    assert release.id is not None
    slots = [
        Slot(
            release_id=release.id,
            office_id=release.office_id,
            service_id=release.service_id,
            starts_at=slot.starts_at,
            ends_at=slot.starts_at + length,
            desk=desk,
        )
        for slot in data.slots
        for desk in range(1, slot.desks + 1)
    ]
    session.add_all(slots)
    release.slot_count = len(slots)
    session.add(release)
    session.flush()
    audit.log(
        session,
        action="release.created",
        subject=f"release:{release.id}",
        actor=staff.actor,
        slots=len(slots),
        seed_commitment=release.seed_commitment,
    )
    return release


def new_release(
    *,
    session: Session,
    office: Office,
    service: Service,
    draw_at: datetime,
    offer_ttl_hours: int,
    now: datetime,
    created_by: int | None = None,
    kind: str = "release",
) -> Release:
    """A scheduled release with a fresh secret seed and its public commitment (no slots yet)."""
    seed = lottery.new_seed()
    assert office.id is not None and service.id is not None
    release = Release(
        office_id=office.id,
        service_id=service.id,
        kind=kind,
        draw_at=draw_at,
        seed=seed.hex(),
        seed_commitment=lottery.commitment(seed),
        offer_ttl_hours=offer_ttl_hours,
        created_by=created_by,
        created_at=now,
    )
    session.add(release)
    session.flush()
    return release


def _views(session: Session, releases: Sequence[Release]) -> list[ReleaseView]:
    if not releases:
        return []
    ids = [r.id for r in releases]
    offices = {o.id: o for o in session.exec(select(Office)).all()}
    services = {s.id: s for s in session.exec(select(Service)).all()}
    draws: dict[int, int] = dict(
        session.execute(
            sa_select(col(Draw.release_id), col(Draw.id)).where(col(Draw.release_id).in_(ids))
        ).all()
    )
    return [
        ReleaseView(r, offices[r.office_id], services[r.service_id], draws.get(r.id or 0)) for r in releases
    ]


def list_releases(
    session: Session,
    *,
    office: str | None = None,
    service: str | None = None,
    status: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[ReleaseView]:
    """Releases, newest draw time first, optionally filtered."""
    query = select(Release)
    if office is not None:
        query = query.join(Office, col(Office.id) == Release.office_id).where(Office.code == office)
    if service is not None:
        query = query.join(Service, col(Service.id) == Release.service_id).where(Service.code == service)
    if status is not None:
        query = query.where(Release.status == status)
    query = query.order_by(col(Release.draw_at).desc(), col(Release.id).desc()).offset(offset).limit(limit)
    return _views(session, session.exec(query).all())


def get_release(session: Session, release_id: int) -> ReleaseView:
    """One release (404 when unknown)."""
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    return _views(session, [release])[0]
