"""The verifier's queue: declared claims of pending requests in its offices, confirmed or refuted one by one.

The same service functions as ``GET /api/v1/claims`` and ``POST /api/v1/requests/{id}/claims``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ValidationError
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, InvalidInput
from app.http.deps import NowDep, SessionDep
from app.schemas.claims import ClaimVerdictCreate
from app.services.claims import verdicts
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import text
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)

DECIDED = {
    "confirmed": N_("Claim confirmed: it now counts in the draws."),
    "refuted": N_("Claim refuted: it counts 1 in the draws, with no other consequence."),
}
NOT_VERIFIER = N_("The claims queue is for claims verifiers. Sign out and sign in again with a verifier key.")


def _queue_page(
    page: Page,
    db: SessionDep,
    staff: StaffPrincipal,
    *,
    cursor: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context: dict[str, Any] = {"items": [], "next_cursor": None}
    try:
        try:
            found = verdicts.queue(session=db, staff=staff, cursor=cursor)
        except InvalidInput:
            found = verdicts.queue(session=db, staff=staff)
            error, status_code, cursor = page.gettext(labels.STALE_CURSOR), 422, None
        context = {"items": found.items, "next_cursor": found.next_cursor}
    except FairslotError as exc:
        error = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        status_code = exc.status
    return render(
        page,
        "claims.html",
        status_code=status_code,
        staff=staff,
        notice=notice,
        error=error,
        cursor=cursor,
        **context,
    )


@router.get("/claims", response_class=HTMLResponse)
def claims_queue(
    page: PageDep,
    staff: StaffPageDep,
    db: SessionDep,
    cursor: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """The queue of declared claims (a verifier key must be signed in)."""
    if staff is None:
        return sign_in_page(page, next_page="claims")
    if not staff.can(Action.VERIFY_CLAIMS):
        return render(page, "not_verifier.html", status_code=403, message=page.gettext(NOT_VERIFIER))
    return _queue_page(page, db, staff, cursor=cursor)


@router.post("/claims/decide", response_model=None)
def claims_decide(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Confirm or refute one claim, then show the queue again with what happened."""
    if staff is None:
        return redirect(page, "/claims")
    if not staff.can(Action.VERIFY_CLAIMS):
        return render(page, "not_verifier.html", status_code=403, message=page.gettext(NOT_VERIFIER))
    try:
        data = ClaimVerdictCreate.model_validate(
            {
                "claim": text(form, "claim", 32),
                "verdict": text(form, "verdict", 32),
                "note": text(form, "note", 500) or None,
            }
        )
    except ValidationError:
        error = page.gettext(labels.ERROR["validation_error"])
        return _queue_page(page, db, staff, error=error, status_code=422)
    try:
        with attempt(db):
            verdicts.decide(
                session=db, staff=staff, request_id=text(form, "request_id", 64), data=data, now=now
            )
    except FairslotError as exc:
        error = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        return _queue_page(page, db, staff, error=error, status_code=exc.status)
    db.commit()
    return _queue_page(page, db, staff, notice=page.gettext(DECIDED[data.verdict]))
