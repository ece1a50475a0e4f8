"""Releases of slots, their draws and the published draw records."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Body, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.runtime import Runtime
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.schemas.releases import (
    BeaconSource,
    DrawRequest,
    DrawSummary,
    ReleaseCreate,
    ReleaseCreated,
    ReleasePublic,
)
from app.services.beacons import rounds
from app.services.draws import documents, drawing, releases
from app.services.draws.releases import ReleaseView

router = APIRouter(prefix="/api/v1", tags=["releases"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _beacon(view: ReleaseView, runtime: Runtime, now: datetime) -> dict[str, Any]:
    source = view.beacon_source
    return {
        "beacon_source": BeaconSource(**source) if source else None,
        "beacon_trust": view.beacon_trust,
        "beacon_note": view.beacon_note,
        "beacon_status": view.beacon_status(now),
        "beacon_round_at": rounds.round_out_at(rounds.setup_for(runtime.settings), view.release),
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
        week=r.week,
        withdrawn_at=r.withdrawn_at,
        withdrawn_reason=r.withdrawn_reason,
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
        session=session,
        staff=staff,
        data=data,
        now=now,
        default_ttl_hours=runtime.settings.offer_ttl_hours,
        secret=runtime.secret,
        setup=rounds.setup_for(runtime.settings),
    )
    assert release.id is not None
    return release_created(releases.get_release(session, release.id), runtime, now)


def release_created(view: ReleaseView, runtime: Runtime, now: datetime) -> ReleaseCreated:
    """A new release as ``POST /releases`` answers it (also the answer of publishing a week)."""
    release = view.release
    assert release.id is not None
    return ReleaseCreated(
        **_beacon(view, runtime, now),
        id=release.id,
        status=release.status,
        seed_commitment=release.seed_commitment,
        slot_count=release.slot_count,
        draw_at=release.draw_at,
    )


def release_public(view: ReleaseView, runtime: Runtime, now: datetime) -> ReleasePublic:
    """A release as ``GET /releases/{id}`` shows it."""
    return _public(view, runtime, now)


@router.get("/releases", responses=problem_responses(422))
def list_releases(
    session: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    office: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN_ANY_CASE)] = None,
    service: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN_ANY_CASE)] = None,
    status: Annotated[str | None, Query(pattern="^(scheduled|drawn|withdrawn)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ReleasePublic]:
    """Releases, newest draw first: commitments before the draw, seeds after."""
    views = releases.list_releases(
        session,
        office=office.lower() if office else None,
        service=service.lower() if service else None,
        status=status,
        limit=limit,
        offset=offset,
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
    summary = drawing.draw_now(
        session=session,
        engine=runtime.engine,
        setup=rounds.setup_for(runtime.settings),
        release_id=release_id,
        beacon=(data.beacon if data else ""),
        now=now,
        staff=staff,
        secret=runtime.secret,
    )
    return DrawSummary(draw_id=summary.draw_id, entries=summary.entries, offered=summary.offered)


@router.get(
    "/draws/{draw_id}",
    responses={
        200: {
            "description": "The record (JSON; gzip when the client accepts it)",
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        206: {
            "description": "A byte range of the gzip form (``Range: bytes=…`` with ``Accept-Encoding: gzip``)"
        },
        304: {"description": "Not modified (``If-None-Match``)"},
        416: {"description": "Range not satisfiable"},
        **problem_responses(404, 422, 429, 503),
    },
    response_class=Response,
)
async def get_draw(draw_id: Id, runtime: RuntimeDep, request: Request) -> Response:
    """The published draw record (``fairslot-draw-v1``, or ``-v2`` with its beacon proof): all that
    recomputing it needs, no personal data.

    Served from the document stored at the draw: ``ETag`` and ``If-None-Match``; ``Content-Encoding: gzip``
    for clients that accept it, with byte ``Range`` requests on that form to resume a download."""
    document = await anyio.to_thread.run_sync(documents.load, runtime.engine, draw_id)
    return record_response(document, request)


def record_response(document: documents.Document, request: Request) -> Response:
    """The HTTP answer for a stored record, honouring ``If-None-Match``, ``Accept-Encoding`` and ``Range``."""
    gzip = _accepts_gzip(request.headers.get("accept-encoding", ""))
    etag = document.gzip_etag if gzip else document.etag
    headers = {
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Cache-Control": "public, max-age=300",
        "Accept-Ranges": "bytes" if gzip else "none",
    }
    wanted = request.headers.get("if-none-match", "")
    if wanted.strip() == "*" or etag in {tag.strip() for tag in wanted.split(",")}:
        return Response(status_code=304, headers=headers)
    if not gzip:
        return StreamingResponse(
            document.json_chunks(),
            media_type="application/json",
            headers={**headers, "Content-Length": str(document.size)},
        )
    body = document.gzip_body
    headers["Content-Encoding"] = "gzip"
    span = _range(request.headers.get("range"), request.headers.get("if-range"), etag, len(body))
    if span is None:
        return Response(body, media_type="application/json", headers=headers)
    if not span:
        return Response(status_code=416, headers={**headers, "Content-Range": f"bytes */{len(body)}"})
    first, last = span[0], span[-1]
    headers["Content-Range"] = f"bytes {first}-{last}/{len(body)}"
    return Response(body[first : last + 1], status_code=206, media_type="application/json", headers=headers)


def _accepts_gzip(accept_encoding: str) -> bool:
    for part in accept_encoding.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


_RANGE = re.compile(r"bytes=(\d{0,15})-(\d{0,15})")


def _range(
    header: str | None, if_range: str | None, etag: str, length: int
) -> tuple[int, int] | tuple[()] | None:
    """One satisfiable byte range, ``()`` for an unsatisfiable one, None to send the whole body (no range,
    several ranges, a stale ``If-Range``, or anything malformed: a server may always ignore Range)."""
    if header is None or (if_range is not None and if_range.strip() != etag):
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    if not match.group(1):  # the last N bytes
        suffix = int(match.group(2))
        return (max(0, length - suffix), length - 1) if suffix > 0 and length else ()
    first = int(match.group(1))
    last = int(match.group(2)) if match.group(2) else length - 1
    if first >= length or last < first:
        return ()
    return first, min(last, length - 1)
