"""Recurring release rules, and withdrawing a release before its draw."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.api.openapi import problem_responses
from app.api.routes.draws.releases import release_public
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.common import CODE_PATTERN_ANY_CASE
from app.schemas.planning import ReleaseRuleCreate, ReleaseRulePublic, ReleaseWithdraw
from app.schemas.releases import ReleasePublic
from app.services.operations import release_rules, withdrawals

router = APIRouter(prefix="/api/v1", tags=["operations"])
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "/release-rules",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 413, 422, 429),
)
def create_rule(
    data: ReleaseRuleCreate, session: SessionDep, staff: StaffDep, now: NowDep
) -> ReleaseRulePublic:
    """A recurring release (planner of the office): every ``publish_weekday`` at ``publish_time``
    (office-local) the scheduler publishes the ISO week beginning ``weeks_ahead`` weeks after the Monday of
    the publication's week, drawn ``draw_after_hours`` after publication, exactly once whatever the number of
    workers; a week with nothing to publish is skipped. 422 when the draw would fall after its week starts."""
    return release_rules.create_rule(session=session, staff=staff, data=data, now=now).public()


@router.get("/release-rules", responses=problem_responses(401, 403, 422, 429))
def list_rules(
    session: SessionDep,
    staff: StaffDep,
    office: Annotated[str | None, Query(max_length=32, pattern=CODE_PATTERN_ANY_CASE)] = None,
) -> list[ReleaseRulePublic]:
    """The rules in force of an office, or of every office the key reaches (planners, auditors, admins)."""
    return [view.public() for view in release_rules.list_rules(session=session, staff=staff, office=office)]


@router.delete(
    "/release-rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429),
)
def delete_rule(rule_id: Id, session: SessionDep, staff: StaffDep, now: NowDep) -> Response:
    """Stop a rule's future publications (planner of the office); the releases it published stay."""
    release_rules.delete_rule(session=session, staff=staff, rule_id=rule_id, now=now)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/releases/{release_id}/withdraw", responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429)
)
def withdraw_release(
    release_id: Id,
    data: ReleaseWithdraw,
    session: SessionDep,
    staff: StaffDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> ReleasePublic:
    """Withdraw a release before its draw (planner of the office): ``status: "withdrawn"``, never drawn, its
    week free to publish again; ``409 already_drawn`` after the draw."""
    view = withdrawals.withdraw_release(
        session=session, staff=staff, release_id=release_id, reason=data.reason, now=now
    )
    return release_public(view, runtime, now)
