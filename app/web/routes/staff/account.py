"""One's own account: who one is, one's roles and offices, one's live sessions, and "sign out everywhere"."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from app.http.deps import NowDep, SessionDep
from app.services.staff import sessions, sign_in
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/staff/account", response_class=HTMLResponse)
def account(page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The signed-in member's account and sessions."""
    if staff is None:
        return sign_in_page(page)
    live = (
        sessions.live_sessions(db, account_id=staff.account_id, now=now, current=page.session.staff_token)
        if staff.account_id is not None
        else []
    )
    return render(page, "staff/account.html", staff=staff, sessions=live)


@router.post("/staff/account/sign-out-everywhere", response_model=None)
def sign_out_everywhere(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """End every session of this account, this one included (a lost phone, a shared computer)."""
    if staff is not None and staff.account_id is not None:
        sign_in.sign_out_everywhere(session=db, staff=staff, now=now)
    else:
        sign_in.sign_out(session=db, token=page.session.staff_token, now=now)
    page.session.sign_out()
    return redirect(page, "/staff/sign-in")
