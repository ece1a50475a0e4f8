"""The desk check-in screen: a booking token and the document shown give a clear verdict."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.claims import DESK_VERDICTS, ClaimStatus
from app.domain.errors import FairslotError, WrongOffice
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.checkins import CheckInCreate
from app.services.bookings import checkins
from app.services.operations.catalog import offices_by_code
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)

ORDER = ["token", "document_number", "birth_date", "claim_permit_expiry", "claim_vulnerability"]
CONFIRMED, NOT_EVIDENCED, REFUTED = ClaimStatus.CONFIRMED, ClaimStatus.NOT_EVIDENCED, ClaimStatus.REFUTED
#: The verdicts the page offers for each claim, in reading order (the domain's table; the schema refuses
#: anything else).
VERDICTS = {
    kind.value: [s.value for s in (CONFIRMED, NOT_EVIDENCED, REFUTED) if s in DESK_VERDICTS[kind]]
    for kind in DESK_VERDICTS
}
MESSAGES = {
    "token": N_("Paste or scan the booking code."),
    "document_number": N_("Enter the number of the document the person shows."),
    "birth_date": N_("Enter the date of birth shown on the document, for example 1990-04-12."),
}
CLAIM_MESSAGE = N_("Choose a verdict for this claim.")


def _desk_page(
    page: Page,
    staff: StaffPrincipal,
    *,
    status_code: int = 200,
    fields: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    verdict: dict[str, Any] | None = None,
    pending_claims: list[dict[str, Any]] | None = None,
) -> HTMLResponse:
    translated = {name: page.gettext(message) for name, message in (errors or {}).items()}
    return render(
        page,
        "desk.html",
        status_code=status_code,
        staff=staff,
        fields=fields or dict.fromkeys(ORDER, ""),
        errors=translated,
        error_list=[(name, translated[name]) for name in ORDER if name in translated],
        verdict=verdict,
        pending_claims=pending_claims or [],
        verdicts=VERDICTS,
    )


def _not_desk(page: Page) -> HTMLResponse:
    return render(page, "not_desk.html", status_code=403)


@router.get("/desk", response_class=HTMLResponse)
def desk(page: PageDep, staff: StaffPageDep) -> HTMLResponse:
    """The check-in form (a desk key must be signed in)."""
    if staff is None:
        return sign_in_page(page, next_page="desk")
    if not staff.can(Action.CHECK_IN):
        return _not_desk(page)
    return _desk_page(page, staff)


@router.post("/desk/check-in", response_model=None)
def desk_check_in(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Check the token against the document: green with the name and time, or red with the reason."""
    if staff is None:
        return redirect(page, "/desk")
    if not staff.can(Action.CHECK_IN):
        return _not_desk(page)
    fields = {"token": text(form, "token", 4096), "document_number": text(form, "document_number", 64)}
    fields["birth_date"] = text(form, "birth_date", 32)
    given = {kind: text(form, f"claim_{kind}", 32) for kind in VERDICTS}
    try:
        data = CheckInCreate.model_validate(
            {**fields, "claims": {kind: value for kind, value in given.items() if value} or None}
        )
    except ValidationError as exc:
        found: FieldErrors = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "token"
            if name == "claims":
                found.setdefault(f"claim_{err['loc'][1]}", CLAIM_MESSAGE)
                continue
            found.setdefault(name if name in MESSAGES else "token", MESSAGES.get(name, MESSAGES["token"]))
        return _desk_page(page, staff, status_code=422, fields=fields, errors=found)
    try:
        with attempt(db):
            result = checkins.check_in(
                session=db,
                staff=staff,
                token=data.token,
                document_number=data.document_number,
                birth_date=data.birth_date,
                now=now,
                secret=runtime.secret,
                pepper=runtime.pepper,
                verdicts=data.claims.model_dump() if data.claims else None,
                window=checkins.window_of(
                    runtime.settings.check_in_opens_minutes_before, runtime.settings.no_show_grace_minutes
                ),
            )
    except FairslotError as exc:
        if exc.code == "claims_unverified":
            # Same person, same document: the desk now judges each claim the booking's weight rests on.
            return _desk_page(
                page, staff, status_code=422, fields=fields, pending_claims=exc.extra.get("claims", [])
            )
        office = offices_by_code(db).get(exc.data["office"]) if isinstance(exc, WrongOffice) else None
        verdict = {
            "ok": False,
            "code": exc.code,
            "reason": page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR)),
            "office": office,
            "excluded_until": exc.extra.get("excluded_until"),
        }
        return _desk_page(page, staff, verdict=verdict)
    office = offices_by_code(db).get(result.office)
    verdict = {"ok": True, "result": result, "office": office, "checked_in_at": now}
    return _desk_page(page, staff, verdict=verdict)
