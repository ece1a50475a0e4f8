"""Releases of slots, their draws and the published draw records."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Query, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.runtime import Runtime
from app.schemas.common import CODE_PATTERN
from app.schemas.releases import (
    BeaconSource,
    DrawRequest,
    DrawSummary,
    ReleaseCreate,
    ReleaseCreated,
    ReleasePublic,
)
from app.services import beacons, draws, releases
from app.services.releases import ReleaseView

router = APIRouter(prefix="/api/v1", tags=["releases"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _beacon(view: ReleaseView, runtime: Runtime, now: datetime) -> dict[str, Any]:
    source = view.beacon_source
    return {
        "beacon_source": BeaconSource(**source) if source else None,
        "beacon_trust": view.beacon_trust,
        "beacon_note": view.beacon_note,
        "beacon_status": view.beacon_status(now),
        "beacon_round_at": beacons.round_out_at(beacons.setup_for(runtime.settings), view.release),
    }


def _public(view: ReleaseView, runtime: Runtime, now: datetime) -> ReleasePublic:
    r = view.release
    return ReleasePublic(
        **_beacon(view, runtime, now),
        id=r.id,
        office=view.office.code,
        service=view.service.code,
        kind=r.kind,
        status=r.status,
        draw_at=r.draw_at,
        offer_ttl_hours=r.offer_ttl_hours,
        slot_count=r.slot_count,
        seed_commitment=r.seed_commitment,
        seed=view.public_seed,
        draw_id=view.draw_id,
        drawn_at=r.drawn_at,
    )


@router.post(
    "/releases",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 413, 422, 429),
)
def create_release(
    data: ReleaseCreate, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> ReleaseCreated:
    """Publish slots of an office and service, drawn at ``draw_at``; the seed commitment is public at once."""
    staff.require_role("planner")
    release = releases.create_release(
        session=session,
        staff=staff,
        data=data,
        now=now,
        default_ttl_hours=runtime.settings.offer_ttl_hours,
        secret=runtime.secret,
        setup=beacons.setup_for(runtime.settings),
    )
    assert release.id is not None
    return ReleaseCreated(
        **_beacon(releases.get_release(session, release.id), runtime, now),
        id=release.id,
        status=release.status,
        seed_commitment=release.seed_commitment,
        slot_count=release.slot_count,
        draw_at=release.draw_at,
    )


@router.get("/releases", responses=problem_responses(422))
def list_releases(
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    office: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN)] = None,
    service: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN)] = None,
    status: Annotated[str | None, Query(pattern="^(scheduled|drawn)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ReleasePublic]:
    """Releases, newest draw first: commitments before the draw, seeds after."""
    views = releases.list_releases(
        session, office=office, service=service, status=status, limit=limit, offset=offset
    )
    return [_public(v, runtime, now) for v in views]


@router.get("/releases/{release_id}", responses=problem_responses(404, 422))
def get_release(release_id: Id, session: SessionDep, runtime: RuntimeDep, now: NowDep) -> ReleasePublic:
    """One release, with its beacon source and what it proves."""
    return _public(releases.get_release(session, release_id), runtime, now)


@router.post(
    "/releases/{release_id}/draw",
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429, 503),
)
def draw_release(
    release_id: Id,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    runtime: RuntimeDep,
    data: Annotated[DrawRequest | None, Body()] = None,
) -> DrawSummary:
    """Run a due draw now, once (planner of the release's office).

    A release with a public round draws with that round only: ``409 beacon_pending`` before it is out,
    ``503 beacon_unavailable`` while no relay gives it with a valid signature, 422 for a free-text beacon.
    """
    staff.require_role("planner")
    view = releases.get_release(session, release_id)
    staff.require_office(view.office.code)
    summary = draws.draw_now(
        session=session,
        engine=runtime.engine,
        setup=beacons.setup_for(runtime.settings),
        release_id=release_id,
        beacon=(data.beacon if data else ""),
        now=now,
        actor=staff.actor,
        secret=runtime.secret,
    )
    return DrawSummary(draw_id=summary.draw_id, entries=summary.entries, offered=summary.offered)


@router.get(
    "/draws/{draw_id}",
    responses={
        200: {"content": {"application/json": {"schema": {"type": "object"}}}},
        **problem_responses(404, 422),
    },
    response_class=StreamingResponse,
)
def get_draw(draw_id: Id, runtime: RuntimeDep) -> StreamingResponse:
    """The published draw record (``fairslot-draw-v1``, or ``-v2`` with its beacon proof): all that
    recomputing it needs, no personal data."""
    session = Session(runtime.engine)
    try:
        draw = draws.get_draw(session, draw_id)
    except Exception:
        session.close()
        raise

    def chunks() -> Iterator[str]:
        try:
            yield from draws.record_json_chunks(session, draw)
        finally:
            session.close()

    return StreamingResponse(chunks(), media_type="application/json")
