"""Releases: a planner publishes slots of one office and service, drawn at ``draw_at``.

The seed is drawn when the release is created; its SHA-256 (the commitment) is public at once and the seed
itself is shown only after the draw, so nobody, staff included, can steer a draw after seeing the entries.
Until then it is stored encrypted with the service secret (``app.domain.proofs.seed_seal``). A release also fixes
its public beacon source (``fairslot-draw-v2``): the first round of the configured drand chain at or after
``draw_at`` (never earlier than the release's making), whose randomness nobody can know before then (see
``app.services.beacons.rounds``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.db.models import Draw, Office, Release, Service, Slot
from app.domain.access import Action
from app.domain.draws import lottery
from app.domain.draws.beacon import TRUST_LABELS, TRUST_NONE, Chain
from app.domain.errors import AlreadyDrawn, InvalidInput, NotFound, ReleaseWithdrawn
from app.domain.proofs import seed_seal
from app.domain.statuses import ReleaseStatus
from app.schemas.releases import MAX_SLOTS_PER_RELEASE, ReleaseCreate
from app.services import audit
from app.services.beacons import rounds
from app.services.operations import catalog
from app.services.staff.keys import StaffPrincipal

#: How far in the past ``draw_at`` may be, to absorb clock skew between the planner and the server; such a
#: release draws from the moment it is made (``new_release``).
DRAW_AT_LEEWAY = timedelta(minutes=1)
#: A hair after "now": a ``draw_at`` already passed becomes this, so the first round at or after it is one
#: published after the release is made, never one already public.
_JUST_AFTER = timedelta(microseconds=1)
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
        return self.release.seed if self.release.status == ReleaseStatus.DRAWN else None

    @property
    def beacon_source(self) -> dict[str, Any] | None:
        """The public beacon source fixed at creation (None for a v1 release)."""
        return rounds.release_source(self.release)

    @property
    def beacon_trust(self) -> str:
        """``public``, ``local`` or ``none``."""
        return self.release.beacon_trust

    @property
    def beacon_note(self) -> str:
        """What the beacon proves, in a sentence (shown with every release)."""
        return TRUST_LABELS.get(self.release.beacon_trust, TRUST_LABELS[TRUST_NONE])

    def beacon_status(self, now: datetime) -> str:
        """``none`` (v1), ``fixed`` (before draw_at), ``waiting`` (for the public round), ``ready`` or ``used``."""
        release = self.release
        if release.beacon_round is None:
            return "none"
        if release.status == "drawn":
            return "used"
        if release.beacon_randomness is not None:
            return "ready"
        return "waiting" if now >= release.draw_at else "fixed"


def create_release(
    *,
    session: Session,
    staff: StaffPrincipal,
    data: ReleaseCreate,
    now: datetime,
    default_ttl_hours: int,
    secret: bytes,
    setup: rounds.BeaconSetup,
) -> Release:
    """Validate and store a release with its slots and a fresh seed commitment."""
    staff.require(Action.PUBLISH_RELEASE)
    office = catalog.office_by_code(session, data.office)
    service = catalog.service_by_code(session, data.service)
    staff.require(Action.PUBLISH_RELEASE, office=office.code)
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
        secret=secret,
        chain=setup.chain_for(service),
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
        office=office.code,
        slots=len(slots),
        seed_commitment=release.seed_commitment,
        beacon_source=rounds.release_source(release),
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
    secret: bytes,
    chain: Chain | None,
    created_by: int | None = None,
    kind: str = "release",
) -> Release:
    """A scheduled release with a fresh sealed seed, its public commitment and beacon source (no slots yet).

    A ``draw_at`` not after ``now`` (a planner's clock a little behind) draws from the moment the release is
    made: it is stored as just after ``now``, so its round (the first at or after ``draw_at``) comes out after
    the seed is committed, and a verifier's rule, the first round at or after ``draw_at``, holds as written.
    """
    draw_at = max(draw_at, now + _JUST_AFTER)
    seed = lottery.new_seed()
    promised = lottery.commitment(seed)
    assert office.id is not None and service.id is not None
    release = Release(
        office_id=office.id,
        service_id=service.id,
        kind=kind,
        draw_at=draw_at,
        seed=None,
        seed_sealed=seed_seal.seal(secret, seed, promised),
        seed_commitment=promised,
        offer_ttl_hours=offer_ttl_hours,
        created_by=created_by,
        created_at=now,
    )
    if chain is not None:
        release.beacon_chain = chain.chain_hash
        release.beacon_round = chain.round_at(draw_at)
        release.beacon_trust = chain.trust
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


def lock_undrawn(session: Session, staff: StaffPrincipal, action: Action, release_id: int) -> Release:
    """The release, its row locked, for a staff member who may ``action`` in that office:
    404 for no such release, then ``already_drawn`` or ``release_withdrawn`` once it has left the schedule.
    The role is checked before anything is read (a key that may never act learns nothing, not even whether
    the release exists), the office once the row is locked."""
    staff.require(action)
    release = session.exec(
        select(Release).where(Release.id == release_id).with_for_update(key_share=True)
    ).first()
    if release is None:
        raise NotFound(f"no release {release_id}")
    session.refresh(release)
    office = session.get(Office, release.office_id)
    assert office is not None
    staff.require(action, office=office.code)
    if release.status == ReleaseStatus.DRAWN:
        raise AlreadyDrawn(f"release {release_id} was drawn at {release.drawn_at}")
    if release.status == ReleaseStatus.WITHDRAWN:
        raise ReleaseWithdrawn(f"release {release_id} was withdrawn at {release.withdrawn_at}")
    return release


def get_release(session: Session, release_id: int) -> ReleaseView:
    """One release (404 when unknown)."""
    release = session.get(Release, release_id)
    if release is None:
        raise NotFound(f"no release {release_id}")
    return _views(session, [release])[0]
