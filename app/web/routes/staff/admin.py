"""Admin forms of the staff home: offices, services, staff keys (created once, revocable)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData
from starlette.responses import Response

from app.domain.access import Action
from app.domain.errors import AlreadyExists, FairslotError, InvalidInput, NotFound
from app.http.deps import NowDep, SessionDep
from app.schemas.catalog import OfficeCreate, ServiceCreate
from app.schemas.staff import StaffKeyCreate
from app.services.operations import catalog
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text, values, whole_number
from app.web.i18n import N_
from app.web.routes.staff.home import home_page

router = APIRouter(include_in_schema=False)
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]

MESSAGES = {
    "code": N_("Enter a code of lowercase letters, digits, dashes or underscores (at most 32)."),
    "name": N_("Enter a name of at most 200 characters."),
    "timezone": N_("Enter a time zone such as Europe/Paris."),
    "address": N_("Enter an address of at most 300 characters."),
    "slot_minutes": N_("Enter the length of a slot in minutes, from 5 to 480."),
    "role": N_("Choose a role."),
    "offices": N_("Choose at least one office for this role."),
    "label": N_("Enter a label of at most 200 characters."),
    "weight_policy": N_(
        "Enter rules the service accepts, as a JSON object (the API's weight_policy), or leave it empty "
        "for the default table."
    ),
}
POLICY_MAX_CHARS = 4000
CODE_TAKEN = N_("This code is already taken.")
OFFICE_CREATED = N_("Office %(code)s is created.")
SERVICE_CREATED = N_("Service %(code)s is created.")
KEY_REVOKED = N_("Staff key %(id)s is revoked.")
KEY_NOT_FOUND = N_("There is no staff key with this number.")


def _fields(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: text(form, name, 400) for name in names}


def _schema_errors(exc: ValidationError) -> FieldErrors:
    found: FieldErrors = {}
    for err in exc.errors():
        name = str(err["loc"][0]) if err["loc"] else ""
        found.setdefault(name if name in MESSAGES else "code", MESSAGES.get(name, MESSAGES["code"]))
    return found


def _validated(model: type[BaseModel], body: dict[str, Any]) -> tuple[Any, FieldErrors]:
    try:
        return model.model_validate(body), {}
    except ValidationError as exc:
        return None, _schema_errors(exc)


@router.post("/staff/offices", response_model=None)
def create_office(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Add an office (admin)."""
    if staff is None:
        return redirect(page, "/staff")
    fields = _fields(form, ("code", "name", "timezone", "address"))
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = _validated(OfficeCreate, {k: v for k, v in fields.items() if k != "address" or v.strip()})
    if data is None:
        return home_page(
            page, db, staff, now, status_code=422, forms={"office": fields}, errors={"office": found}
        )
    try:
        with attempt(db):
            catalog.create_office(session=db, data=data, staff=staff)
    except AlreadyExists:
        errors = {"office": {"code": CODE_TAKEN}}
        return home_page(page, db, staff, now, status_code=409, forms={"office": fields}, errors=errors)
    return home_page(
        page, db, staff, now, status_code=201, notice=page.gettext(OFFICE_CREATED, code=data.code)
    )


def _policy_object(typed: str) -> tuple[Any, bool]:
    """The policy field's JSON (None when left empty) and whether it is not a JSON object at all."""
    if not typed:
        return None, False
    try:
        parsed = json.loads(typed)
    except ValueError:
        return None, True
    return (parsed, False) if isinstance(parsed, dict) else (None, True)


@router.post("/staff/services", response_model=None)
def create_service(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Add a service (admin), with the default weight policy or the rules given as JSON, as the API takes them."""
    if staff is None:
        return redirect(page, "/staff")
    fields = _fields(form, ("code", "name", "slot_minutes"))
    fields["weight_policy"] = text(form, "weight_policy", POLICY_MAX_CHARS)
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    minutes = fields["slot_minutes"]
    policy, policy_error = _policy_object(fields["weight_policy"])
    body: dict[str, Any] = {
        "code": fields["code"],
        "name": fields["name"],
        "slot_minutes": minutes if (number := whole_number(minutes, 0, 99_999)) is None else number,
        **({"weight_policy": policy} if policy is not None else {}),
    }
    data, found = _validated(ServiceCreate, body)
    if policy_error:
        data, found = None, {**found, "weight_policy": MESSAGES["weight_policy"]}
    if data is None:
        return home_page(
            page, db, staff, now, status_code=422, forms={"service": fields}, errors={"service": found}
        )
    try:
        with attempt(db):
            catalog.create_service(session=db, data=data, staff=staff)
    except AlreadyExists:
        errors = {"service": {"code": CODE_TAKEN}}
        return home_page(page, db, staff, now, status_code=409, forms={"service": fields}, errors=errors)
    return home_page(
        page, db, staff, now, status_code=201, notice=page.gettext(SERVICE_CREATED, code=data.code)
    )


@router.post("/staff/keys", response_model=None)
def create_key(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Create a staff key; the key is shown on this page only (admin)."""
    if staff is None:
        return redirect(page, "/staff")
    fields: dict[str, Any] = {**_fields(form, ("role", "label")), "offices": values(form, "offices", 100)}
    if not staff.can(Action.MANAGE_STAFF_KEYS):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = _validated(StaffKeyCreate, fields)
    if data is None:
        return home_page(page, db, staff, now, status_code=422, forms={"key": fields}, errors={"key": found})
    try:
        with attempt(db):
            row, key = staff_keys.create_key(session=db, data=data, staff=staff)
    except InvalidInput:
        errors = {"key": {"offices": MESSAGES["offices"]}}
        return home_page(page, db, staff, now, status_code=422, forms={"key": fields}, errors=errors)
    created = {"id": row.id, "key": key, "role": row.role, "offices": row.offices, "label": row.label}
    return home_page(page, db, staff, now, status_code=201, created_key=created)


@router.post("/staff/keys/{key_id}/revoke", response_model=None)
def revoke_key(
    key_id: KeyId, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Revoke a staff key at once (admin)."""
    if staff is None:
        return redirect(page, "/staff")
    try:
        with attempt(db):
            staff_keys.revoke_key(session=db, key_id=key_id, staff=staff)
    except FairslotError as exc:
        message = (
            KEY_NOT_FOUND if isinstance(exc, NotFound) else labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
        )
        return home_page(page, db, staff, now, status_code=exc.status, error=page.gettext(message))
    return home_page(page, db, staff, now, notice=page.gettext(KEY_REVOKED, id=key_id))
