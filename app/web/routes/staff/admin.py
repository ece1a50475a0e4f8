"""Admin forms of the staff home: offices and services (created, then edited: practical information, names
and papers per language), staff keys (created once, revocable)."""

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
from app.schemas.catalog import (
    LANGUAGE_CODES,
    MAX_DOCUMENTS,
    OfficeCreate,
    OfficeUpdate,
    ServiceCreate,
    ServiceUpdate,
)
from app.schemas.staff import StaffKeyCreate
from app.services.operations import catalog
from app.services.staff import keys as staff_keys
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text, values, whole_number
from app.web.forms.policy_form import MESSAGES as POLICY_MESSAGES
from app.web.forms.policy_form import PolicyForm
from app.web.i18n import N_
from app.web.routes.staff.home import home_page

router = APIRouter(include_in_schema=False)
KeyId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CodePath = Annotated[str, Path(max_length=32)]

MESSAGES = {
    "code": N_("Enter a code of lowercase letters, digits, dashes or underscores (at most 32)."),
    "name": N_("Enter a name of at most 200 characters."),
    "timezone": N_("Enter a time zone such as Europe/Paris."),
    "address": N_("Enter an address of at most 300 characters."),
    "phone": N_("Enter a phone number such as 01 42 76 40 40 or +262 262 40 75 75."),
    "access_notes": N_("Enter access notes of at most 1,000 characters."),
    "holiday_region": N_("Choose a holiday region from the list."),
    "names": N_("Enter the name in French; other languages are optional (at most 200 characters each)."),
    "documents": N_(
        "Enter one paper per line, at most 20 lines of 200 characters; the French list is needed as soon as "
        "another language has one."
    ),
    "slot_minutes": N_("Enter the length of a slot in minutes, from 5 to 480."),
    "role": N_("Choose a role."),
    "offices": N_("Choose at least one office for this role."),
    "label": N_("Enter a label of at most 200 characters."),
    "weight_policy": POLICY_MESSAGES["weight_policy"],
}
CODE_TAKEN = N_("This code is already taken.")
OFFICE_CREATED = N_("Office %(code)s is created.")
SERVICE_CREATED = N_("Service %(code)s is created.")
OFFICE_UPDATED = N_("Office %(code)s is updated.")
SERVICE_UPDATED = N_("Service %(code)s is updated.")
NO_SUCH_CODE = N_("There is no office or service with this code.")
OFFICE_FIELDS = ("name", "address", "phone", "access_notes", "holiday_region")
KEY_REVOKED = N_("Staff key %(id)s is revoked.")
KEY_NOT_FOUND = N_("There is no staff key with this number.")


def _fields(form: FormData, names: tuple[str, ...]) -> dict[str, str]:
    return {name: text(form, name, 400) for name in names}


def _field_of(loc: tuple[Any, ...], message: str) -> str:
    """The page field of a schema error: ``names``/``documents`` errors fall on a language's field."""
    if not loc:
        for name in ("names", "documents", "name", "slot_minutes"):
            if message.startswith(name) or f" {name}:" in message:
                return f"{name}_fr" if name in ("names", "documents") else name
        return "code"
    name = str(loc[0])
    if name in ("names", "documents"):
        language = str(loc[1]) if len(loc) > 1 and str(loc[1]) in LANGUAGE_CODES else "fr"
        return f"{name}_{language}"
    return name


def _schema_errors(exc: ValidationError) -> FieldErrors:
    found: FieldErrors = {}
    for err in exc.errors():
        name = _field_of(tuple(err["loc"]), str(err["msg"]))
        kind = name.split("_")[0] if name.startswith(("names_", "documents_")) else name
        found.setdefault(name if kind in MESSAGES else "code", MESSAGES.get(kind, MESSAGES["code"]))
    return found


def _validated(model: type[BaseModel], body: dict[str, Any]) -> tuple[Any, FieldErrors]:
    try:
        return model.model_validate_json(json.dumps(body)), {}  # exactly as the API reads a body
    except ValidationError as exc:
        return None, _schema_errors(exc)


@router.post("/staff/offices", response_model=None)
def create_office(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Add an office (admin)."""
    if staff is None:
        return redirect(page, "/staff")
    fields = _fields(form, ("code", "name", "timezone", "address", "phone", "holiday_region"))
    fields["access_notes"] = text(form, "access_notes", 2000)
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = _validated(
        OfficeCreate, {k: v for k, v in fields.items() if k in ("code", "name", "timezone") or v}
    )
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


@router.post("/staff/offices/{code}", response_model=None)
def update_office(
    code: CodePath, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Change an office's name and practical information (admin); an empty optional field clears it."""
    if staff is None:
        return redirect(page, "/staff")
    fields = _fields(form, ("name", "address", "phone", "holiday_region"))
    fields["access_notes"] = text(form, "access_notes", 2000)
    key = f"office:{code}"
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = _validated(OfficeUpdate, {k: (v or None) if k != "name" else v for k, v in fields.items()})
    if data is None:
        return home_page(page, db, staff, now, status_code=422, forms={key: fields}, errors={key: found})
    try:
        with attempt(db):
            office = catalog.update_office(session=db, code=code, data=data, staff=staff)
    except FairslotError as exc:
        message = (
            NO_SUCH_CODE if isinstance(exc, NotFound) else labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
        )
        return home_page(page, db, staff, now, status_code=exc.status, error=page.gettext(message))
    return home_page(page, db, staff, now, notice=page.gettext(OFFICE_UPDATED, code=office.code))


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


@router.post("/staff/services/{code}", response_model=None)
def update_service(
    code: CodePath, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Change a service's name, slot length, names and papers to bring per language (admin)."""
    if staff is None:
        return redirect(page, "/staff")
    fields: dict[str, Any] = _fields(form, ("name", "slot_minutes"))
    for lang in LANGUAGE_CODES:
        fields[f"names_{lang}"] = text(form, f"names_{lang}", 400)
        fields[f"documents_{lang}"] = text(form, f"documents_{lang}", MAX_DOCUMENTS * 210)
    policy_form = PolicyForm.read(form)
    fields["policy"] = policy_form
    key = f"service:{code}"
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    minutes = fields["slot_minutes"]
    body: dict[str, Any] = {
        "name": fields["name"],
        "slot_minutes": minutes if (number := whole_number(minutes, 0, 99_999)) is None else number,
        "names": {lang: fields[f"names_{lang}"] for lang in LANGUAGE_CODES if fields[f"names_{lang}"]},
        "documents": {
            lang: _lines(fields[f"documents_{lang}"])
            for lang in LANGUAGE_CODES
            if _lines(fields[f"documents_{lang}"])
        },
    }
    policy, policy_errors = policy_form.body()
    if policy is not None:
        body["weight_policy"] = policy
    data, found = _validated(ServiceUpdate, body)
    if policy_errors:
        data, found = None, {**found, **policy_errors}
    if data is None:
        return home_page(page, db, staff, now, status_code=422, forms={key: fields}, errors={key: found})
    try:
        with attempt(db):
            service = catalog.update_service(session=db, code=code, data=data, staff=staff)
    except FairslotError as exc:
        message = (
            NO_SUCH_CODE if isinstance(exc, NotFound) else labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
        )
        return home_page(page, db, staff, now, status_code=exc.status, error=page.gettext(message))
    return home_page(page, db, staff, now, notice=page.gettext(SERVICE_UPDATED, code=service.code))


@router.post("/staff/services", response_model=None)
def create_service(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Add a service (admin), its rules from the policy form or given as JSON, as the API takes them."""
    if staff is None:
        return redirect(page, "/staff")
    fields: dict[str, Any] = _fields(form, ("code", "name", "slot_minutes"))
    policy_form = PolicyForm.read(form)
    fields["policy"] = policy_form
    if not staff.can(Action.MANAGE_CATALOG):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    minutes = fields["slot_minutes"]
    policy, policy_errors = policy_form.body()
    body: dict[str, Any] = {
        "code": fields["code"],
        "name": fields["name"],
        "slot_minutes": minutes if (number := whole_number(minutes, 0, 99_999)) is None else number,
        **({"weight_policy": policy} if policy is not None else {}),
    }
    data, found = _validated(ServiceCreate, body)
    if policy_errors:
        data, found = None, {**found, **policy_errors}
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
