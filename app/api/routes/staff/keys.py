"""Staff keys: created by an admin, shown once, revocable."""

from __future__ import annotations

from fastapi import APIRouter, Path, Response, status

from app.api.openapi import problem_responses
from app.http.deps import SessionDep, StaffDep
from app.schemas.staff import StaffKeyCreate, StaffKeyCreated
from app.services.staff import keys as staff_keys

router = APIRouter(prefix="/api/v1/staff-keys", tags=["staff"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(400, 401, 403, 413, 422, 429)
)
def create_staff_key(data: StaffKeyCreate, session: SessionDep, staff: StaffDep) -> StaffKeyCreated:
    """Create a staff key; the key is in this answer only (admin)."""
    row, key = staff_keys.create_key(session=session, data=data, staff=staff)
    return StaffKeyCreated(
        id=row.id,
        key=key,
        role=row.role,
        offices=row.offices,
        label=row.label,
        created_at=row.created_at,
    )


@router.delete(
    "/{key_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429),
)
def revoke_staff_key(
    session: SessionDep, staff: StaffDep, key_id: int = Path(ge=1, le=2**31 - 1)
) -> Response:
    """Revoke a staff key at once (admin)."""
    staff_keys.revoke_key(session=session, key_id=key_id, staff=staff)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
