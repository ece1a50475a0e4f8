"""The partner screen: an association's sign-in, the requests it filed, filing a new one, and acting on
each as the applicant would (accept, decline, confirm, cancel), every act logged with its key. Same services as
the API (``partners``, ``staff_intake``, ``offers``, ``receipts``); anything it did not file is a 404."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, InvalidInput, NotFound
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.runtime import Runtime
from app.services.bookings import answers, calendar_files
from app.services.operations.catalog import offices_by_code, services_by_code
from app.services.requests import access
from app.services.requests.views import request_view
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.booking_panel import booking_panel, place_panel
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.forms.apply_form import ApplyForm
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.counter import file_from_form, intake_context, receipt_response
from app.web.routes.staff.home import sign_in_page, staff_zone
from app.web.templating import render

router = APIRouter(include_in_schema=False)
RequestRef = Annotated[str, Path(min_length=1, max_length=64)]
DONE = {
    "accept": N_("The appointment is accepted for the person. Give them the booking QR code or the receipt."),
    "decline": N_("The offer is declined. The request stays in the next draws."),
    "confirm": N_("The appointment is confirmed for the person: it stays theirs."),
    "cancel": N_("The request is cancelled. The slot, if there was one, goes back to the draw."),
    "give-back": N_(
        "The appointment is given back for the person. The request is back in the next draws and keeps "
        "its waiting time."
    ),
}


def _partner(staff: StaffPrincipal | None) -> bool:
    return staff is not None and staff.can(Action.ACT_FOR_APPLICANT)


def _list_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    *,
    cursor: str | None = None,
    form: ApplyForm | None = None,
    errors: FieldErrors | None = None,
    summary: str | None = None,
    filed: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    listing_error = None
    try:
        listing = access.list_requests(session=db, staff=staff, cursor=cursor)
    except InvalidInput:
        listing = access.list_requests(session=db, staff=staff)
        listing_error = page.gettext(labels.STALE_CURSOR)
        status_code = 422 if status_code == 200 else status_code
    return render(
        page,
        "partner.html",
        status_code=status_code,
        staff=staff,
        listing=listing,
        listing_error=listing_error,
        summary=summary,
        filed=filed,
        intake_prefix="partner",
        service_names={code: s.name for code, s in services_by_code(db).items()},
        home_zone=staff_zone(db, staff),
        **intake_context(page, db, staff, form or ApplyForm.blank(page.lang, for_person=True), errors or {}),
    )


def _not_partner(page: Page) -> HTMLResponse:
    return render(page, "not_allowed.html", status_code=403, screen="partner")


@router.get("/partner", response_class=HTMLResponse)
def partner_home(page: PageDep, staff: StaffPageDep, db: SessionDep, cursor: str = "") -> HTMLResponse:
    """The requests this partner filed (newest first) and the form to file one."""
    if staff is None:
        return sign_in_page(page, next_page="partner")
    if not _partner(staff):
        return _not_partner(page)
    return _list_page(page, db, staff, cursor=cursor[:64] or None)


@router.post("/partner/requests", response_class=HTMLResponse)
def partner_file(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """File a request for a person the partner accompanies; its access code is shown once."""
    if staff is None:
        return redirect(page, "/partner")
    if not _partner(staff):
        return _not_partner(page)
    submitted, filed, errors, summary, status = file_from_form(page, form, db, runtime, now, staff)
    return _list_page(
        page, db, staff, form=submitted, errors=errors, summary=summary, filed=filed, status_code=status
    )


def _request_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    reference: str,
    now: datetime,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        request = access.open_for_staff(db, staff, reference, purpose="read").request
    except NotFound:
        return render(page, "not_found.html", status_code=404)
    view = request_view(db, request, now)
    offices, services = offices_by_code(db), services_by_code(db)
    return render(
        page,
        "partner_request.html",
        status_code=status_code,
        staff=staff,
        **booking_panel(view.booking, now),
        **place_panel(view, offices, services, page.lang),
        for_person=True,
        view=view,
        request=request,
        offices=offices,
        services=services,
        notice=notice,
        error=error,
    )


@router.get("/partner/requests/{reference}", response_class=HTMLResponse)
def partner_request(
    reference: RequestRef, page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> HTMLResponse:
    """One request the partner filed: status, offer, booking, and what it can do."""
    if staff is None:
        return sign_in_page(page, next_page="partner")
    if not _partner(staff):
        return _not_partner(page)
    return _request_page(page, db, staff, reference, now)


def _act(
    db: Session,
    staff: StaffPrincipal,
    reference: str,
    action: answers.Answer,
    now: datetime,
    runtime: Runtime,
) -> None:
    opened = access.open_for_staff(db, staff, reference, purpose="act")
    answers.answer(db, runtime, opened.request.id, action, now, opened.actor)


@router.post("/partner/requests/{reference}/{action}", response_class=HTMLResponse)
def partner_act(
    reference: RequestRef,
    action: answers.Answer,
    page: PageDep,
    form: FormDep,
    staff: StaffPageDep,
    db: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
) -> Response:
    """Accept, decline, confirm, give back or cancel for the person, as they would with their access code."""
    if staff is None:
        return redirect(page, "/partner")
    if not _partner(staff):
        return _not_partner(page)
    if action in ("decline", "give-back") and text(form, "confirm", 8) != "yes":
        return _ask_first(page, db, staff, reference, action, now)
    try:
        with attempt(db):
            _act(db, staff, reference, action, now, runtime)
    except NotFound:
        return render(page, "not_found.html", status_code=404)
    except FairslotError as exc:
        message = page.gettext(labels.error_for_person(exc.code))
        return _request_page(page, db, staff, reference, now, error=message, status_code=exc.status)
    return _request_page(page, db, staff, reference, now, notice=page.gettext(DONE[action]))


def _ask_first(
    page: Page, db: Session, staff: StaffPrincipal, reference: str, action: str, now: datetime
) -> HTMLResponse:
    """The confirmation step of giving up an appointment for the person (declining, giving back)."""
    try:
        request = access.open_for_staff(db, staff, reference, purpose="act").request
    except NotFound:
        return render(page, "not_found.html", status_code=404)
    return render(
        page,
        "keep_place_confirm.html",
        action=action,
        view=request_view(db, request, now),
        offices=offices_by_code(db),
        for_person=True,
    )


@router.get("/partner/requests/{reference}/receipt.pdf", response_model=None)
def partner_receipt(
    reference: RequestRef,
    page: PageDep,
    staff: StaffPageDep,
    db: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    lang: str | None = None,
) -> Response:
    """The receipt of a request this partner filed."""
    if staff is None:
        return redirect(page, "/partner")
    try:
        return receipt_response(db, staff, reference, runtime, now, lang)
    except NotFound:
        return render(page, "not_found.html", status_code=404)


@router.get("/partner/requests/{reference}/booking.ics", response_model=None)
def partner_calendar(reference: RequestRef, page: PageDep, staff: StaffPageDep, db: SessionDep) -> Response:
    """The calendar file of the appointment of a request this partner filed, to hand to the person (the
    file the applicant's status page gives; 404 when the request never had an appointment)."""
    if staff is None:
        return redirect(page, "/partner")
    if not _partner(staff):
        return _not_partner(page)
    try:
        request = access.open_for_staff(db, staff, reference).request
        calendar = calendar_files.request_calendar(db, request)
    except NotFound:
        return render(page, "not_found.html", status_code=404)
    return Response(
        calendar,
        media_type=calendar_files.MEDIA_TYPE,
        headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="booking.ics"'},
    )
