"""Applicant requests: intake, status, offers, bookings. The access code opens one request, nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response, status
from sqlmodel import Session

from app.api.openapi import problem_responses
from app.domain.access import Action
from app.domain.errors import FairslotError, NotFound
from app.domain.qr import qr_svg
from app.http.deps import BearerDep, NowDep, RuntimeDep, SessionDep
from app.runtime import Runtime
from app.schemas.requests import RequestCreate, RequestCreated, RequestPublic
from app.services import catalog, intake, intake_batch, offers, staff_keys
from app.services.request_views import new_request_view, request_view

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestCreated,
    responses=problem_responses(400, 409, 413, 422, 429),
)
async def submit_request(
    data: RequestCreate, runtime: RuntimeDep, request: Request, credential: BearerDep
) -> Response:
    """Submit a request; the answer holds the access code, shown this once.

    ``distinct_person: true`` is honoured only from an ``agent`` key of the first office (a homonym whose
    documents the agent has seen), audit-logged; from anyone else it is ignored.
    """
    now = runtime.clock.now()
    actor, distinct = "applicant", False
    if data.distinct_person and credential and credential.startswith(staff_keys.KEY_PREFIX):
        actor, distinct = await anyio.to_thread.run_sync(_override, runtime, credential, data.offices[0])
    batcher = intake_batch.batcher_for(request.app.state, runtime)
    stored, service, access_code, outcome = await batcher.submit(
        data, now, actor=actor, distinct_person=distinct
    )
    first_office = catalog.cached_office(runtime.engine, data.offices[0])
    assert first_office is not None  # the batcher checked (and so cached) every office
    view = new_request_view(
        stored,
        service,
        first_office,
        outcome.last_no_show,
        now,
        strict_vulnerability=outcome.strict_vulnerability,
    )
    created = RequestCreated(**view.model_dump(), access_code=access_code)
    # Serialised once here rather than validated again against the response model: intake's hot path.
    return Response(created.model_dump_json(), status_code=201, media_type="application/json")


def _override(runtime: Runtime, credential: str, office: str) -> tuple[str, bool]:
    """Who files the request, and whether its ``distinct_person`` is honoured (an agent of ``office``)."""
    with Session(runtime.engine) as session:
        try:
            staff = staff_keys.authenticate(session, credential)
        except FairslotError:
            return "applicant", False
    if staff.can(Action.OVERRIDE_DUPLICATE_PERSON, office=office):
        return staff.actor, True
    return "applicant", False


@router.get("/{request_id}", responses=problem_responses(401, 404, 422, 429))
def get_request(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> RequestPublic:
    """A request's status, weight, draws, offer and booking (Authorization: Bearer <access code>)."""
    request = intake.authenticate(session, request_id, code)
    return request_view(session, request, now)


def _applicant(session: SessionDep, request_id: str, code: str | None) -> str:
    return intake.authenticate(session, request_id, code).id


@router.post("/{request_id}/accept", responses=problem_responses(404, 409, 422, 429))
def accept_offer(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Accept the open offer; the answer's ``booking`` holds the identity-bound token."""
    request = offers.accept(
        session=session,
        request_id=_applicant(session, request_id, code),
        now=now,
        secret=runtime.secret,
        token_grace=timedelta(minutes=runtime.settings.no_show_grace_minutes),
    )
    return request_view(session, request, now)


@router.post("/{request_id}/decline", responses=problem_responses(404, 409, 422, 429))
def decline_offer(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Decline the open offer; the slot goes back to the draws and the request stays pending."""
    request = offers.decline(
        session=session,
        request_id=_applicant(session, request_id, code),
        now=now,
        redraw_within=runtime.settings.redraw_within,
    )
    return request_view(session, request, now)


@router.post("/{request_id}/cancel", responses=problem_responses(404, 409, 422, 429))
def cancel_request(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Withdraw a pending request or cancel a booking (``409 not_cancellable`` once closed)."""
    request = offers.cancel(
        session=session,
        request_id=_applicant(session, request_id, code),
        now=now,
        redraw_within=runtime.settings.redraw_within,
    )
    return request_view(session, request, now)


@router.get(
    "/{request_id}/booking/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problem_responses(404, 422, 429)},
)
def booking_qr(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> Response:
    """The booking token as a QR code (SVG)."""
    request = intake.authenticate(session, request_id, code)
    booking = request_view(session, request, now).booking
    if booking is None or booking.status != "booked":
        raise NotFound("this request has no active booking")
    return Response(qr_svg(booking.token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
