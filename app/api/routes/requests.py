"""Applicant requests: intake, status, offers, bookings. The access code opens one request, nothing else."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from app.api.openapi import problem_responses
from app.domain.errors import NotFound
from app.domain.qr import qr_svg
from app.domain.statuses import BookingStatus
from app.http.deps import BearerDep, NowDep, RuntimeDep, SessionDep
from app.schemas.requests import RequestCreate, RequestCreated, RequestPublic
from app.services import cancellations, catalog, intake_batch, offers, requests
from app.services.request_views import new_request_view, request_view

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestCreated,
    responses=problem_responses(400, 409, 413, 422, 429),
)
async def submit_request(data: RequestCreate, runtime: RuntimeDep, request: Request) -> Response:
    """Submit a request; the answer holds the access code, shown this once."""
    now = runtime.clock.now()
    batcher = intake_batch.batcher_for(request.app.state, runtime)
    stored, service, access_code, last_no_show = await batcher.submit(data, now)
    first_office = catalog.cached_office(runtime.engine, data.offices[0])
    assert first_office is not None  # the batcher checked (and so cached) every office
    view = new_request_view(stored, service, first_office, last_no_show, now)
    created = RequestCreated(**view.model_dump(), access_code=access_code)
    # Serialised once here rather than validated again against the response model: intake's hot path.
    return Response(created.model_dump_json(), status_code=201, media_type="application/json")


@router.get("/{request_id}", responses=problem_responses(401, 404, 422, 429))
def get_request(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> RequestPublic:
    """A request's status, weight, draws, offer and booking (Authorization: Bearer <access code>)."""
    request = requests.authenticate(session, request_id, code)
    return request_view(session, request, now)


def _applicant(session: SessionDep, request_id: str, code: str | None) -> str:
    return requests.authenticate(session, request_id, code).id


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
    request = cancellations.cancel(
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
    request = requests.authenticate(session, request_id, code)
    booking = request_view(session, request, now).booking
    if booking is None or booking.status != BookingStatus.BOOKED:
        raise NotFound("this request has no active booking")
    return Response(qr_svg(booking.token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})
