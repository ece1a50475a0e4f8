"""Public pages: the home page and each draw's published record."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import HTMLResponse

from app.domain.draws import draw_record
from app.domain.errors import NotFound
from app.http.deps import RuntimeDep, SessionDep
from app.services.beacons import rounds
from app.services.draws import drawing
from app.services.draws.documents import entries_page
from app.services.operations.catalog import offices_by_code, services_by_code
from app.web.deps import PageDep
from app.web.form_fields import whole_number
from app.web.page import Page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
ENTRIES_PER_PAGE = 100
MAX_ID = 2**31 - 1


@router.get("/", response_class=HTMLResponse)
def home(page: PageDep, runtime: RuntimeDep) -> HTMLResponse:
    """What Fairslot is, how the draw works, why buying an appointment is useless."""
    return render(page, "home.html", dev_messages=runtime.settings.dev_messages_enabled)


#: The day the accessibility statement was last brought up to date (RGAA asks for its date).
STATEMENT_DATE = date(2026, 12, 1)


@router.get("/accessibility", response_class=HTMLResponse)
def accessibility(page: PageDep, runtime: RuntimeDep) -> HTMLResponse:
    """The accessibility statement (RGAA): compliance status, what is tested and how, known gaps, contact."""
    return render(
        page,
        "accessibility.html",
        statement_date=STATEMENT_DATE,
        contact=runtime.settings.accessibility_contact,
    )


def not_found(page: Page) -> HTMLResponse:
    """The page for something that does not exist."""
    return render(page, "not_found.html", status_code=404)


def _parse_slots(header: dict[str, Any]) -> list[tuple[str, datetime]]:
    return [(str(s["slot"]), datetime.fromisoformat(s["starts_at"])) for s in header.get("slots", [])]


@router.get("/draws/{draw_id}", response_class=HTMLResponse)
def draw_page(
    draw_id: str,
    page: PageDep,
    db: SessionDep,
    runtime: RuntimeDep,
    page_number: Annotated[str, Query(alias="page", max_length=12)] = "1",
) -> HTMLResponse:
    """A draw: commitment, seed, beacon, slots and entries, and how to recompute it."""
    number_of_draw = whole_number(draw_id, 1, MAX_ID)
    if number_of_draw is None:
        return not_found(page)
    try:
        draw = drawing.get_draw(db, number_of_draw)
    except NotFound:
        return not_found(page)
    assert draw.id is not None
    header = draw.header
    office = offices_by_code(db).get(header.get("office", ""))
    service = services_by_code(db).get(header.get("service", ""))
    timezone = office.timezone if office else None
    slots = _parse_slots(header)
    pages = max(1, math.ceil(draw.entry_count / ENTRIES_PER_PAGE))
    number = min(whole_number(page_number, 1) or 1, pages)
    api_path = f"/api/v1/draws/{draw.id}"
    # The same beacon check as ``fairslot verify-draw`` (the entries are recomputed by the command).
    beacon_trust, beacon_differences = draw_record.check_beacon(
        header, rounds.setup_for(runtime.settings).known
    )
    return render(
        page,
        "draw.html",
        draw=draw,
        header=header,
        office=office,
        service=service,
        timezone=timezone,
        draw_at=datetime.fromisoformat(header["draw_at"]) if header.get("draw_at") else None,
        slots=slots,
        slot_starts=dict(slots),
        entries=entries_page(db, draw.id, number, ENTRIES_PER_PAGE),
        unconfirmed_wins=drawing.unconfirmed_wins(db, draw.id),
        page_number=number,
        pages=pages,
        api_path=api_path,
        record_url=runtime.settings.public_url.rstrip("/") + api_path,
        beacon_trust=beacon_trust,
        beacon_differences=beacon_differences,
    )
