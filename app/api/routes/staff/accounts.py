"""Named staff accounts (admin): invite, list, change roles or status, keys of an account, a new invitation,
a second factor reset, ending sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.openapi import problem_responses
from app.http.deps import NowDep, RuntimeDep, SessionDep, StaffDep
from app.schemas.staff import (
    InvitationIssued,
    SessionsEnded,
    StaffAccountCreate,
    StaffAccountCreated,
    StaffAccountList,
    StaffAccountPublic,
    StaffAccountUpdate,
    StaffKeyCreate,
    StaffKeyCreated,
)
from app.services.staff import accounts

router = APIRouter(prefix="/api/v1/staff-accounts", tags=["staff"])
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@router.post(
    "", status_code=status.HTTP_201_CREATED, responses=problem_responses(400, 401, 403, 409, 413, 422, 429)
)
def create_staff_account(
    data: StaffAccountCreate, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> StaffAccountCreated:
    """Invite a member of staff: the invitation link is in this answer only (valid 72 hours, also e-mailed);
    409 ``already_exists`` when the e-mail has an account (admin)."""
    account, issued = accounts.create_account(
        session=session,
        staff=staff,
        data=data,
        now=now,
        public_url=runtime.settings.public_url,
        secret=runtime.secret,
    )
    return StaffAccountCreated(
        **account.model_dump(),
        invitation_url=issued.invitation_url,
        invitation_expires_at=issued.invitation_expires_at,
    )


@router.get("", responses=problem_responses(401, 403, 429))
def list_staff_accounts(session: SessionDep, staff: StaffDep) -> StaffAccountList:
    """Every account, by e-mail (admin)."""
    return StaffAccountList(items=accounts.list_accounts(session=session, staff=staff))


@router.get("/{account_id}", responses=problem_responses(401, 403, 404, 422, 429))
def get_staff_account(account_id: AccountId, session: SessionDep, staff: StaffDep) -> StaffAccountPublic:
    """One account (admin)."""
    return accounts.get_account(session=session, staff=staff, account_id=account_id)


@router.patch("/{account_id}", responses=problem_responses(400, 401, 403, 404, 413, 422, 429))
def update_staff_account(
    account_id: AccountId, data: StaffAccountUpdate, session: SessionDep, staff: StaffDep, now: NowDep
) -> StaffAccountPublic:
    """Change the roles or the name; ``status: "disabled"`` stops every session and key of the account at once,
    ``"active"`` enables it again (admin)."""
    return accounts.update_account(session=session, staff=staff, account_id=account_id, data=data, now=now)


@router.post(
    "/{account_id}/keys",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429),
)
def create_account_key(
    account_id: AccountId, data: StaffKeyCreate, session: SessionDep, staff: StaffDep
) -> StaffKeyCreated:
    """A key for the account, with a role and offices within the account's; shown once, it dies with the
    account (admin)."""
    row, key = accounts.create_key(session=session, staff=staff, account_id=account_id, data=data)
    assert row.id is not None
    return StaffKeyCreated(
        id=row.id, key=key, role=row.role, offices=row.offices, label=row.label, created_at=row.created_at
    )


@router.post("/{account_id}/invitation", responses=problem_responses(401, 403, 404, 422, 429))
def reinvite_staff_account(
    account_id: AccountId, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> InvitationIssued:
    """A new invitation link, shown once and e-mailed; earlier links stop. Also how a forgotten password is
    reset (admin)."""
    return accounts.reinvite(
        session=session,
        staff=staff,
        account_id=account_id,
        now=now,
        public_url=runtime.settings.public_url,
        secret=runtime.secret,
    )


@router.post("/{account_id}/second-factor-reset", responses=problem_responses(401, 403, 404, 422, 429))
def reset_second_factor(
    account_id: AccountId, session: SessionDep, staff: StaffDep, now: NowDep, runtime: RuntimeDep
) -> InvitationIssued:
    """Forget the account's TOTP secret and end its sessions; the answer holds the link to enrol a new one
    (shown once, e-mailed) (admin)."""
    return accounts.reset_second_factor(
        session=session,
        staff=staff,
        account_id=account_id,
        now=now,
        public_url=runtime.settings.public_url,
        secret=runtime.secret,
    )


@router.delete("/{account_id}/sessions", responses=problem_responses(401, 403, 404, 422, 429))
def end_account_sessions(
    account_id: AccountId, session: SessionDep, staff: StaffDep, now: NowDep
) -> SessionsEnded:
    """End every web session of the account at once (admin)."""
    ended = accounts.end_sessions(session=session, staff=staff, account_id=account_id, now=now)
    return SessionsEnded(account_id=account_id, ended=ended)
