"""The audit log page for auditors and admins: the same filters as the API, pages of 100, a CSV export."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter
from sqlmodel import Session
from starlette.responses import HTMLResponse, Response, StreamingResponse

from app.domain.access import Action
from app.domain.errors import FairslotError, Forbidden
from app.http.deps import SessionDep
from app.schemas.audit import moment
from app.services.operations.catalog import offices_by_code
from app.services.staff import audit_log
from app.services.staff.audit_log import AuditFilters
from app.services.staff.principal import StaffPrincipal
from app.web.deps import PageDep, StaffPageDep
from app.web.i18n import N_
from app.web.page import Page
from app.web.routes.staff.home import sign_in_page
from app.web.templating import render

router = APIRouter(include_in_schema=False)

FORBIDDEN = N_("Your roles do not allow this page: the audit log is for auditors and administrators.")
OUTSIDE = N_("This office is outside your offices.")
MESSAGES = {
    "from": N_("Enter a date such as 2026-12-01, or a time with its offset."),
    "to": N_("Enter a date such as 2026-12-31, or a time with its offset."),
    "actor": N_("Enter an account number (12) or a key (key:7)."),
    "cursor": N_("This page of the log is not one this page gave; start again from the first."),
}


def _filters(
    office: str, actor: str, action: str, since: str, until: str
) -> tuple[AuditFilters, dict[str, str]]:
    errors: dict[str, str] = {}
    start: datetime | None = None
    end: datetime | None = None
    try:
        start = moment(since) if since.strip() else None
    except ValueError:
        errors["from"] = MESSAGES["from"]
    try:
        end = moment(until, end=True) if until.strip() else None
    except ValueError:
        errors["to"] = MESSAGES["to"]
    return (
        AuditFilters(
            office=office.strip().lower()[:32] or None,
            actor=actor.strip()[:32] or None,
            action=action.strip()[:48] or None,
            since=start,
            until=end,
        ),
        errors,
    )


def _refused(page: Page, message: str, status_code: int = 403) -> HTMLResponse:
    return render(page, "staff/forbidden.html", status_code=status_code, message=page.gettext(message))


@router.get("/staff/audit", response_class=HTMLResponse)
def audit_page(
    page: PageDep,
    staff: StaffPageDep,
    db: SessionDep,
    office: str = "",
    actor: str = "",
    action: str = "",
    cursor: str = "",
) -> HTMLResponse:
    """The audit log, newest first, filtered (auditor, admin; within their offices)."""
    if staff is None:
        return sign_in_page(page)
    if not staff.can(Action.READ_AUDIT):
        return _refused(page, FORBIDDEN)
    since = page.request.query_params.get("from", "")[:40]
    until = page.request.query_params.get("to", "")[:40]
    fields = {"office": office, "actor": actor, "action": action, "from": since, "to": until}
    filters, errors = _filters(office, actor, action, since, until)
    return _render(page, db, staff, filters, fields, errors, cursor[:64])


def _render(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    filters: AuditFilters,
    fields: dict[str, str],
    errors: dict[str, str],
    cursor: str,
) -> HTMLResponse:
    result = None
    status_code = 200
    if not errors:
        try:
            result = audit_log.events(session=db, staff=staff, filters=filters, cursor=cursor or None)
        except Forbidden:
            errors["office"] = OUTSIDE
            status_code = 403
        except FairslotError as exc:
            for found in exc.extra.get("errors") or []:
                name = str(found.get("path"))
                errors[name if name in MESSAGES else "actor"] = MESSAGES.get(name, MESSAGES["actor"])
            status_code = exc.status
    else:
        status_code = 422
    translated = {name: page.gettext(message) for name, message in errors.items()}
    query = {k: v for k, v in fields.items() if v}
    reach = staff.reach(Action.READ_AUDIT)
    offices = [o for code, o in offices_by_code(db).items() if reach is None or code in reach]
    return render(
        page,
        "staff/audit.html",
        status_code=status_code,
        result=result,
        fields=fields,
        errors=translated,
        error_list=list(translated.items()),
        offices=offices,
        next_link=(
            "/staff/audit?" + urlencode({**query, "cursor": result.next_cursor})
            if result is not None and result.next_cursor
            else None
        ),
        csv_link="/staff/audit.csv" + ("?" + urlencode(query) if query else ""),
    )


@router.get("/staff/audit.csv", response_model=None)
def audit_csv(
    page: PageDep,
    staff: StaffPageDep,
    db: SessionDep,
    office: str = "",
    actor: str = "",
    action: str = "",
) -> Response:
    """The filtered audit log as CSV (auditor, admin; within their offices)."""
    if staff is None:
        return sign_in_page(page, status_code=401)
    if not staff.can(Action.READ_AUDIT):
        return _refused(page, FORBIDDEN)
    since = page.request.query_params.get("from", "")
    until = page.request.query_params.get("to", "")
    filters, errors = _filters(office, actor, action, since, until)
    if errors:
        fields = {"office": office, "actor": actor, "action": action, "from": since, "to": until}
        return _render(page, db, staff, filters, fields, errors, "")
    try:
        lines = audit_log.export_csv(session=db, staff=staff, filters=filters)
    except Forbidden:
        return _refused(page, OUTSIDE)
    except FairslotError:
        return _refused(page, MESSAGES["actor"], status_code=422)
    response = StreamingResponse(lines, media_type="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="fairslot-audit.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response
