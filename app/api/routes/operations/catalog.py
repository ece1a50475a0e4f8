"""Offices and services."""

from __future__ import annotations

from fastapi import APIRouter, status

from app.api.openapi import problem_responses
from app.http.deps import SessionDep, StaffDep
from app.schemas.catalog import OfficeCreate, OfficePublic, ServiceCreate, ServicePublic
from app.services.operations import catalog

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
WRITE_ERRORS = problem_responses(400, 401, 403, 409, 413, 422, 429)


@router.get("/offices", response_model=list[OfficePublic])
def list_offices(session: SessionDep) -> list[OfficePublic]:
    """Every office."""
    return [OfficePublic.model_validate(o) for o in catalog.list_offices(session)]


@router.post("/offices", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_office(data: OfficeCreate, session: SessionDep, staff: StaffDep) -> OfficePublic:
    """Add an office (admin)."""
    return OfficePublic.model_validate(catalog.create_office(session=session, data=data, staff=staff))


@router.get("/services", response_model=list[ServicePublic])
def list_services(session: SessionDep) -> list[ServicePublic]:
    """Every service with its effective weight policy."""
    return [catalog.service_public(s) for s in catalog.list_services(session)]


@router.post("/services", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_service(data: ServiceCreate, session: SessionDep, staff: StaffDep) -> ServicePublic:
    """Add a service, optionally overriding the default weight policy (admin)."""
    return catalog.service_public(catalog.create_service(session=session, data=data, staff=staff))
