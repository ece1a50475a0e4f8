"""Applicant requests: intake, status, offers, bookings. The access code opens one request, nothing else.

An agent's or partner's staff key may file a request too (``channel`` counter or partner), and a partner's
key opens the requests it filed as their access code does (``app.services.requests.access``).
"""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Path, Request, Response, status

from app.api.openapi import problem_responses
from app.domain.errors import NotFound
from app.domain.proofs.qr import qr_svg
from app.domain.statuses import BookingStatus
from app.http.deps import BearerDep, NowDep, RuntimeDep, SessionDep
from app.http.middleware import deadline_of
from app.runtime import Runtime
from app.schemas.requests import (
    PhoneCodeSent,
    PhoneVerificationCreate,
    RequestCreate,
    RequestCreated,
    RequestPublic,
)
from app.services.bookings import answers, calendar_files
from app.services.channels import filing
from app.services.intake import batch, verification
from app.services.operations import catalog
from app.services.requests import access
from app.services.requests.access import Opened
from app.services.requests.views import new_request_view, request_view
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import unit_of_work

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=RequestCreated,
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429, 503),
)
async def submit_request(
    data: RequestCreate, runtime: RuntimeDep, request: Request, code: BearerDep
) -> Response:
    """Submit a request; the answer holds the access code, shown this once.

    With an agent's or partner's key (Authorization: Bearer fsk_…) the request is filed for someone
    (``channel`` counter or partner), the key recorded as its filer; ``422 office_not_served`` when the
    key does not serve the office. ``distinct_person: true`` is honoured only from an ``agent`` key of the
    first office (a homonym whose documents the agent has seen), audit-logged; from anyone else it is
    ignored.
    """
    now = runtime.clock.now()
    if access.is_staff_key(code):
        assert code is not None
        filed = await anyio.to_thread.run_sync(_file_as_staff, runtime, code, data)
        return Response(filed.model_dump_json(), status_code=201, media_type="application/json")
    batcher = batch.batcher_for(request.app.state, runtime)
    stored, service, access_code, outcome = await batcher.submit(data, now, deadline_of(request.scope))
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


def _file_as_staff(runtime: Runtime, key: str, data: RequestCreate) -> RequestCreated:
    now = runtime.clock.now()
    with unit_of_work(runtime.engine) as session:
        staff = staff_keys.authenticate(session, key)
        stored, access_code = filing.file_request(
            session=session, staff=staff, data=data, pepper=runtime.pepper, now=now
        )
        view = request_view(session, stored, now)
    return RequestCreated(**view.model_dump(), access_code=access_code)


@router.get("/{request_id}", responses=problem_responses(401, 404, 422, 429))
def get_request(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> RequestPublic:
    """A request's status, weight, draws, offer and booking (Bearer: its access code, or the filing
    partner's key); the id may be the entry reference ``FS-XXXXX-XXXXX``."""
    request = access.open_request(session, request_id, code).request
    return request_view(session, request, now)


def _applicant(session: SessionDep, request_id: str, code: str | None) -> Opened:
    return access.open_request(session, request_id, code, purpose="act")


@router.post("/{request_id}/accept", responses=problem_responses(401, 404, 409, 422, 429))
def accept_offer(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Accept the open offer; the answer's ``booking`` holds the identity-bound token."""
    opened = _applicant(session, request_id, code)
    request = answers.answer(session, runtime, opened.request.id, "accept", now, opened.actor)
    return request_view(session, request, now)


@router.post("/{request_id}/confirm", responses=problem_responses(401, 404, 409, 422, 429))
def confirm_booking(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Confirm the booking inside ``[confirm_from, confirm_by)`` (twice: 200 again); ``409 not_confirmable``
    outside it or without a booking."""
    opened = _applicant(session, request_id, code)
    request = answers.answer(session, runtime, opened.request.id, "confirm", now, opened.actor)
    return request_view(session, request, now)


@router.post("/{request_id}/decline", responses=problem_responses(401, 404, 409, 422, 429))
def decline_offer(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Decline the open offer; the slot goes back to the draws and the request stays pending."""
    opened = _applicant(session, request_id, code)
    request = answers.answer(session, runtime, opened.request.id, "decline", now, opened.actor)
    return request_view(session, request, now)


@router.post("/{request_id}/cancel", responses=problem_responses(401, 404, 409, 422, 429))
def cancel_request(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Withdraw a pending request or cancel a booking (``409 not_cancellable`` once closed)."""
    opened = _applicant(session, request_id, code)
    request = answers.answer(session, runtime, opened.request.id, "cancel", now, opened.actor)
    return request_view(session, request, now)


@router.post("/{request_id}/booking/give-back", responses=problem_responses(401, 404, 409, 422, 429))
def give_back_booking(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> RequestPublic:
    """Give the booking back and keep one's place: the request is pending again with its waiting credit and
    the slot goes back to a draw; ``409 no_booking`` without a live booking, ``409 give_back_limit`` after
    two, ``409 too_late_to_give_back`` within 24 hours of ``confirm_by`` (or of the slot's start without a
    confirmation window), ``409 draw_pending`` while a draw's entries are frozen."""
    opened = _applicant(session, request_id, code)
    request = answers.answer(session, runtime, opened.request.id, "give-back", now, opened.actor)
    return request_view(session, request, now)


@router.post(
    "/{request_id}/phone-code",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(401, 404, 409, 422, 429),
)
def send_phone_code(
    request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep, runtime: RuntimeDep
) -> PhoneCodeSent:
    """Send a one-time code by SMS to the request's number (6 digits, valid 15 minutes).

    ``409 already_verified``; ``422`` naming ``contact.phone`` without a French mobile number; ``429
    too_many_codes`` (``retry_after``, ``limit``) within a minute of the last code, after 5 codes in 24
    hours for the request, or 10 for the number.
    """
    opened = _applicant(session, request_id, code)
    return verification.send_code(
        session=session,
        request_id=opened.request.id,
        now=now,
        secret=runtime.secret,
        pepper=runtime.pepper,
        actor=opened.actor,
    )


@router.post(
    "/{request_id}/phone-verification", responses=problem_responses(400, 401, 404, 409, 413, 422, 429)
)
def verify_phone(
    request_id: RequestId,
    data: PhoneVerificationCreate,
    session: SessionDep,
    code: BearerDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> RequestPublic:
    """Type back the code received by SMS: the request is verified (``method: "phone"``) and enters draws.

    ``422 code_invalid`` with ``tries_left``; ``429 code_locked`` after the fifth wrong try; ``409
    code_expired``; ``409 phone_in_use`` when the number already verifies ``max_requests_per_phone``
    active requests of the service; ``409 duplicate_person`` when the same person's request under another
    document was verified first; ``409 draw_pending`` while a draw's entries are frozen.
    """
    opened = _applicant(session, request_id, code)
    request = verification.verify_code(
        session=session,
        request_id=opened.request.id,
        code=data.code,
        now=now,
        secret=runtime.secret,
        actor=opened.actor,
    )
    return request_view(session, request, now)


@router.get(
    "/{request_id}/booking/qr.svg",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}}}, **problem_responses(401, 404, 422, 429)},
)
def booking_qr(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> Response:
    """The booking token as a QR code (SVG)."""
    request = access.open_request(session, request_id, code).request
    booking = request_view(session, request, now).booking
    if booking is None or booking.status != BookingStatus.BOOKED:
        raise NotFound("this request has no active booking")
    return Response(qr_svg(booking.token), media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get(
    "/{request_id}/booking.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, **problem_responses(401, 404, 422, 429)},
)
def booking_calendar(request_id: RequestId, session: SessionDep, code: BearerDep) -> Response:
    """The booking as a calendar file (RFC 5545): ``UID`` stable per booking, ``SEQUENCE`` raised on every
    change, ``STATUS:CANCELLED`` once it ended; 404 when the request never had a booking."""
    request = access.open_request(session, request_id, code).request
    return Response(
        calendar_files.request_calendar(session, request),
        media_type=calendar_files.MEDIA_TYPE,
        headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="booking.ics"'},
    )
