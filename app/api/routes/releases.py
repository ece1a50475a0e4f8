"""Releases of slots, their draws and the published draw records."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, status
from fastapi.responses import StreamingResponse
from sqlmodel import Session

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.common import CODE_PATTERN
from app.schemas.releases import DrawRequest, DrawSummary, ReleaseCreate, ReleaseCreated, ReleasePublic
from app.services import draws, releases
from app.services.releases import ReleaseView

router = APIRouter(prefix="/api/v1", tags=["releases"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _public(view: ReleaseView) -> ReleasePublic:
    r = view.release
    return ReleasePublic(
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
    release = releases.create_release(
        session=session, staff=staff, data=data, now=now, default_ttl_hours=runtime.settings.offer_ttl_hours
    )
    return ReleaseCreated(
        id=release.id,
        status=release.status,
        seed_commitment=release.seed_commitment,
        slot_count=release.slot_count,
        draw_at=release.draw_at,
    )


@router.get("/releases", responses=problem_responses(422))
def list_releases(
    session: SessionDep,
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
    return [_public(v) for v in views]


@router.get("/releases/{release_id}", responses=problem_responses(404, 422))
def get_release(release_id: Id, session: SessionDep) -> ReleasePublic:
    """One release."""
    return _public(releases.get_release(session, release_id))


@router.post(
    "/releases/{release_id}/draw", responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429)
)
def draw_release(
    release_id: Id,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    data: Annotated[DrawRequest | None, Body()] = None,
) -> DrawSummary:
    """Run a due draw now, once (planner of the release's office)."""
    summary = draws.draw_release(
        session=session, release_id=release_id, beacon=(data.beacon if data else ""), now=now, staff=staff
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
    """The published draw record (``fairslot-draw-v1``): all that recomputing it needs, no personal data."""
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
