"""Staff pages: the sign-in form (shown by every staff screen to a visitor), the staff home with the
releases, publishing a release, drawing a due release."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response

from app.domain.access import Action
from app.domain.errors import FairslotError, InvalidInput
from app.domain.planning.regions import COMMON_REGIONS
from app.domain.weights import WeightPolicy
from app.http.deps import NowDep, RuntimeDep, SessionDep
from app.schemas.catalog import LANGUAGE_CODES
from app.services.beacons import rounds
from app.services.draws import drawing, releases
from app.services.evidence import stats
from app.services.messages import backlog
from app.services.operations.catalog import offices_by_code, policy_view, services_by_code
from app.services.staff.keys import StaffPrincipal
from app.services.staff.keys import list_keys as all_staff_keys
from app.services.unit_of_work import attempt
from app.web import labels
from app.web.deps import FormDep, PageDep, StaffPageDep, redirect
from app.web.form_fields import FieldErrors, text
from app.web.forms.policy_form import BAND_ROWS, OPTIONS, PolicyForm
from app.web.forms.release_form import ReleaseForm, service_errors
from app.web.i18n import N_, fmt_datetime
from app.web.page import Page
from app.web.templating import render

router = APIRouter(include_in_schema=False)
ReleaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]
RELEASES_SHOWN = 200
#: The screen each role lands on after signing in (others: the staff home).
ROLE_HOMES = {"desk": "desk", "agent": "counter", "partner": "partner", "verifier": "claims"}

#: The rules a new service starts from on the admin's form: the default policy, confirmation on.
NEW_SERVICE_POLICY = {**WeightPolicy().as_dict(), "confirm_window_days": [7, 2]}
PUBLISHED = N_("Release %(id)s is published: %(slots)s slots, drawn on %(draw_at)s.")
DRAWN = N_("Release %(id)s is drawn: %(entries)s entries, %(offered)s offers made.")


def sign_in_page(
    page: Page,
    *,
    next_page: str = "",
    error: str | None = None,
    status_code: int = 200,
    email: str = "",
    key_error: str | None = None,
) -> HTMLResponse:
    """The staff sign-in form: e-mail, password and code; the identity provider when one is configured; an
    unowned key (machines, partner organisations)."""
    settings = page.runtime.settings
    return render(
        page,
        "staff/sign_in.html",
        status_code=status_code,
        next_page=next_page,
        error=error,
        key_error=key_error,
        email=email,
        oidc_name=settings.oidc_provider_name if settings.oidc_enabled else None,
    )


def home_of(staff: StaffPrincipal) -> str:
    """Where a staff member lands after signing in: the one screen of a single-role member, else the home."""
    screens = {ROLE_HOMES[role] for role in staff.roles if role in ROLE_HOMES}
    only = len(staff.roles) == 1 and len(screens) == 1
    return f"/{screens.pop()}" if only else "/staff"


def home_page(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    *,
    status_code: int = 200,
    notice: str | None = None,
    notice_link: tuple[str, str] | None = None,
    error: str | None = None,
    forms: dict[str, Any] | None = None,
    errors: dict[str, FieldErrors] | None = None,
    created_key: dict[str, Any] | None = None,
) -> HTMLResponse:
    """The staff home: releases, the publish form (planners), the admin forms (admins)."""
    offices = offices_by_code(db)
    services = list(services_by_code(db).values())
    policy_forms = (
        {
            "": PolicyForm.of_policy(NEW_SERVICE_POLICY),
            **{s.code: PolicyForm.of_policy(policy_view(s), s.weight_policy) for s in services},
        }
        if staff.can(Action.MANAGE_CATALOG)
        else {}
    )
    scoped = [v for v in releases.list_releases(db, limit=RELEASES_SHOWN) if staff.covers(v.office.code)]
    can_publish = staff.can(Action.PUBLISH_RELEASE)
    forms = {"release": ReleaseForm.blank(), **(forms or {})}
    translated = {
        form: {name: page.gettext(message) for name, message in found.items()}
        for form, found in (errors or {}).items()
    }
    return render(
        page,
        "staff_home.html",
        status_code=status_code,
        staff=staff,
        global_scope=staff.reaches_every_office,
        releases=scoped,
        now=now,
        can_publish=can_publish,
        my_offices=[o for code, o in offices.items() if staff.covers(code)],
        all_offices=list(offices.values()),
        services=services,
        keys=all_staff_keys(db) if staff.can(Action.MANAGE_STAFF_KEYS) else [],
        demand=stats.demand(db, [code for code in offices if staff.covers(code)]),
        roles=list(labels.ROLE),
        regions=COMMON_REGIONS,
        language_codes=LANGUAGE_CODES,
        policy_forms=policy_forms,
        policy_options=OPTIONS,
        band_rows=BAND_ROWS,
        forms=forms,
        errors=translated,
        notice=notice,
        notice_link=notice_link,
        error=error,
        created_key=created_key,
        outbox=backlog.summary(session=db, staff=staff, now=now) if staff.can(Action.READ_OUTBOX) else None,
    )


@router.get("/staff", response_class=HTMLResponse)
def staff_home(page: PageDep, staff: StaffPageDep, db: SessionDep, now: NowDep) -> HTMLResponse:
    """The sign-in form, or the staff home once signed in."""
    if staff is None:
        return sign_in_page(page)
    return home_page(page, db, staff, now)


@router.post("/staff/releases", response_model=None)
def publish(
    page: PageDep, form: FormDep, staff: StaffPageDep, db: SessionDep, now: NowDep, runtime: RuntimeDep
) -> Response:
    """Publish a release from the planner's form (slots from dates, weekdays, times and desks)."""
    if staff is None:
        return redirect(page, "/staff")
    if not staff.can(Action.PUBLISH_RELEASE):
        return home_page(page, db, staff, now, status_code=403, error=page.gettext(labels.ERROR["forbidden"]))
    submitted = ReleaseForm.read(form)
    # Every office is known to the form; whether this key may publish for it is the service's question.
    known = offices_by_code(db)
    data, found = submitted.validate(known)
    if data is None:
        return home_page(
            page, db, staff, now, status_code=422, forms={"release": submitted}, errors={"release": found}
        )
    try:
        with attempt(db):
            release = releases.create_release(
                session=db,
                staff=staff,
                data=data,
                now=now,
                default_ttl_hours=runtime.settings.offer_ttl_hours,
                secret=runtime.secret,
                setup=rounds.setup_for(runtime.settings),
            )
    except FairslotError as exc:
        placed = service_errors(exc.extra.get("errors") or []) if isinstance(exc, InvalidInput) else {}
        return home_page(
            page,
            db,
            staff,
            now,
            status_code=exc.status,
            forms={"release": submitted},
            errors={"release": placed},
            error=None if placed else page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR)),
        )
    office = known[data.office]
    notice = page.gettext(
        PUBLISHED,
        id=release.id,
        slots=release.slot_count,
        draw_at=fmt_datetime(release.draw_at, page.lang, office.timezone),
    )
    return home_page(page, db, staff, now, status_code=201, notice=notice)


@router.post("/staff/releases/{release_id}/draw", response_model=None)
def draw_now(
    release_id: ReleaseId,
    page: PageDep,
    form: FormDep,
    staff: StaffPageDep,
    db: SessionDep,
    now: NowDep,
    runtime: RuntimeDep,
) -> Response:
    """Run a due release's draw now (planner of its office)."""
    if staff is None:
        return redirect(page, "/staff")
    try:
        with attempt(db):
            summary = drawing.draw_now(
                session=db,
                engine=runtime.engine,
                setup=rounds.setup_for(runtime.settings),
                release_id=release_id,
                beacon=text(form, "beacon", 512),
                now=now,
                staff=staff,
                secret=runtime.secret,
            )
    except FairslotError as exc:
        message = page.gettext(labels.ERROR.get(exc.code, labels.GENERIC_ERROR))
        return home_page(page, db, staff, now, status_code=exc.status, error=message)
    notice = page.gettext(DRAWN, id=release_id, entries=summary.entries, offered=summary.offered)
    link = (f"/draws/{summary.draw_id}", page.gettext("See the draw record"))
    return home_page(page, db, staff, now, notice=notice, notice_link=link)
