"""The staff view of channels and filers: requests by channel, and what each agent and partner key filed."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse

from app.domain.access import Action
from app.http.deps import SessionDep
from app.services.evidence import channel_stats
from app.web.deps import PageDep, StaffPageDep
from app.web.routes.staff.home import sign_in_page, staff_zone
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/staff/channels", response_class=HTMLResponse)
def staff_channels(page: PageDep, staff: StaffPageDep, db: SessionDep) -> HTMLResponse:
    """Requests by channel and what each agent and partner key filed (admins, auditors, planners)."""
    if staff is None:
        return sign_in_page(page)
    if not staff.can(Action.READ_STATISTICS):
        return render(page, "not_allowed.html", status_code=403, screen="channels")
    return render(
        page,
        "staff_channels.html",
        staff=staff,
        stats=channel_stats.channel_stats(session=db, staff=staff),
        home_zone=staff_zone(db, staff),
    )
