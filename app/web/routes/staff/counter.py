"""The counter screen: an agent files a request for the person in front of them or on the phone, shows the
access code once and prints the receipt; and recovers an identity after seeing the document (also at the
desk). Same services as the API: ``staff_intake``, ``recoveries``, ``receipts``."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, InvalidInput, NotFound
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.channels import filing, receipts, recoveries
from app.services.channels.receipt_texts import RECEIPT_LANGUAGES
from app.services.operations.catalog import offices_by_code, services_by_code
from app.services.requests import access
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, ordered
from app.web.forms import recovery_form
from app.web.forms.apply_form import OFFICE_CHOICES, ORDER, ApplyForm
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
RequestRef = Annotated[str, Path(min_length=1, max_length=64)]


def intake_context(
    page: Page, db: Session, staff: StaffPrincipal, form: ApplyForm, errors: FieldErrors
) -> dict[str, Any]:
    """What ``intake_fields.html`` needs: the form, its errors, and the key's own offices first."""
    translated = {name: page.gettext(message) for name, message in errors.items()}
    offices = list(offices_by_code(db).values())
    return {
        "form": form,
        "errors": translated,
        "error_list": ordered(translated, ORDER),
        "services": list(services_by_code(db).values()),
        "offices": sorted(offices, key=lambda o: (not staff.covers(o.code), o.name)),
        "office_choices": OFFICE_CHOICES,
        "vulnerabilities": list(labels.VULNERABILITY),
        "document_types": list(labels.DOCUMENT_TYPE),
    }


def recovery_context(
    page: Page,
    *,
    fields: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    result: Any = None,
    error: str | None = None,
) -> dict[str, Any]:
    """What ``recovery_form.html`` needs."""
    translated = {name: page.gettext(message) for name, message in (errors or {}).items()}
    return {
        "fields": fields or dict.fromkeys(recovery_form.FIELDS, ""),
        "errors": translated,
        "error_list": ordered(translated, list(recovery_form.FIELDS)),
        "result": result,
        "error": error,
    }


def _counter_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    *,
    form: ApplyForm | None = None,
    errors: FieldErrors | None = None,
    summary: str | None = None,
    filed: dict[str, Any] | None = None,
    recovery: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        page,
        "counter.html",
        status_code=status_code,
        staff=staff,
        summary=summary,
        filed=filed,
        intake_prefix="counter",
        recovery_action="/counter/recovery",
        recovery=recovery or recovery_context(page),
        **intake_context(page, db, staff, form or ApplyForm.blank(page.lang, for_person=True), errors or {}),
    )


def _not_allowed(page: Page, screen: str) -> HTMLResponse:
    return render(page, "not_allowed.html", status_code=403, screen=screen)


def _agent(staff: StaffPrincipal | None) -> bool:
    return staff is not None and staff.can(Action.FILE_REQUEST) and not staff.can(Action.ACT_FOR_APPLICANT)


@router.get("/counter", response_class=HTMLResponse)
def counter(page: PageDep, staff: StaffPageDep, db: SessionDep) -> HTMLResponse:
    """The counter intake screen (an agent key must be signed in)."""
    if staff is None:
        return sign_in_page(page, next_page="counter")
    if not _agent(staff):
        return _not_allowed(page, "counter")
    return _counter_page(page, db, staff)


def file_from_form(
    page: Page, form: FormDep, db: Session, runtime: RuntimeDep, now: NowDep, staff: StaffPrincipal
) -> tuple[ApplyForm, dict[str, Any] | None, FieldErrors, str | None, int]:
    """File the submitted request as ``staff``: (form, filed, errors, summary, status)."""
    submitted = ApplyForm.read(form, for_person=True)
    data, errors = submitted.validate()
    if data is None:
        summary = None if errors else page.gettext(labels.ERROR["validation_error"])
        return submitted, None, errors, summary, 422
    try:
        with attempt(db):
            request, access_code = filing.file_request(
                session=db, staff=staff, data=data, pepper=runtime.pepper, now=now
            )
    except FairslotError as exc:
        placed = (
            submitted.service_errors(exc.extra.get("errors") or []) if isinstance(exc, InvalidInput) else {}
        )
        if exc.code == "office_not_served":
            placed = {"office_1": labels.ERROR["office_not_served"]}
        summary = None if placed else page.gettext(labels.error_for_person(exc.code))
        return submitted, None, placed, summary, exc.status
    filed = {
        "id": request.id,
        "entry": request.entry,
        "access_code": access_code,
        "family_name": request.family_name,
        "given_names": request.given_names,
        "language": request.language,
    }
    return ApplyForm.blank(page.lang, for_person=True), filed, {}, None, 201


@router.post("/counter/requests", response_class=HTMLResponse)
def counter_file(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """File the request, then show its access code once and the receipt link."""
    if staff is None:
        return redirect(page, "/counter")
    if not _agent(staff):
        return _not_allowed(page, "counter")
    submitted, filed, errors, summary, status = file_from_form(page, form, db, runtime, now, staff)
    return _counter_page(
        page, db, staff, form=submitted, errors=errors, summary=summary, filed=filed, status_code=status
    )


def receipt_response(
    db: Session, staff: StaffPrincipal, reference: str, runtime: RuntimeDep, now: NowDep, lang: str | None
) -> Response:
    """The PDF receipt of a request this key reaches (404 otherwise, as in the API)."""
    request = access.open_for_staff(db, staff, reference, purpose="receipt").request
    pdf = receipts.receipt_pdf(
        session=db,
        request=request,
        now=now,
        secret=runtime.secret,
        public_url=runtime.settings.public_url,
        lang=lang if lang in RECEIPT_LANGUAGES else request.language,
    )
    headers = {
        "Cache-Control": "no-store",
        "Content-Disposition": f'inline; filename="fairslot-receipt-{request.entry}.pdf"',
    }
    return Response(pdf, media_type="application/pdf", headers=headers)


@router.get("/counter/receipt", response_model=None)
def counter_receipt_lookup(
    page: PageDep, staff: StaffPageDep, reference: str = "", lang: str = ""
) -> Response:
    """The receipt of a request named by its reference (a person back at the counter for a new copy)."""
    if staff is None:
        return redirect(page, "/counter")
    ref = quote(reference.strip()[:64], safe="")
    suffix = f"?lang={quote(lang[:8], safe='')}" if lang else ""
    return redirect(page, f"/counter/requests/{ref}/receipt.pdf{suffix}")


@router.get("/counter/requests/{reference}/receipt.pdf", response_model=None)
def counter_receipt(
    reference: RequestRef,
    page: PageDep,
    staff: StaffPageDep,
    db: SessionDep,
    runtime: RuntimeDep,
    now: NowDep,
    lang: str | None = None,
) -> Response:
    """The receipt to print for the person (an agent of the request's first office)."""
    if staff is None:
        return redirect(page, "/counter")
    try:
        return receipt_response(db, staff, reference, runtime, now, lang)
    except NotFound:
        return render(page, "not_found.html", status_code=404)


def recover_from_form(
    page: Page, form: FormDep, db: Session, runtime: RuntimeDep, now: NowDep, staff: StaffPrincipal
) -> tuple[dict[str, Any], int]:
    """Run the recovery form: its context for ``recovery_form.html`` and the status."""
    fields, data, errors = recovery_form.read(form)
    if data is None:
        return recovery_context(page, fields=fields, errors=errors), 422
    try:
        with attempt(db):  # a refusal's audit row stays: it asks to keep its changes
            result = recoveries.recover(
                session=db,
                staff=staff,
                data=data,
                pepper=runtime.pepper,
                now=now,
                redraw_within=runtime.settings.redraw_within,
            )
    except FairslotError as exc:
        message = (
            labels.RECOVERY_NOT_FOUND
            if exc.code == "not_found"
            else labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
        )
        return recovery_context(page, fields=fields, error=page.gettext(message)), exc.status
    return recovery_context(page, result=result), 200


@router.post("/counter/recovery", response_class=HTMLResponse)
def counter_recovery(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """A new access code, or the impostor's request superseded, after seeing the document."""
    if staff is None:
        return redirect(page, "/counter")
    if not _agent(staff):
        return _not_allowed(page, "counter")
    recovery, status = recover_from_form(page, form, db, runtime, now, staff)
    return _counter_page(page, db, staff, recovery=recovery, status_code=status)


def _desk_recovery_page(
    page: Page, db: Session, staff: StaffPrincipal, recovery: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    return render(
        page,
        "desk_recovery.html",
        status_code=status_code,
        staff=staff,
        services=list(services_by_code(db).values()),
        recovery_action="/desk/recovery",
        recovery=recovery,
    )


@router.get("/desk/recovery", response_class=HTMLResponse)
def desk_recovery_form(page: PageDep, staff: StaffPageDep, db: SessionDep) -> HTMLResponse:
    """The recovery form at the desk."""
    if staff is None:
        return sign_in_page(page, next_page="desk")
    if not staff.can(Action.RECOVER_IDENTITY):
        return _not_allowed(page, "desk")
    return _desk_recovery_page(page, db, staff, recovery_context(page))


@router.post("/desk/recovery", response_class=HTMLResponse)
def desk_recovery(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, runtime: RuntimeDep, now: NowDep
) -> Response:
    """The same recovery from the desk screen."""
    if staff is None:
        return redirect(page, "/desk")
    if not staff.can(Action.RECOVER_IDENTITY):
        return _not_allowed(page, "desk")
    recovery, status = recover_from_form(page, form, db, runtime, now, staff)
    return _desk_recovery_page(page, db, staff, recovery, status)
