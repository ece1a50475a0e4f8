"""Signing in and out on the staff pages: e-mail, password and TOTP code; the identity provider (OpenID
Connect) when one is configured; an unowned key. Every sign-in makes a new server-side session and a new
CSRF token; signing out ends the session on the server."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import HTMLResponse, RedirectResponse, Response

from app.domain.errors import FairslotError, KeyOwned, OidcRefused, SignInRefused, Unauthorized
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.services.staff import oidc, sign_in
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import text
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import ROLE_HOMES, home_of, sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)

REFUSED = N_(
    "Sign-in refused: the e-mail, the password or the code is not right, or the account is locked for "
    "15 minutes after 5 failures, or disabled. Check each and try again with the next code."
)
KEY_OWNED = N_("This key belongs to a named account: sign in with its e-mail, password and code.")
OIDC_REFUSED = {
    "unknown_account": N_(
        "The identity provider signed you in, but no enabled Fairslot account has this e-mail address. "
        "Accounts are never created by signing in: ask an administrator to invite you with this address."
    ),
    "email_unverified": N_(
        "The identity provider says this e-mail address is not verified: sign-in refused. Verify it with the "
        "provider, or sign in with your password and code."
    ),
    "state": N_(
        "This sign-in link is not valid for this browser any more (used already, too old, or started "
        "elsewhere). Start again from the sign-in page."
    ),
    "code": N_("The identity provider refused to confirm this sign-in. Start again from the sign-in page."),
    "id_token": N_(
        "The identity provider's answer could not be verified (signature, audience, expiry or nonce): "
        "sign-in refused. Start again from the sign-in page."
    ),
    "provider_error": N_("The identity provider did not sign you in. Start again from the sign-in page."),
}
OIDC_UNAVAILABLE = N_("The identity provider cannot be reached now. Sign in with your password and code.")
NEXT_PAGES = (*ROLE_HOMES.values(),)


def _next(asked: str) -> str:
    return asked if asked in NEXT_PAGES else ""


def _signed_in(page: Page, token: str, next_page: str, home: str) -> RedirectResponse:
    page.session.sign_in(token)
    return redirect(page, f"/{next_page}" if next_page else home)


@router.get("/staff/sign-in", response_class=HTMLResponse, response_model=None)
def sign_in_form(page: PageDep, staff: StaffPageDep, next: str = "") -> Response:
    """The sign-in page (the staff home once signed in)."""
    if staff is not None:
        return redirect(page, "/staff")
    return sign_in_page(page, next_page=_next(next[:16]))


@router.post("/staff/sign-in", response_model=None)
def sign_in_submit(
    page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Sign in with e-mail, password and code; or with an unowned key (the ``key`` field)."""
    next_page = _next(text(form, "next", 16))
    key = text(form, "key", 200)
    previous = page.session.staff_token
    if key:
        try:
            with attempt(db):
                principal, token = sign_in.with_key(session=db, key=key, now=now, replacing=previous)
        except (Unauthorized, KeyOwned) as exc:
            message = KEY_OWNED if isinstance(exc, KeyOwned) else labels.ERROR["unauthorized"]
            return sign_in_page(page, next_page=next_page, key_error=page.gettext(message), status_code=401)
        return _signed_in(page, token, next_page, home_of(principal))
    email = text(form, "email", 254)
    try:
        with attempt(db):
            principal, token = sign_in.with_password(
                session=db,
                email=email,
                password=form.get("password") if isinstance(form.get("password"), str) else "",  # type: ignore[arg-type]
                code=text(form, "code", 16),
                now=now,
                secret=runtime.secret,
                replacing=previous,
            )
    except SignInRefused:
        return sign_in_page(
            page, next_page=next_page, error=page.gettext(REFUSED), email=email, status_code=401
        )
    return _signed_in(page, token, next_page, home_of(principal))


@router.post("/staff/sign-out", response_model=None)
def sign_out(page: PageDep, form: FormDep, db: SessionDep, now: NowDep) -> Response:
    """End this browser's session on the server (a copy of its cookie stops working) and forget it here."""
    sign_in.sign_out(session=db, token=page.session.staff_token, now=now)
    page.session.sign_out()
    return redirect(page, "/staff")


def _oidc_refused(page: Page, exc: FairslotError) -> HTMLResponse:
    reason = str(exc.extra.get("reason", "")) if isinstance(exc, OidcRefused) else ""
    message = OIDC_REFUSED.get(reason, OIDC_UNAVAILABLE) if isinstance(exc, OidcRefused) else OIDC_UNAVAILABLE
    return render(page, "staff/oidc_refused.html", status_code=exc.status, message=page.gettext(message))


@router.post("/staff/oidc/start", response_model=None)
def oidc_start(page: PageDep, form: FormDep, db: SessionDep, now: NowDep, runtime: RuntimeDep) -> Response:
    """Send the browser to the identity provider (the sign-in under way is bound to this browser)."""
    try:
        with attempt(db):
            url = oidc.start(
                db,
                settings=runtime.settings,
                public_url=runtime.settings.public_url,
                browser=page.session.csrf,
                now=now,
                secret=runtime.secret,
            )
    except FairslotError as exc:
        return _oidc_refused(page, exc)
    response = RedirectResponse(url, status_code=303)
    page.finish(response)
    return response


@router.get("/staff/oidc/callback", response_model=None)
def oidc_callback(
    page: PageDep,
    db: SessionDep,
    runtime: RuntimeDep,
    state: str = "",
    code: str = "",
    error: str = "",
) -> Response:
    """Finish a sign-in the identity provider confirmed: an enabled account with that e-mail signs in."""
    try:
        with attempt(db):
            principal, token = oidc.finish(
                engine=runtime.engine,
                clock=runtime.clock,
                session=db,
                settings=runtime.settings,
                public_url=runtime.settings.public_url,
                secret=runtime.secret,
                browser=page.session.csrf,
                state=state[:256],
                code=code[:2048],
                error=error[:200],
                replacing=page.session.staff_token,
            )
    except FairslotError as exc:
        return _oidc_refused(page, exc)
    return _signed_in(page, token, "", home_of(principal))
