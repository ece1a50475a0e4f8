"""Offices and services, with their practical information."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.openapi import problem_responses
from app.http.deps import SessionDep, StaffDep
from app.schemas.catalog import (
    OfficeCreate,
    OfficePublic,
    OfficeUpdate,
    ServiceCreate,
    ServicePublic,
    ServiceUpdate,
)
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.services.operations import catalog

router = APIRouter(prefix="/api/v1", tags=["catalogue"])
WRITE_ERRORS = problem_responses(400, 401, 403, 409, 413, 422, 429)
EDIT_ERRORS = problem_responses(400, 401, 403, 404, 413, 422, 429)
CodePath = Annotated[str, Path(max_length=32, pattern=CODE_PATTERN_ANY_CASE)]


@router.get("/offices", response_model=list[OfficePublic])
def list_offices(session: SessionDep) -> list[OfficePublic]:
    """Every office, with its address, phone, access notes and holiday region."""
    return [catalog.office_public(o) for o in catalog.list_offices(session)]


@router.post("/offices", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_office(data: OfficeCreate, session: SessionDep, staff: StaffDep) -> OfficePublic:
    """Add an office (admin)."""
    return catalog.office_public(catalog.create_office(session=session, data=data, staff=staff))


@router.patch("/offices/{code}", responses=EDIT_ERRORS)
def update_office(code: CodePath, data: OfficeUpdate, session: SessionDep, staff: StaffDep) -> OfficePublic:
    """Change an office's name and practical information (admin): the members given; null clears one."""
    return catalog.office_public(catalog.update_office(session=session, code=code, data=data, staff=staff))


@router.get("/services", response_model=list[ServicePublic])
def list_services(session: SessionDep) -> list[ServicePublic]:
    """Every service with its names, papers to bring and effective weight policy."""
    return [catalog.service_public(s) for s in catalog.list_services(session)]


@router.post("/services", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS)
def create_service(data: ServiceCreate, session: SessionDep, staff: StaffDep) -> ServicePublic:
    """Add a service, optionally overriding the default weight policy (admin)."""
    return catalog.service_public(catalog.create_service(session=session, data=data, staff=staff))


@router.patch("/services/{code}", responses=EDIT_ERRORS)
def update_service(
    code: CodePath, data: ServiceUpdate, session: SessionDep, staff: StaffDep
) -> ServicePublic:
    """Change a service's names, papers to bring, slot length or rules (admin); ``weight_policy`` changes
    the rules it names and keeps the others."""
    return catalog.service_public(catalog.update_service(session=session, code=code, data=data, staff=staff))
