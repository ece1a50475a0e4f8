"""The invitation page: a person sets a password and enrols the TOTP second factor (a QR code and the
secret written out), confirmed by a first code; then they are signed in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from starlette.responses import HTMLResponse, Response

from app.domain.errors import FairslotError, InvalidInput, InvitationInvalid
from app.domain.staff.accounts import SignInMethod
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.staff import invitations, sessions
from app.services.staff.principal import account_principal
from app.services.unit_of_work import attempt
from app.web.deps import FormDep, PageDep, redirect
from app.web.form_fields import FieldErrors
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import home_of
from app.web.templating import render

router = APIRouter(include_in_schema=False)
Token = Annotated[str, Path(min_length=1, max_length=128)]

INVALID = N_(
    "This invitation link is no longer valid: it was used already, replaced by a newer one, or it expired "
    "(links last 72 hours). Ask an administrator for a new one."
)
MESSAGES = {
    "password_too_short": N_(
        "Choose a password of at least 12 characters: a short sentence is easy to remember."
    ),
    "password_too_long": N_("Choose a password of at most 256 characters."),
    "password_common": N_("This password is among the 10,000 most common ones: choose another."),
    "password_mismatch": N_("The two passwords differ: type the same one twice."),
    "code_wrong": N_(
        "This is not the code your app shows now. Check that the app holds the secret above, then type the "
        "current code."
    ),
}
ORDER = ["password", "code"]


def _page(
    page: Page,
    db: SessionDep,
    token: str,
    now: NowDep,
    runtime: RuntimeDep,
    *,
    status_code: int = 200,
    errors: FieldErrors | None = None,
) -> HTMLResponse:
    try:
        view = invitations.view(db, token=token, now=now, secret=runtime.secret)
    except InvitationInvalid:
        return render(page, "staff/invitation_invalid.html", status_code=410, message=page.gettext(INVALID))
    translated = {name: page.gettext(message) for name, message in (errors or {}).items()}
    return render(
        page,
        "staff/invitation.html",
        status_code=status_code,
        view=view,
        token=token,
        errors=translated,
        error_list=[(name, translated[name]) for name in ORDER if name in translated],
    )


@router.get("/staff/invitations/{token}", response_class=HTMLResponse)
def invitation(token: Token, page: PageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep) -> HTMLResponse:
    """The enrolment form of a valid invitation link."""
    return _page(page, db, token, now, runtime)


@router.post("/staff/invitations/{token}", response_model=None)
def accept(
    token: Token, page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Set the password and the second factor; signed in at once on success."""

    def field(name: str) -> str:
        value = form.get(name)
        return value[:1024] if isinstance(value, str) else ""

    try:
        with attempt(db):
            account = invitations.accept(
                db,
                token=token,
                password=field("password"),
                password_again=field("password_again"),
                code=field("code")[:16],
                now=now,
                secret=runtime.secret,
            )
            session_token = sessions.start(
                db,
                now=now,
                method=SignInMethod.PASSWORD,
                account_id=account.id,
                replacing=page.session.staff_token,
            )
    except InvalidInput as exc:
        errors: FieldErrors = {}
        for found in exc.extra.get("errors") or []:
            errors.setdefault(
                str(found["path"]), MESSAGES.get(str(found.get("type")), MESSAGES["code_wrong"])
            )
        return _page(page, db, token, now, runtime, status_code=422, errors=errors)
    except FairslotError:
        return render(page, "staff/invitation_invalid.html", status_code=410, message=page.gettext(INVALID))
    page.session.sign_in(session_token)
    return redirect(page, home_of(account_principal(account)))
