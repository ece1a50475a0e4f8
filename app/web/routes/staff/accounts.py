"""Admins' pages for named staff accounts: the list and the invitation form; one account's roles, status,
invitation link, second factor, sessions and keys. Every form goes through ``app.services.staff.accounts``,
as the API does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import ValidationError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, Response

from app.domain.access import ACCOUNT_ROLES, Action
from app.domain.errors import AlreadyExists, FairslotError, InvalidInput, NotFound
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.staff import StaffAccountCreate, StaffAccountUpdate, StaffKeyCreate
from app.services.operations.catalog import offices_by_code
from app.services.staff import accounts
from app.services.staff.principal import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text, values
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
AccountId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ROLES = [role.value for role in ACCOUNT_ROLES]

MESSAGES = {
    "email": N_("Enter the person's e-mail address, such as camille.martin@interieur.gouv.fr."),
    "email_taken": N_(
        "An account with this e-mail address exists already: open it to send a new invitation."
    ),
    "display_name": N_("Enter the person's name, as colleagues know it (at most 200 characters)."),
    "roles": N_(
        "Choose at least one role, and for each role other than administrator and auditor its offices."
    ),
    "role": N_("Choose a role the account holds."),
    "offices": N_("Choose offices within the account's offices for this role."),
    "label": N_("Enter a label of at most 200 characters."),
}
FORBIDDEN = N_("Your roles do not allow this page: only administrators manage staff accounts.")
NOT_FOUND = N_("There is no staff account with this number.")
DISABLED_FIRST = N_("Enable the account first.")
INVITED = N_("Invitation sent to %(email)s. The link below is shown only this once; it is valid 72 hours.")
UPDATED = N_("The account is saved.")
DISABLED = N_("The account is disabled: its sessions and its keys stopped at once.")
ENABLED = N_("The account is enabled again (its former keys stay revoked).")
SESSIONS_ENDED = N_("%(count)s sessions ended.")
FACTOR_RESET = N_(
    "The second factor is reset and the account's sessions ended. The person enrols a new one with the "
    "invitation link below (shown only this once, also e-mailed)."
)


def _forbidden(page: Page) -> HTMLResponse:
    return render(page, "staff/forbidden.html", status_code=403, message=page.gettext(FORBIDDEN))


def _grants(form: FormData) -> tuple[list[dict[str, Any]], dict[str, list[str]]]:
    """The roles ticked, each with its offices; and what was ticked, to show the form again."""
    ticked = {role: values(form, f"offices_{role}", 100) for role in ROLES if text(form, f"role_{role}", 8)}
    return [{"role": role, "offices": offices} for role, offices in ticked.items()], ticked


def _field_of(path: str) -> str:
    head = path.split(".", 1)[0]
    return head if head in ("email", "display_name") else "roles"


def _form_errors(exc: ValidationError | FairslotError) -> FieldErrors:
    found: FieldErrors = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            field = _field_of(".".join(str(p) for p in err["loc"]))
            found.setdefault(field, MESSAGES[field])
    elif isinstance(exc, AlreadyExists):
        found["email"] = MESSAGES["email_taken"]
    elif isinstance(exc, InvalidInput):
        for err in exc.extra.get("errors") or []:
            field = _field_of(str(err.get("path", "")))
            found.setdefault(field, MESSAGES[field])
    return found


def _list_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    *,
    status_code: int = 200,
    fields: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    invited: dict[str, Any] | None = None,
) -> HTMLResponse:
    translated = {name: page.gettext(message) for name, message in (errors or {}).items()}
    return render(
        page,
        "staff/accounts.html",
        status_code=status_code,
        accounts=accounts.list_accounts(session=db, staff=staff),
        offices=list(offices_by_code(db).values()),
        roles=ROLES,
        fields=fields or {"email": "", "display_name": "", "ticked": {}},
        errors=translated,
        error_list=[
            (name, translated[name]) for name in ("email", "display_name", "roles") if name in translated
        ],
        invited=invited,
    )


@router.get("/staff/accounts", response_class=HTMLResponse)
def account_list(page: PageDep, staff: StaffPageDep, db: SessionDep) -> HTMLResponse:
    """Every account, and the form to invite someone (admin)."""
    if staff is None:
        return sign_in_page(page)
    if not staff.can(Action.MANAGE_STAFF_ACCOUNTS):
        return _forbidden(page)
    return _list_page(page, db, staff)


@router.post("/staff/accounts", response_model=None)
def account_create(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Invite a new member of staff; the link is shown on this page once (and e-mailed)."""
    if staff is None:
        return redirect(page, "/staff/sign-in")
    if not staff.can(Action.MANAGE_STAFF_ACCOUNTS):
        return _forbidden(page)
    grants, ticked = _grants(form)
    fields = {
        "email": text(form, "email", 254),
        "display_name": text(form, "display_name", 200),
        "ticked": ticked,
    }
    try:
        data = StaffAccountCreate.model_validate(
            {"email": fields["email"], "display_name": fields["display_name"], "roles": grants}
        )
        with attempt(db):
            created, issued = accounts.create_account(
                session=db,
                staff=staff,
                data=data,
                now=now,
                public_url=runtime.settings.public_url,
                secret=runtime.secret,
            )
    except (ValidationError, AlreadyExists, InvalidInput) as exc:
        status = exc.status if isinstance(exc, FairslotError) else 422
        return _list_page(page, db, staff, status_code=status, fields=fields, errors=_form_errors(exc))
    invited = {
        "notice": page.gettext(INVITED, email=created.email),
        "url": issued.invitation_url,
        "account_id": created.id,
    }
    return _list_page(page, db, staff, status_code=201, invited=invited)


def _detail_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    account_id: int,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    link: str | None = None,
    created_key: dict[str, Any] | None = None,
    errors: FieldErrors | None = None,
    ticked: dict[str, list[str]] | None = None,
    key_errors: FieldErrors | None = None,
) -> HTMLResponse:
    try:
        account = accounts.get_account(session=db, staff=staff, account_id=account_id)
    except NotFound:
        return render(page, "staff/forbidden.html", status_code=404, message=page.gettext(NOT_FOUND))
    translated = {name: page.gettext(message) for name, message in (errors or {}).items()}
    held = {g.role: list(g.offices) for g in account.roles}
    return render(
        page,
        "staff/account_detail.html",
        status_code=status_code,
        account=account,
        keys=accounts.keys_of(session=db, staff=staff, account_id=account_id),
        offices=list(offices_by_code(db).values()),
        roles=ROLES,
        ticked=ticked if ticked is not None else held,
        held=held,
        notice=notice,
        error=error,
        link=link,
        created_key=created_key,
        errors=translated,
        key_errors={name: page.gettext(message) for name, message in (key_errors or {}).items()},
    )


def _guard(page: Page, staff: StaffPrincipal | None) -> Response | None:
    if staff is None:
        return redirect(page, "/staff/sign-in")
    if not staff.can(Action.MANAGE_STAFF_ACCOUNTS):
        return _forbidden(page)
    return None


@router.get("/staff/accounts/{account_id}", response_class=HTMLResponse)
def account_detail(account_id: AccountId, page: PageDep, staff: StaffPageDep, db: SessionDep) -> Response:
    """One account: roles, status, invitation, second factor, sessions, keys (admin)."""
    if staff is None:
        return sign_in_page(page)
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    return _detail_page(page, db, staff, account_id)


def _refused(page: Page, db: Session, staff: StaffPrincipal, account_id: int, exc: FairslotError) -> Response:
    """The account's page again, with the service's refusal in the page's language and its status."""
    return _detail_page(
        page, db, staff, account_id, status_code=exc.status, error=page.gettext(_message(exc))
    )


def _message(exc: FairslotError) -> str:
    if isinstance(exc, NotFound):
        return NOT_FOUND
    if isinstance(exc, InvalidInput) and any(
        e.get("path") == "status" for e in exc.extra.get("errors") or []
    ):
        return DISABLED_FIRST
    return labels.ERROR.get(exc.code, labels.GENERIC_ERROR)


@router.post("/staff/accounts/{account_id}", response_model=None)
def account_update(
    account_id: AccountId, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Change an account's name and roles (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    grants, ticked = _grants(form)
    try:
        data = StaffAccountUpdate.model_validate(
            {"display_name": text(form, "display_name", 200), "roles": grants}
        )
        with attempt(db):
            accounts.update_account(session=db, staff=staff, account_id=account_id, data=data, now=now)
    except (ValidationError, InvalidInput) as exc:
        return _detail_page(
            page, db, staff, account_id, status_code=422, errors=_form_errors(exc), ticked=ticked
        )
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    return _detail_page(page, db, staff, account_id, notice=page.gettext(UPDATED))


@router.post("/staff/accounts/{account_id}/status", response_model=None)
def account_status(
    account_id: AccountId, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Disable an account (its sessions and keys stop at once) or enable it again (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    wanted = text(form, "status", 16)
    try:
        data = StaffAccountUpdate.model_validate({"status": wanted})
        with attempt(db):
            accounts.update_account(session=db, staff=staff, account_id=account_id, data=data, now=now)
    except ValidationError:
        return _detail_page(
            page, db, staff, account_id, status_code=422, error=page.gettext(labels.GENERIC_ERROR)
        )
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    notice = DISABLED if wanted == "disabled" else ENABLED
    return _detail_page(page, db, staff, account_id, notice=page.gettext(notice))


@router.post("/staff/accounts/{account_id}/invitation", response_model=None)
def account_invitation(
    account_id: AccountId,
    page: PageDep,
    form: FormDep,
    staff: StaffPageDep,
    db: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> Response:
    """A new invitation link (also how a forgotten password is reset); shown once, e-mailed (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    try:
        with attempt(db):
            issued = accounts.reinvite(
                session=db,
                staff=staff,
                account_id=account_id,
                now=now,
                public_url=runtime.settings.public_url,
                secret=runtime.secret,
            )
            email = accounts.get_account(session=db, staff=staff, account_id=account_id).email
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    return _detail_page(
        page, db, staff, account_id, notice=page.gettext(INVITED, email=email), link=issued.invitation_url
    )


@router.post("/staff/accounts/{account_id}/second-factor-reset", response_model=None)
def account_second_factor_reset(
    account_id: AccountId,
    page: PageDep,
    form: FormDep,
    staff: StaffPageDep,
    db: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> Response:
    """Forget the second factor and end the sessions; a link to enrol a new one is shown once (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    try:
        with attempt(db):
            issued = accounts.reset_second_factor(
                session=db,
                staff=staff,
                account_id=account_id,
                now=now,
                public_url=runtime.settings.public_url,
                secret=runtime.secret,
            )
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    return _detail_page(
        page, db, staff, account_id, notice=page.gettext(FACTOR_RESET), link=issued.invitation_url
    )


@router.post("/staff/accounts/{account_id}/sessions/end", response_model=None)
def account_end_sessions(
    account_id: AccountId, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """End every session of the account (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    try:
        with attempt(db):
            ended = accounts.end_sessions(session=db, staff=staff, account_id=account_id, now=now)
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    if staff.account_id == account_id:
        page.session.sign_out()
        return redirect(page, "/staff/sign-in")
    return _detail_page(page, db, staff, account_id, notice=page.gettext(SESSIONS_ENDED, count=ended))


@router.post("/staff/accounts/{account_id}/keys", response_model=None)
def account_key(
    account_id: AccountId, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """A key for the account, within its roles and offices; shown on this page only (admin)."""
    refused = _guard(page, staff)
    if refused is not None:
        return refused
    assert staff is not None
    body: dict[str, Any] = {
        "role": text(form, "role", 16),
        "offices": values(form, "offices", 100),
        "label": text(form, "label", 200),
    }
    try:
        data = StaffKeyCreate.model_validate(body)
        with attempt(db):
            row, key = accounts.create_key(session=db, staff=staff, account_id=account_id, data=data)
    except (ValidationError, InvalidInput) as exc:
        found: FieldErrors = {}
        if isinstance(exc, ValidationError):
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else "role"
                found.setdefault(name if name in MESSAGES else "role", MESSAGES.get(name, MESSAGES["role"]))
        else:
            for err in exc.extra.get("errors") or []:
                name = str(err.get("path", "role"))
                found.setdefault(
                    name if name in ("role", "offices") else "role", MESSAGES.get(name, MESSAGES["role"])
                )
        return _detail_page(page, db, staff, account_id, status_code=422, key_errors=found)
    except FairslotError as exc:
        return _refused(page, db, staff, account_id, exc)
    created = {"id": row.id, "key": key, "role": row.role, "offices": row.offices, "label": row.label}
    return _detail_page(page, db, staff, account_id, status_code=201, created_key=created)
