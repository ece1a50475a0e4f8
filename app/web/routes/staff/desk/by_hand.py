"""By hand from the day's list, when a code will not scan: check a person in after seeing their document, or
mark them absent once their slot has started (after a confirmation: an absence counts against them).

The row's form asks the claims still to judge before its button is pressed; a refusal keeps what was typed
in the row, opened, and says why at the top of the screen.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import TypeAdapter, ValidationError
from starlette.responses import Response

from app.domain.access import Action
from app.domain.errors import FairslotError, WrongOffice
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.checkins import AttendanceCreate
from app.services.bookings import attendance, checkins
from app.services.operations.catalog import offices_by_code
from app.services.unit_of_work import attempt
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.i18n import N_
from app.web.routes.staff.desk.screen import (
    CLAIM_VERDICT_NEEDED,
    DESK_ERRORS,
    MISMATCH,
    VERDICTS,
    Outcome,
    read_view,
    refusal_of,
    show,
)
from app.web.templating import render

router = APIRouter(include_in_schema=False)
BookingId = Annotated[str, Path(min_length=1, max_length=64)]

_ATTENDANCE: TypeAdapter[object] = TypeAdapter(AttendanceCreate)
MESSAGES = {
    "outcome": N_("Choose whether the person came."),
    "document_number": N_("Enter the number of the document the person shows."),
    "birth_date": N_("Enter the date of birth shown on the document, for example 1990-04-12."),
}


@router.post("/desk/bookings/{booking_id}/attendance", response_model=None)
def desk_attendance(
    booking_id: BookingId,
    page: PageDep,
    form: FormDep,
    staff: StaffPageDep,
    db: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> Response:
    """Check in by hand (``outcome=attended``, the document's number and date of birth, the claims' verdicts)
    or mark absent (``outcome=absent``, confirmed by a second press)."""
    if staff is None:
        return redirect(page, "/desk")
    if not staff.can(Action.CHECK_IN):
        return render(page, "not_desk.html", status_code=403)
    view = read_view(form)
    outcome_name = text(form, "outcome", 16)
    fields = {
        "document_number": text(form, "document_number", 64),
        "birth_date": text(form, "birth_date", 32),
    }
    given = {kind: text(form, f"claim_{kind}", 32) for kind in VERDICTS}
    typed = {"outcome": outcome_name, **fields, **{f"claim_{kind}": value for kind, value in given.items()}}
    if outcome_name == "absent" and text(form, "confirm", 8) != "yes":
        return show(
            page, db, staff, now, view, Outcome(row=booking_id, row_fields=typed, confirm_absent=True)
        )
    body: dict[str, object] = {"outcome": outcome_name}
    if outcome_name != "absent":
        body |= {**fields, "claims": {kind: value for kind, value in given.items() if value} or None}
    try:
        data = _ATTENDANCE.validate_python(body)
    except ValidationError as exc:
        errors = _field_errors(exc)
        outcome = Outcome(row=booking_id, row_fields=typed, row_errors=errors)
        return show(page, db, staff, now, view, outcome, status_code=422)
    try:
        with attempt(db):
            result = attendance.record(
                session=db,
                staff=staff,
                booking_id=booking_id,
                data=data,  # type: ignore[arg-type]
                now=now,
                pepper=runtime.pepper,
                window=checkins.window_of(
                    runtime.settings.check_in_opens_minutes_before, runtime.settings.no_show_grace_minutes
                ),
            )
    except FairslotError as exc:
        outcome = Outcome(row=booking_id, row_fields=typed)
        if exc.code == "claims_unverified":
            outcome.message = DESK_ERRORS["claims_unverified"]
            outcome.row_errors = {
                f"claim_{c['claim']}": CLAIM_VERDICT_NEEDED for c in exc.extra.get("claims", [])
            }
            return show(page, db, staff, now, view, outcome, status_code=422)
        office = offices_by_code(db).get(exc.data["office"]) if isinstance(exc, WrongOffice) else None
        outcome.refusal = refusal_of(page, exc, office.name if office else None, f"hand-{booking_id}")
        outcome.focus = "refusal"
        if exc.code == "identity_mismatch":
            outcome.row_errors = dict.fromkeys(("document_number", "birth_date"), MISMATCH)
        return show(page, db, staff, now, view, outcome, status_code=exc.status)
    office = offices_by_code(db).get(result.office)
    verdict = {
        "kind": "absent" if result.status == "no_show" else "checked_in",
        "name": f"{result.given_names} {result.family_name}".strip(),
        "starts_at": result.starts_at,
        "office_name": office.name if office else result.office,
    }
    return show(page, db, staff, now, view, Outcome(verdict=verdict))


def _field_errors(exc: ValidationError) -> FieldErrors:
    """One message per field of the row's form (``attended.document_number`` is ``document_number``)."""
    found: FieldErrors = {}
    for err in exc.errors():
        loc = [str(part) for part in err["loc"] if str(part) not in ("attended", "absent")]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") or not loc:
            found.setdefault("outcome", MESSAGES["outcome"])
        elif loc[0] == "claims" and len(loc) > 1:
            found.setdefault(f"claim_{loc[1]}", CLAIM_VERDICT_NEEDED)
        else:
            found.setdefault(
                loc[0] if loc[0] in MESSAGES else "outcome", MESSAGES.get(loc[0], MESSAGES["outcome"])
            )
    return found
