"""Applicant requests: intake, status, offers, bookings. The access code opens one request, nothing else."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.deps import BearerDep, NowDep, RuntimeDep, SessionDep
from app.api.schemas.common import problem_responses
from app.api.schemas.requests import RequestCreate, RequestCreated, RequestPublic
from app.services import intake
from app.services.request_views import request_view

router = APIRouter(prefix="/api/v1/requests", tags=["requests"])
RequestId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(400, 409, 413, 422, 429))
def submit_request(
    data: RequestCreate, session: SessionDep, runtime: RuntimeDep, now: NowDep
) -> RequestCreated:
    """Submit a request; the answer holds the access code, shown this once."""
    request, access_code = intake.submit_request(session=session, data=data, pepper=runtime.pepper, now=now)
    view = request_view(session, request, now)
    return RequestCreated(**view.model_dump(), access_code=access_code)


@router.get("/{request_id}", responses=problem_responses(401, 404, 422, 429))
def get_request(request_id: RequestId, session: SessionDep, code: BearerDep, now: NowDep) -> RequestPublic:
    """A request's status, weight, draws, offer and booking (Authorization: Bearer <access code>)."""
    request = intake.authenticate(session, request_id, code)
    return request_view(session, request, now)
