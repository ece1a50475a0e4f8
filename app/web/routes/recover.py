"""``/recover``: an applicant recovers a lost access code alone, by SMS to the request's verified phone.

The same service as ``/api/v1/access-code-recoveries``: the first step always says the same thing, whether
or not anything matched; the second shows the new access code once.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse

from app.domain.errors import FairslotError
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.recoveries import AccessCodeRecoveryConfirm, AccessCodeRecoveryCreate
from app.services.channels import code_recoveries
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep
from app.web.form_fields import FieldErrors, text
from app.web.i18n import N_
from app.web.page import Page
from app.web.templating import render

router = APIRouter(include_in_schema=False)

MESSAGES = {
    "entry": N_("Enter the reference of your request, for example FS-7K2QM-X9D4P."),
    "birth_date": N_("Enter your date of birth, for example 1990-04-12."),
    "code": N_("Type the 6 digits of the code received by SMS, for example 123456."),
}
SENT = N_(
    "If this reference and date of birth match an active request whose phone number was confirmed, a code "
    "is on its way by SMS to that phone. Type it below within 15 minutes."
)
TRIES_LEFT = N_("Tries left with this code: %(n)s.")


def _fields(form: FormData) -> dict[str, str]:
    return {name: text(form, name, 32) for name in ("entry", "birth_date", "code")}


def _errors(exc: ValidationError) -> FieldErrors:
    errors: FieldErrors = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else "entry"
        errors.setdefault(name if name in MESSAGES else "entry", MESSAGES.get(name, MESSAGES["entry"]))
    return errors


def _page(
    page: Page,
    fields: dict[str, str],
    *,
    step: str,
    errors: FieldErrors | None = None,
    notice: str | None = None,
    error: str | None = None,
    recovered: object = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        page,
        "recover.html",
        status_code=status_code,
        fields=fields,
        step=step,
        errors={name: page.gettext(message) for name, message in (errors or {}).items()},
        notice=notice,
        error=error,
        recovered=recovered,
    )


@router.get("/recover", response_class=HTMLResponse)
def recover_form(page: PageDep) -> HTMLResponse:
    """Ask for the entry reference and the date of birth."""
    return _page(page, {"entry": "", "birth_date": "", "code": ""}, step="start")


@router.post("/recover", response_class=HTMLResponse)
def recover_start(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Send a code if anything matches, and say the same either way."""
    fields = _fields(form)
    try:
        data = AccessCodeRecoveryCreate.model_validate(
            {"entry": fields["entry"], "birth_date": fields["birth_date"]}
        )
    except ValidationError as exc:
        return _page(page, fields, step="start", errors=_errors(exc), status_code=422)
    with attempt(db):
        code_recoveries.start(session=db, data=data, now=now, secret=runtime.secret, pepper=runtime.pepper)
    return _page(page, fields, step="confirm", notice=page.gettext(SENT), status_code=202)


@router.post("/recover/confirm", response_class=HTMLResponse)
def recover_confirm(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> HTMLResponse:
    """Check the code: show the new access code once."""
    fields = _fields(form)
    try:
        data = AccessCodeRecoveryConfirm.model_validate(fields)
    except ValidationError as exc:
        return _page(page, fields, step="confirm", errors=_errors(exc), status_code=422)
    try:
        with attempt(db):
            recovered = code_recoveries.confirm(
                session=db, data=data, now=now, secret=runtime.secret, pepper=runtime.pepper
            )
    except FairslotError as exc:
        message = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        if "tries_left" in exc.data:
            message += " " + page.gettext(TRIES_LEFT) % {"n": exc.data["tries_left"]}
        return _page(page, fields, step="confirm", error=message, status_code=exc.status)
    return _page(page, fields, step="done", recovered=recovered)
