"""The desk opens on today's list; the scan checks a booking code against the document shown.

The code field is one line, so a keyboard-wedge QR scanner (which types the code and presses Enter) sends
the form. A code sent alone is read, changing nothing: the screen then names the holder, the time and the
claims to judge, and waits for the document's number and date of birth; a code sent with them checks in.
A refusal keeps what was typed and says why, in the error summary at the top.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, WrongOffice
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.checkins import CheckInCreate
from app.services.bookings import checkins
from app.services.operations.catalog import offices_by_code
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.desk.screen import (
    CLAIM_VERDICT_NEEDED,
    DESK_ERRORS,
    MISMATCH,
    VERDICTS,
    DeskView,
    Outcome,
    read_view,
    refusal_of,
    show,
)
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
#: Refusals about the code itself (or the key): there is no booking to show beside them.
UNREADABLE = frozenset({"token_invalid", "wrong_office", "forbidden"})

MESSAGES = {
    "token": N_("Scan or paste the booking code."),
    "document_number": N_("Enter the number of the document the person shows."),
    "birth_date": N_("Enter the date of birth shown on the document, for example 1990-04-12."),
}


@router.get("/desk", response_class=HTMLResponse)
def desk(page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The day's list of an office (today unless asked), its search and filter, and both ways to check in."""
    if staff is None:
        return sign_in_page(page, next_page="desk")
    if not staff.can(Action.READ_BOOKINGS):
        return render(page, "not_desk.html", status_code=403)
    return show(page, db, staff, now, read_view(page.request.query_params))


@router.post("/desk/check-in", response_model=None)
def desk_check_in(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Read a scanned code (sent alone), or check it against the document: green with the name and time, or
    the reason of the refusal with what was typed."""
    if staff is None:
        return redirect(page, "/desk")
    if not staff.can(Action.CHECK_IN):
        return render(page, "not_desk.html", status_code=403)
    view = read_view(form)
    fields = {"token": text(form, "token", 4096), "document_number": text(form, "document_number", 64)}
    fields["birth_date"] = text(form, "birth_date", 32)
    given = {kind: text(form, f"claim_{kind}", 32) for kind in VERDICTS}
    scan = {**fields, **{f"claim_{kind}": value for kind, value in given.items()}}
    if fields["token"] and not fields["document_number"] and not fields["birth_date"]:
        return _read(page, db, staff, now, runtime.secret, view, scan)
    try:
        data = CheckInCreate.model_validate(
            {**fields, "claims": {kind: value for kind, value in given.items() if value} or None}
        )
    except ValidationError as exc:
        found: FieldErrors = {}
        for err in exc.errors():
            name = str(err["loc"][0]) if err["loc"] else "token"
            if name == "claims":
                found.setdefault(f"claim_{err['loc'][1]}", CLAIM_VERDICT_NEEDED)
                continue
            found.setdefault(name if name in MESSAGES else "token", MESSAGES.get(name, MESSAGES["token"]))
        return show(page, db, staff, now, view, Outcome(scan=scan, scan_errors=found), status_code=422)
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
            # Same person, same document: the desk now judges each claim the booking's weight rests on (all
            # of them shown, the verdicts already chosen kept; those still lacking marked).
            lacking = exc.extra.get("claims", [])
            outcome = Outcome(scan=scan, scan_claims=lacking, message=DESK_ERRORS["claims_unverified"])
            outcome.scan_errors = {f"claim_{c['claim']}": CLAIM_VERDICT_NEEDED for c in lacking}
            _name_the_booking(db, staff, now, runtime.secret, outcome)
            return show(page, db, staff, now, view, outcome, status_code=422)
        return _refused(page, db, staff, now, runtime.secret, view, exc, Outcome(scan=scan, focus="refusal"))
    office = offices_by_code(db).get(result.office)
    verdict = {
        "kind": "checked_in",
        "name": f"{result.given_names} {result.family_name}".strip(),
        "starts_at": result.starts_at,
        "office_name": office.name if office else result.office,
    }
    return show(page, db, staff, now, view, Outcome(verdict=verdict))


def _read(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    secret: bytes,
    view: DeskView,
    scan: dict[str, str],
) -> HTMLResponse:
    """A code sent alone: whose booking it is and the claims to judge, or why the code is refused."""
    try:
        with attempt(db):
            row = checkins.read_token(session=db, staff=staff, token=scan["token"], now=now, secret=secret)
    except FairslotError as exc:
        return _refused(page, db, staff, now, secret, view, exc, Outcome(scan=scan, focus="refusal"))
    outcome = Outcome(scan=scan, scanned=row, scan_claims=row.claims_to_check, focus="document_number")
    return show(page, db, staff, now, view, outcome)


def _refused(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    secret: bytes,
    view: DeskView,
    exc: FairslotError,
    outcome: Outcome,
) -> HTMLResponse:
    """The screen with the refusal's reason on top and what was typed kept."""
    office = offices_by_code(db).get(exc.data["office"]) if isinstance(exc, WrongOffice) else None
    outcome.refusal = refusal_of(page, exc, office.name if office else None, "desk")
    if exc.code not in UNREADABLE:
        _name_the_booking(db, staff, now, secret, outcome)
    if exc.code == "identity_mismatch":
        outcome.scan_errors = dict.fromkeys(("document_number", "birth_date"), MISMATCH)
    return show(page, db, staff, now, view, outcome, status_code=exc.status)


def _name_the_booking(
    db: Session, staff: StaffPrincipal, now: datetime, secret: bytes, outcome: Outcome
) -> None:
    """After a refusal about a good code: the booking it names and every claim still to judge, as a code sent
    alone shows them (left as they are if the code cannot be read)."""
    try:
        with attempt(db):
            row = checkins.read_token(
                session=db, staff=staff, token=outcome.scan["token"], now=now, secret=secret
            )
    except FairslotError:
        return
    outcome.scanned = row
    if row.claims_to_check:
        outcome.scan_claims = row.claims_to_check
