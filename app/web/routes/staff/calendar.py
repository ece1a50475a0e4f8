"""The office's week (``/staff/calendar``): holidays, closures, per service the slots by state, the releases of
the week and the capacity advice; the planner publishes the week, closes days and withdraws a release here.
A week per screen, printable (the print style leaves the forms out)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import BookingsInClosure, FairslotError, InvalidInput
from app.domain.planning import weeks
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.runtime import Runtime
from app.services.beacons import rounds
from app.services.operations import calendar, catalog, closures, publishing, withdrawals
from app.services.staff.keys import StaffPrincipal
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.forms import planning_forms
from app.web.i18n import N_, fmt_datetime
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
Id = Annotated[int, Path(ge=1, le=2**31 - 1)]
Code = Annotated[str | None, Query(max_length=32)]
Week = Annotated[str | None, Query(max_length=16)]

PUBLISHED = N_("Week %(week)s is published: release %(id)s, %(slots)s slots, drawn on %(draw_at)s.")
CLOSED = N_(
    "The days are closed: %(slots)s free slots removed, %(offers)s offers withdrawn, %(bookings)s bookings "
    "cancelled (their holders are told)."
)
CLOSURE_DELETED = N_("The closure is removed: its days may be published again.")
WITHDRAWN = N_("Release %(id)s is withdrawn; it will not be drawn.")
#: What the planner's actions can meet, in the planner's words (French and English: staff pages).
REFUSALS = {
    "bookings_in_closure": N_(
        "%(bookings)s bookings fall on these days. Tick “Cancel these bookings” to close anyway: their holders "
        "are told at once and go back to the queue first, with their waiting time."
    ),
    "week_published": N_(
        "This week is already published (release %(release_id)s). Withdraw it first to publish it again."
    ),
    "nothing_to_publish": N_(
        "The schedule leaves no slot in this week: public holidays, closures, or no opening hours for this service."
    ),
    "release_withdrawn": N_("This release is already withdrawn."),
    "not_found": N_("There is no such office, service, release or closure."),
}
NO_OFFICE = N_("Your key reaches no office: there is no calendar to show.")


def _message(page: Page, exc: FairslotError) -> str:
    wanted = REFUSALS.get(exc.code) or labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
    values = {
        k: "?" if v is None else v for k, v in exc.data.items() if v is None or isinstance(v, int | str)
    }
    return page.gettext(wanted, **values) if values and "%(" in wanted else page.gettext(wanted)


def week_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    *,
    office: str | None,
    week: str | None,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
    forms: dict[str, Any] | None = None,
    errors: dict[str, FieldErrors] | None = None,
) -> HTMLResponse:
    """The planner's week; a week that is not ISO shows the current one with the error."""
    try:
        with attempt(db):
            shown = calendar.planner_week(
                session=db, staff=staff, office=office, week=week, now=now, language=page.lang
            )
    except InvalidInput:
        shown = calendar.planner_week(
            session=db, staff=staff, office=office, week=None, now=now, language=page.lang
        )
        status_code, error = 422, page.gettext(planning_forms.MESSAGES["week"])
    except FairslotError as exc:
        message = page.gettext(NO_OFFICE) if exc.status == 404 and office is None else _message(page, exc)
        return render(
            page, "staff_calendar.html", status_code=exc.status, staff=staff, week=None, error=message
        )
    code = shown.office.code
    zone = ZoneInfo(shown.office.timezone)
    translated = {
        form: {name: page.gettext(message) for name, message in found.items()}
        for form, found in (errors or {}).items()
    }
    return render(
        page,
        "staff_calendar.html",
        status_code=status_code,
        staff=staff,
        week=shown,
        now=now,
        previous_week=weeks.week_of(shown.monday - timedelta(days=7)),
        next_week=weeks.week_of(shown.monday + timedelta(days=7)),
        # A suggested draw: the Monday before the week, 10:00 office-local.
        default_draw=f"{shown.monday - timedelta(days=7)}T10:00",
        can_publish=staff.can(Action.PUBLISH_RELEASE, code),
        can_plan=staff.can(Action.PLAN_OFFICE, code),
        can_withdraw=staff.can(Action.WITHDRAW_RELEASE, code),
        forms=forms or {},
        errors=translated,
        notice=notice,
        error=error,
        zone=str(zone),
    )


@router.get("/staff/calendar", response_class=HTMLResponse)
def staff_calendar(
    page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep, office: Code = None, week: Week = None
) -> HTMLResponse:
    """An office's week (planner, desk or auditor of the office, admin)."""
    if staff is None:
        return sign_in_page(page)
    return week_page(page, db, staff, now, office=office, week=week)


def _office_of(form: Any) -> str:
    return text(form, "office", 32).lower()


@router.post("/staff/calendar/publish", response_model=None)
def publish_week(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Publish the week shown for one service (planner of the office)."""
    if staff is None:
        return redirect(page, "/staff")
    office, week = _office_of(form), text(form, "week", 16)
    fields = {name: text(form, name, 40) for name in planning_forms.PUBLISH_FIELDS}
    return _publish(page, db, staff, now, runtime, office, week, fields)


def _publish(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    runtime: Runtime,
    office: str,
    week: str,
    fields: dict[str, str],
) -> Response:
    def again(status: int, **extra: Any) -> HTMLResponse:
        return week_page(
            page,
            db,
            staff,
            now,
            office=office,
            week=week,
            status_code=status,
            forms={"publish": fields},
            **extra,
        )

    if not staff.can(Action.PUBLISH_RELEASE, office):
        return again(403, error=page.gettext(labels.ERROR["forbidden"]))
    zone = _zone(db, office)
    data, found = planning_forms.publish_body(fields, zone)
    if data is None:
        return again(422, errors={"publish": found})
    try:
        with attempt(db):
            release = publishing.publish_week(
                session=db,
                staff=staff,
                office=office,
                service=fields["service"],
                data=data,
                now=now,
                default_ttl_hours=runtime.settings.offer_ttl_hours,
                secret=runtime.secret,
                setup=rounds.setup_for(runtime.settings),
            )
    except InvalidInput as exc:
        placed = planning_forms.service_errors(exc.data.get("errors") or [], planning_forms.PUBLISH_FIELDS)
        return again(422, errors={"publish": placed})
    except FairslotError as exc:
        return again(exc.status, error=_message(page, exc))
    notice = page.gettext(
        PUBLISHED,
        week=release.week,
        id=release.id,
        slots=release.slot_count,
        draw_at=_when(page, release.draw_at, zone),
    )
    return week_page(page, db, staff, now, office=office, week=week, status_code=201, notice=notice)


def _zone(db: Session, office: str) -> ZoneInfo:
    shown = catalog.offices_by_code(db).get(office)
    return ZoneInfo(shown.timezone if shown else "Europe/Paris")


def _when(page: Page, moment: datetime, zone: ZoneInfo) -> str:
    return fmt_datetime(moment, page.lang, str(zone))


@router.post("/staff/calendar/closures", response_model=None)
def close_days(page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> Response:
    """Close days of the office or reduce its desks (planner of the office, admin)."""
    if staff is None:
        return redirect(page, "/staff")
    office, week = _office_of(form), text(form, "week", 16)
    fields = {name: text(form, name, 200) for name in planning_forms.CLOSURE_FIELDS}
    cancel = text(form, "cancel_bookings", 4) == "on"
    fields["cancel_bookings"] = "on" if cancel else ""

    def again(status: int, **extra: Any) -> HTMLResponse:
        return week_page(
            page,
            db,
            staff,
            now,
            office=office,
            week=week,
            status_code=status,
            forms={"closure": fields},
            **extra,
        )

    if not staff.can(Action.PLAN_OFFICE, office):
        return again(403, error=page.gettext(labels.ERROR["forbidden"]))
    data, found = planning_forms.closure_body(fields, cancel)
    if data is None:
        return again(422, errors={"closure": found})
    try:
        with attempt(db):
            view = closures.create_closure(session=db, staff=staff, office=office, data=data, now=now)
    except InvalidInput as exc:
        placed = planning_forms.service_errors(exc.data.get("errors") or [], planning_forms.CLOSURE_FIELDS)
        return again(422, errors={"closure": placed})
    except BookingsInClosure as exc:
        return again(409, errors={"closure": {"cancel_bookings": _message(page, exc)}})
    except FairslotError as exc:
        return again(exc.status, error=_message(page, exc))
    c = view.closure
    notice = page.gettext(
        CLOSED, slots=view.removed_slots, offers=c.withdrawn_offers, bookings=c.cancelled_bookings
    )
    return week_page(page, db, staff, now, office=office, week=week, status_code=201, notice=notice)


@router.post("/staff/calendar/closures/{closure_id}/delete", response_model=None)
def delete_closure(
    closure_id: Id, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Remove a closure (planner of the office, admin)."""
    if staff is None:
        return redirect(page, "/staff")
    office, week = _office_of(form), text(form, "week", 16)
    try:
        with attempt(db):
            closures.delete_closure(session=db, staff=staff, office=office, closure_id=closure_id)
    except FairslotError as exc:
        return week_page(
            page, db, staff, now, office=office, week=week, status_code=exc.status, error=_message(page, exc)
        )
    return week_page(page, db, staff, now, office=office, week=week, notice=page.gettext(CLOSURE_DELETED))


@router.post("/staff/calendar/releases/{release_id}/withdraw", response_model=None)
def withdraw_release(
    release_id: Id, page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep
) -> Response:
    """Withdraw a release before its draw (planner of its office)."""
    if staff is None:
        return redirect(page, "/staff")
    office, week = _office_of(form), text(form, "week", 16)
    reason = text(form, "reason", 200)
    data, found = planning_forms.withdraw_body(reason)
    if data is None:
        errors = {f"withdraw-{release_id}": found}
        return week_page(page, db, staff, now, office=office, week=week, status_code=422, errors=errors)
    try:
        with attempt(db):
            withdrawals.withdraw_release(
                session=db, staff=staff, release_id=release_id, reason=data.reason, now=now
            )
    except FairslotError as exc:
        return week_page(
            page, db, staff, now, office=office, week=week, status_code=exc.status, error=_message(page, exc)
        )
    return week_page(
        page, db, staff, now, office=office, week=week, notice=page.gettext(WITHDRAWN, id=release_id)
    )
