"""The day's list as the office keeps it: CSV and XLSX downloads of the rows on screen, and a printable day
sheet (times, names, entry references, a box to tick per person)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError
from app.domain.statuses import EXPECTED_AT_DESK
from app.http.deps import NowDep, SessionDep
from app.services.bookings import day_list, exports
from app.services.operations.catalog import services_by_code
from app.web.deps import PageDep, StaffPageDep
from app.web.routes.staff.desk.screen import STATUS_LABELS, office_shown, read_view, show
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)


@router.get("/desk/export", response_model=None)
def desk_export(page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """The rows of the screen's list (same office, day, search and status) as ``format=csv`` or ``xlsx``."""
    if staff is None:
        return sign_in_page(page, next_page="desk")
    if not staff.can(Action.READ_BOOKINGS):
        return render(page, "not_desk.html", status_code=403)
    view = read_view(page.request.query_params)
    kind = page.request.query_params.get("format", "")
    if view.errors() or kind not in exports.MEDIA_TYPES:
        return show(page, db, staff, now, view, status_code=422)
    fmt: Literal["csv", "xlsx"] = "csv" if kind == "csv" else "xlsx"
    try:
        download = exports.export(
            session=db,
            staff=staff,
            office=office_shown(db, staff, view),
            day=view.date_asked,
            now=now,
            kind=fmt,
            q=view.q,
            statuses=view.statuses,
        )
    except FairslotError:
        return show(page, db, staff, now, view, status_code=403)
    return Response(
        download.body,
        media_type=download.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{download.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/desk/day-sheet", response_class=HTMLResponse)
def desk_day_sheet(page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The office's day to print: everyone expected that day, in time order, with a box to tick."""
    if staff is None:
        return sign_in_page(page, next_page="desk")
    if not staff.can(Action.READ_BOOKINGS):
        return render(page, "not_desk.html", status_code=403)
    view = read_view(page.request.query_params)
    if view.errors():
        return show(page, db, staff, now, view, status_code=422)
    try:
        listing = day_list.day_list(
            session=db,
            staff=staff,
            office=office_shown(db, staff, view),
            day=view.date_asked,
            now=now,
            statuses=EXPECTED_AT_DESK,
        )
    except FairslotError:
        return show(page, db, staff, now, view, status_code=403)
    return render(
        page,
        "desk_day_sheet.html",
        listing=listing,
        services=services_by_code(db),
        status_labels={status.value: page.gettext(text) for status, text in STATUS_LABELS.items()},
        printed_at=now,
    )
