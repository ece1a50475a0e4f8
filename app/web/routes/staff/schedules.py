"""An office's opening schedules, one per service, and its recurring release rules (``/staff/schedules``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, InvalidInput
from app.http.deps import NowDep, SessionDep
from app.services.operations import release_rules, schedules
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.forms import planning_forms
from app.web.forms.planning_forms import ScheduleForm
from app.web.i18n import N_, fmt_datetime
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str | None, Query(max_length=32)]

SCHEDULE_SAVED = N_("The opening schedule of %(service)s is saved: %(slots)s slots in an ordinary week.")
RULE_CREATED = N_("The recurring release is set: first publication on %(when)s.")
RULE_DELETED = N_("The recurring release is stopped; the releases it published stay.")
NO_OFFICE = N_("Your key reaches no office: there is no schedule to show.")


def schedules_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    *,
    office: str | None,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    forms: dict[str, Any] | None = None,
    errors: dict[str, FieldErrors] | None = None,
) -> HTMLResponse:
    """The schedules of every service at the office, and its rules."""
    try:
        with attempt(db):
            planning = schedules.office_planning(session=db, staff=staff, office=office)
    except FairslotError as exc:
        message = (
            page.gettext(NO_OFFICE)
            if exc.status == 404 and office is None
            else page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        )
        return render(
            page, "staff_schedules.html", status_code=exc.status, staff=staff, planning=None, error=message
        )
    code = planning.office.code
    rules: list[release_rules.RuleView] = []
    if staff.can(Action.READ_RELEASE_RULES, code):
        rules = release_rules.list_rules(session=db, staff=staff, office=code)
    translated = {
        form: {name: page.gettext(message) for name, message in found.items()}
        for form, found in (errors or {}).items()
    }
    return render(
        page,
        "staff_schedules.html",
        status_code=status_code,
        staff=staff,
        planning=planning,
        rules=rules,
        schedule_forms={s.service.code: ScheduleForm.of_lines(s.lines) for s in planning.schedules},
        can_plan=staff.can(Action.PLAN_OFFICE, code),
        can_write_rules=staff.can(Action.MANAGE_RELEASE_RULES, code),
        forms=forms or {},
        errors=translated,
        notice=notice,
        error=error,
    )


@router.get("/staff/schedules", response_class=HTMLResponse)
def staff_schedules(page: PageDep, staff: StaffPageDep, db: SessionDep, office: Code = None) -> HTMLResponse:
    """The office's opening schedules and recurring releases (planner, desk or auditor of the office, admin)."""
    if staff is None:
        return sign_in_page(page)
    return schedules_page(page, db, staff, office=office)


@router.post("/staff/schedules", response_model=None)
def save_schedule(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Replace a service's schedule at the office (planner of the office, admin)."""
    if staff is None:
        return redirect(page, "/staff")
    office, service = text(form, "office", 32).lower(), text(form, "service", 32).lower()
    submitted = ScheduleForm.read(form)
    key = f"schedule:{service}"

    def again(status: int, **extra: Any) -> HTMLResponse:
        return schedules_page(
            page, db, staff, office=office, status_code=status, forms={key: submitted}, **extra
        )

    if not staff.can(Action.PLAN_OFFICE, office):
        return again(403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = submitted.validate()
    if data is None:
        return again(422, errors={key: found})
    try:
        with attempt(db):
            saved = schedules.put_schedule(
                session=db, staff=staff, office=office, service=service, data=data, now=now
            )
    except FairslotError as exc:
        return again(exc.status, error=page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR)))
    shown = saved.public()
    notice = page.gettext(SCHEDULE_SAVED, service=saved.service.name, slots=shown.slots_per_week)
    return schedules_page(page, db, staff, office=office, notice=notice)


@router.post("/staff/schedules/rules", response_model=None)
def create_rule(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Set a recurring release (planner of the office)."""
    if staff is None:
        return redirect(page, "/staff")
    office = text(form, "office", 32).lower()
    fields = {name: text(form, name, 40) for name in planning_forms.RULE_FIELDS}

    def again(status: int, **extra: Any) -> HTMLResponse:
        return schedules_page(
            page, db, staff, office=office, status_code=status, forms={"rule": fields}, **extra
        )

    if not staff.can(Action.MANAGE_RELEASE_RULES, office):
        return again(403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = planning_forms.rule_body(office, fields)
    if data is None:
        return again(422, errors={"rule": found})
    try:
        with attempt(db):
            view = release_rules.create_rule(session=db, staff=staff, data=data, now=now)
    except InvalidInput as exc:
        placed = planning_forms.service_errors(exc.data.get("errors") or [], planning_forms.RULE_FIELDS)
        return again(422, errors={"rule": placed})
    except FairslotError as exc:
        return again(exc.status, error=page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR)))
    when = _local(page, view.rule.next_run_at, view.office.timezone)
    return schedules_page(
        page, db, staff, office=office, status_code=201, notice=page.gettext(RULE_CREATED, when=when)
    )


def _local(page: Page, moment: datetime, timezone: str) -> str:
    return fmt_datetime(moment, page.lang, timezone)


@router.post("/staff/schedules/rules/{rule_id}/delete", response_model=None)
def delete_rule(
    rule_id: Id, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Stop a recurring release (planner of its office)."""
    if staff is None:
        return redirect(page, "/staff")
    office = text(form, "office", 32).lower()
    try:
        with attempt(db):
            release_rules.delete_rule(session=db, staff=staff, rule_id=rule_id, now=now)
    except FairslotError as exc:
        message = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        return schedules_page(page, db, staff, office=office, status_code=exc.status, error=message)
    return schedules_page(page, db, staff, office=office, notice=page.gettext(RULE_DELETED))
