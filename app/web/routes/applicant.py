"""Applicant pages: the request form and its confirmation, the status page and its actions."""

from __future__ import annotations

from datetime import date, datetime
from typing import cast

from fastapi import APIRouter
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from app.db.models import AppointmentRequest
from app.domain import verification as verification_rules
from app.domain.errors import FairslotError, InvalidInput, NotFound
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.runtime import Runtime
from app.schemas.requests import RequestPublic
from app.services.bookings import answers, calendar_files
from app.services.intake import submission, verification
from app.services.operations.catalog import offices_by_code, services_by_code
from app.services.requests import repository
from app.services.requests.views import request_view
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.booking_panel import booking_panel, place_panel
from app.web.deps import FormDep, PageDep
from app.web.form_fields import FieldErrors, ordered, text
from app.web.forms.apply_form import MOBILE_NEEDED, OFFICE_CHOICES, ORDER, ApplyForm
from app.web.i18n import N_, fmt_date
from app.web.page import Page
from app.web.reasons import factor_reason
from app.web.routes.public import ENTRIES_PER_PAGE
from app.web.templating import render

router = APIRouter(include_in_schema=False)

CONFIRMED = N_("Your appointment is confirmed. Thank you: it stays yours.")
ACCEPTED = N_("You accepted the appointment. Show the QR code below with your identity document at the desk.")
DECLINED = N_(
    "You declined the offer. The slot goes back to the draw and your request stays in the next draws."
)
CANCELLED = N_("Your request is cancelled. The slot, if you had one, goes back to the draw.")
GIVEN_BACK = N_(
    "You gave the appointment back. Your request is back in the next draws and keeps its waiting time."
)
#: What the status page says once an answer is done.
ANSWERED = {
    "accept": ACCEPTED,
    "confirm": CONFIRMED,
    "decline": DECLINED,
    "give-back": GIVEN_BACK,
    "cancel": CANCELLED,
}
CODE_SENT = N_("A code is on its way by SMS to %(phone)s. Type it below within 15 minutes.")
VERIFIED = N_("Your phone number is confirmed: your request enters the next draws.")
TRIES_LEFT = N_("Tries left with this code: %(n)s.")
TOO_MANY_CODES_WAIT = N_(
    "A new code cannot be sent yet: at most one a minute, five a day for a request and ten a day for a "
    "phone number. Try again in %(n)s seconds."
)
CODE_SHAPE = N_("Type the 6 digits of the code received by SMS, for example 123456.")


def _error_text(page: Page, exc: FairslotError) -> str:
    if exc.code == "too_many_codes" and "retry_after" in exc.data:
        # The wait is known: say it, once (the general message ends with "try again later").
        return page.gettext(TOO_MANY_CODES_WAIT) % {"n": exc.data["retry_after"]}
    text = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
    if "tries_left" in exc.data:
        text += " " + page.gettext(TRIES_LEFT) % {"n": exc.data["tries_left"]}
    if exc.code == "validation_error" and any(
        e.get("path") == "contact.phone" for e in exc.data.get("errors") or []
    ):
        text = page.gettext(MOBILE_NEEDED)
    return text


def _apply_page(
    page: Page, db: Session, form: ApplyForm, errors: FieldErrors, *, summary: str | None, status_code: int
) -> HTMLResponse:
    translated = {name: page.gettext(message) for name, message in errors.items()}
    return render(
        page,
        "apply.html",
        status_code=status_code,
        form=form,
        errors=translated,
        error_list=ordered(translated, ORDER),
        summary=summary,
        services=list(services_by_code(db).values()),
        offices=list(offices_by_code(db).values()),
        office_choices=OFFICE_CHOICES,
        vulnerabilities=list(labels.VULNERABILITY),
        document_types=list(labels.DOCUMENT_TYPE),
    )


@router.get("/apply", response_class=HTMLResponse)
def apply_form(page: PageDep, db: SessionDep) -> HTMLResponse:
    """The empty request form."""
    return _apply_page(page, db, ApplyForm.blank(page.lang), {}, summary=None, status_code=200)


@router.post("/apply", response_class=HTMLResponse)
def apply_submit(
    page: PageDep, form: FormDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> HTMLResponse:
    """Validate the form as the API would, submit the request, show the access code once."""
    submitted = ApplyForm.read(form)
    data, errors = submitted.validate()
    if data is None:
        # An error no field shows (should the schema grow a rule) still gets a message at the top.
        summary = None if errors else page.gettext(labels.ERROR["validation_error"])
        return _apply_page(page, db, submitted, errors, summary=summary, status_code=422)
    try:
        with attempt(db):
            request, access_code = submission.submit_request(
                session=db, data=data, pepper=runtime.pepper, now=now
            )
    except FairslotError as exc:
        placed = (
            submitted.service_errors(exc.extra.get("errors") or []) if isinstance(exc, InvalidInput) else {}
        )
        summary = None if placed else _error_text(page, exc)
        if summary and exc.extra.get("excluded_until"):
            until = fmt_date(date.fromisoformat(exc.extra["excluded_until"]), page.lang)
            summary += " " + page.gettext("Excluded until %(day)s.") % {"day": until}
        return _apply_page(page, db, submitted, placed, summary=summary, status_code=exc.status)
    notice = None
    if not verification.is_verified(request):
        # The first code goes out with the confirmation page, which asks for it.
        try:
            with attempt(db):
                sent = verification.send_code(
                    session=db, request_id=request.id, now=now, secret=runtime.secret, pepper=runtime.pepper
                )
            notice = page.gettext(CODE_SENT) % {"phone": sent.sent_to}
        except FairslotError:
            notice = None  # the form below offers to send one
    view = request_view(db, request, now)
    return render(
        page,
        "confirmation.html",
        notice=notice,
        status_code=201,
        view=view,
        request=request,
        access_code=access_code,
        factors=_factors(page, view),
        offices=offices_by_code(db),
        services=services_by_code(db),
    )


def _factors(page: Page, view: RequestPublic) -> list[dict[str, str]]:
    return [
        {"name": f.name, "value": f.value, "reason": factor_reason(f, page.translations, page.lang)}
        for f in (view.weight.factors if view.weight else [])
    ]


def _status_page(
    page: Page,
    db: Session,
    request: AppointmentRequest,
    access_code: str,
    now: datetime,
    *,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
    template: str = "status.html",
) -> HTMLResponse:
    view = request_view(db, request, now)
    offices, services = offices_by_code(db), services_by_code(db)
    return render(
        page,
        template,
        status_code=status_code,
        view=view,
        request=request,
        access_code=access_code,
        factors=_factors(page, view),
        offices=offices,
        services=services,
        **place_panel(view, offices, services, page.lang),
        draw_pages={d.draw_id: (d.rank - 1) // ENTRIES_PER_PAGE + 1 for d in view.draws},
        **booking_panel(view.booking, now),
        notice=notice,
        error=error,
    )


def _lookup_page(page: Page, request_id: str, *, error: str | None, status_code: int) -> HTMLResponse:
    return render(page, "status_lookup.html", status_code=status_code, request_id=request_id, error=error)


@router.get("/status", response_class=HTMLResponse)
def status_lookup(page: PageDep, id: str = "") -> HTMLResponse:
    """Ask for the request id (prefilled from ``?id=``) and the access code."""
    return _lookup_page(page, id.strip()[:64], error=None, status_code=200)


def _credentials(form: FormData) -> tuple[str, str]:
    return text(form, "request_id", 64), text(form, "access_code", 128)


def _open(db: Session, form: FormData) -> AppointmentRequest:
    request_id, access_code = _credentials(form)
    return repository.authenticate(db, request_id, access_code)


@router.post("/status", response_class=HTMLResponse)
def status_show(page: PageDep, form: FormDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The request behind an id and access code."""
    request_id, access_code = _credentials(form)
    try:
        request = repository.authenticate(db, request_id, access_code)
    except NotFound as exc:
        return _lookup_page(page, request_id, error=_error_text(page, exc), status_code=404)
    return _status_page(page, db, request, access_code, now)


def _act(
    page: Page, form: FormData, db: Session, now: datetime, action: str, runtime: Runtime
) -> HTMLResponse:
    request_id, access_code = _credentials(form)
    try:
        request = repository.authenticate(db, request_id, access_code)
    except NotFound as exc:
        return _lookup_page(page, request_id, error=_error_text(page, exc), status_code=404)
    code = text(form, "code", 32).replace(" ", "")
    if action == "phone-verification" and not verification_rules.is_code_shaped(code):
        return _status_page(
            page, db, request, access_code, now, error=page.gettext(CODE_SHAPE), status_code=422
        )
    shown: dict[str, str] = {}  # the notice's placeholders
    try:
        with attempt(db):
            if action == "phone-code":
                sent = verification.send_code(
                    session=db, request_id=request.id, now=now, secret=runtime.secret, pepper=runtime.pepper
                )
                notice, shown = CODE_SENT, {"phone": sent.sent_to}
            elif action == "phone-verification":
                verification.verify_code(
                    session=db, request_id=request.id, code=code, now=now, secret=runtime.secret
                )
                notice = VERIFIED
            else:
                answers.answer(db, runtime, request.id, cast(answers.Answer, action), now)
                notice = ANSWERED[action]
    except FairslotError as exc:
        request = repository.authenticate(db, request_id, access_code)
        return _status_page(
            page, db, request, access_code, now, error=_error_text(page, exc), status_code=exc.status
        )
    text_shown = page.gettext(notice) % shown if shown else page.gettext(notice)
    return _status_page(page, db, request, access_code, now, notice=text_shown)


@router.post("/status/accept", response_class=HTMLResponse)
def status_accept(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Accept the open offer, then show the booking and its QR code."""
    return _act(page, form, db, now, "accept", runtime)


@router.post("/status/confirm", response_class=HTMLResponse)
def status_confirm(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Confirm the booking inside its confirmation window."""
    return _act(page, form, db, now, "confirm", runtime)


@router.post("/status/phone-code", response_class=HTMLResponse)
def status_phone_code(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Send a new one-time code by SMS to the request's number."""
    return _act(page, form, db, now, "phone-code", runtime)


@router.post("/status/phone-verification", response_class=HTMLResponse)
def status_phone_verification(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Check the code received by SMS: the request then enters the draws."""
    return _act(page, form, db, now, "phone-verification", runtime)


def _ask_first(page: Page, form: FormData, db: Session, now: datetime, action: str) -> HTMLResponse:
    """The confirmation step of an action that gives up an appointment (declining, giving back)."""
    try:
        request = _open(db, form)
    except NotFound as exc:
        return _lookup_page(page, text(form, "request_id", 64), error=_error_text(page, exc), status_code=404)
    view = request_view(db, request, now)
    return render(
        page,
        "keep_place_confirm.html",
        action=action,
        view=view,
        access_code=text(form, "access_code", 128),
        offices=offices_by_code(db),
    )


@router.post("/status/decline", response_class=HTMLResponse)
def status_decline(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Ask to confirm, then decline the open offer (the request keeps its place in the draws)."""
    if text(form, "confirm", 8) != "yes":
        return _ask_first(page, form, db, now, "decline")
    return _act(page, form, db, now, "decline", runtime)


@router.post("/status/give-back", response_class=HTMLResponse)
def status_give_back(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Ask to confirm, then give the booking back and return to the draws with the waiting time kept."""
    if text(form, "confirm", 8) != "yes":
        return _ask_first(page, form, db, now, "give-back")
    return _act(page, form, db, now, "give-back", runtime)


@router.post("/status/cancel", response_class=HTMLResponse)
def status_cancel(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Ask to confirm, then withdraw the request or cancel the booking."""
    if text(form, "confirm", 8) != "yes":
        try:
            request = _open(db, form)
        except NotFound as exc:
            return _lookup_page(
                page, text(form, "request_id", 64), error=_error_text(page, exc), status_code=404
            )
        view = request_view(db, request, now)
        return render(
            page,
            "cancel_confirm.html",
            view=view,
            access_code=text(form, "access_code", 128),
            offices=offices_by_code(db),
        )
    return _act(page, form, db, now, "cancel", runtime)


@router.post("/status/print", response_class=HTMLResponse)
def status_print(page: PageDep, form: FormDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """A print-friendly page of the booking (QR code, place and time)."""
    try:
        request = _open(db, form)
    except NotFound as exc:
        return _lookup_page(page, text(form, "request_id", 64), error=_error_text(page, exc), status_code=404)
    return _status_page(page, db, request, text(form, "access_code", 128), now, template="status_print.html")


@router.post("/status/booking.ics", response_model=None)
def status_calendar(page: PageDep, form: FormDep, db: SessionDep) -> Response | HTMLResponse:
    """The booking as a calendar file, to add to one's calendar."""
    try:
        request = _open(db, form)
        calendar = calendar_files.request_calendar(db, request)
    except NotFound as exc:
        return _lookup_page(page, text(form, "request_id", 64), error=_error_text(page, exc), status_code=404)
    return Response(
        calendar,
        media_type=calendar_files.MEDIA_TYPE,
        headers={"Cache-Control": "no-store", "Content-Disposition": 'attachment; filename="booking.ics"'},
    )
