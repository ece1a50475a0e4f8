"""The desk screen, which every desk page renders: an office's day with its search and status filter, the
scan, and the check-in by hand on each row; and what the last action left on it (a verdict, or a refusal
with its reason and what was typed).

Which day of which office is shown travels in the query string of a GET and in hidden fields of each form,
so an action comes back to the list it was taken from. The list is ``day_list``'s, under the API's rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session
from starlette.responses import HTMLResponse

from app.domain.access import Action
from app.domain.claims import DESK_VERDICTS, ClaimStatus
from app.domain.errors import FairslotError
from app.domain.statuses import DeskStatus
from app.schemas.common import IsoDate
from app.services.bookings import day_list
from app.services.operations.catalog import services_by_code
from app.services.staff.keys import StaffPrincipal
from app.web import labels
from app.web.form_fields import FieldErrors
from app.web.i18n import N_
from app.web.page import Page
from app.web.templating import render

CONFIRMED, NOT_EVIDENCED, REFUTED = ClaimStatus.CONFIRMED, ClaimStatus.NOT_EVIDENCED, ClaimStatus.REFUTED
#: The verdicts the page offers for each claim, in reading order (the domain's table; the schema refuses
#: anything else).
VERDICTS = {
    kind.value: [s.value for s in (CONFIRMED, NOT_EVIDENCED, REFUTED) if s in DESK_VERDICTS[kind]]
    for kind in DESK_VERDICTS
}
#: A booking's status on the day list, in the desk's words.
STATUS_LABELS = {
    DeskStatus.BOOKED: N_("Booked, not confirmed"),
    DeskStatus.CONFIRMED: N_("Confirmed"),
    DeskStatus.ATTENDED: N_("Checked in"),
    DeskStatus.NO_SHOW: N_("Absent"),
    DeskStatus.CANCELLED: N_("Cancelled by the applicant"),
    DeskStatus.CANCELLED_BY_OFFICE: N_("Cancelled by the office"),
    DeskStatus.GIVEN_BACK: N_("Given back by the applicant"),
    DeskStatus.RELEASED: N_("Released: not confirmed in time"),
    DeskStatus.FORFEITED: N_("Forfeited: a claim was refuted"),
}
#: Refusals the desk explains in its own words (the others as ``labels.ERROR`` says them everywhere).
DESK_ERRORS = {
    "identity_mismatch": N_(
        "The document does not match this booking. Check the number and the date of birth you typed against "
        "the document. If both are right, this booking is not this person's: bookings are personal and "
        "cannot be transferred or sold. Do not admit them on this booking."
    ),
    "slot_not_started": N_(
        "This appointment has not started yet: the person may still come. Mark them absent once its time has "
        "come."
    ),
    "not_found": N_("This booking does not exist. Reload the day's list."),
    "claims_unverified": N_(
        "This appointment was won on declared claims: check each one against the document and give your "
        "verdict, then check the person in."
    ),
}
#: What to look at again after a document that does not match, field by field.
MISMATCH_CHECKS = {
    "document_number": N_("Check the document number against the document shown."),
    "birth_date": N_("Check the date of birth against the document shown."),
}
MISMATCH = N_("Does not match this booking.")
CLAIM_VERDICT_NEEDED = N_("Choose a verdict for this claim.")
BAD_DATE = N_("Enter the day as a date, for example 2026-12-03.")
BAD_STATUS = N_("Choose a status from the list.")
NOT_THIS_OFFICE = N_("You cannot see the appointments of this office.")

_DATE = TypeAdapter(IsoDate)


@dataclass(frozen=True)
class DeskView:
    """Which day of which office the screen shows, searched and filtered as asked (as typed)."""

    office: str = ""
    #: The day as typed (``YYYY-MM-DD``; empty: today).
    day: str = ""
    q: str = ""
    status: str = ""

    @property
    def date_asked(self) -> date | None:
        """The day asked for (None: today at the office, or a date that is not one)."""
        try:
            return _DATE.validate_python(self.day) if self.day else None
        except ValidationError:
            return None

    @property
    def statuses(self) -> set[DeskStatus] | None:
        """The status asked for, as the list filters it (None: every status)."""
        return {DeskStatus(self.status)} if self.status in set(DeskStatus) else None

    def errors(self) -> FieldErrors:
        """What is wrong with the view as typed."""
        found: FieldErrors = {}
        if self.day and self.date_asked is None:
            found["date"] = BAD_DATE
        if self.status and self.status not in set(DeskStatus):
            found["status"] = BAD_STATUS
        return found

    def query(self, **changes: str) -> str:
        """The query string of this view (for links and downloads)."""
        values = {"office": self.office, "date": self.day, "q": self.q, "status": self.status, **changes}
        return urlencode({name: value for name, value in values.items() if value})


def read_view(values: Mapping[str, Any]) -> DeskView:
    """The view a query string or a form's hidden fields ask for."""

    def value(name: str, limit: int) -> str:
        found = values.get(name)
        return found.strip()[:limit] if isinstance(found, str) else ""

    return DeskView(
        office=value("office", 32),
        day=value("date", 32),
        q=value("q", day_list.MAX_QUERY_LENGTH),
        status=value("status", 32),
    )


@dataclass
class Outcome:
    """What the last action left on the screen."""

    #: A success: ``{"kind": "checked_in"|"absent", "name", "starts_at", "office_name"}``.
    verdict: dict[str, Any] | None = None
    #: A refusal: ``{"code", "reason", "checks": [(anchor, text)], "office_name", "excluded_until"}``.
    refusal: dict[str, Any] | None = None
    #: The scan form as typed, its field errors, the claims it asks, the booking its token names.
    scan: dict[str, str] = field(default_factory=dict)
    scan_errors: FieldErrors = field(default_factory=dict)
    scan_claims: list[dict[str, Any]] = field(default_factory=list)
    scanned: day_list.DayRow | None = None
    #: The row whose by-hand form was sent: its id, what was typed, its field errors, an absence to confirm.
    row: str | None = None
    row_fields: dict[str, str] = field(default_factory=dict)
    row_errors: FieldErrors = field(default_factory=dict)
    confirm_absent: bool = False
    #: A sentence for the error summary, above its links (a message id).
    message: str | None = None
    #: Which element takes the focus: ``token``, ``document_number``, ``summary`` or ``refusal``.
    focus: str = "token"


def office_shown(db: Session, staff: StaffPrincipal, view: DeskView) -> str:
    """The office the view asks for, else the first this staff member may read ("" when none)."""
    if view.office:
        return view.office.lower()
    offices = day_list.offices_readable(db, staff)
    return offices[0].code if offices else ""


def refusal_of(page: Page, exc: FairslotError, office_name: str | None, prefix: str) -> dict[str, Any]:
    """A refusal as the screen shows it: its reason in the desk's words and, for a document that does not
    match, the fields to look at again (anchors ``{prefix}-document_number``…)."""
    message = DESK_ERRORS.get(exc.code) or labels.ERROR.get(exc.code, labels.GENERIC_ERROR)
    checks = []
    if exc.code == "identity_mismatch":
        checks = [(f"{prefix}-{name}", page.gettext(text)) for name, text in MISMATCH_CHECKS.items()]
    return {
        "code": exc.code,
        "reason": page.gettext(message),
        "checks": checks,
        "office_name": office_name,
        "excluded_until": exc.extra.get("excluded_until"),
    }


def show(
    page: Page,
    db: Session,
    staff: StaffPrincipal,
    now: datetime,
    view: DeskView,
    outcome: Outcome | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """The desk screen for ``view``, with what ``outcome`` left on it."""
    outcome = outcome or Outcome()
    offices = day_list.offices_readable(db, staff)
    if not offices:
        return render(page, "not_desk.html", status_code=403)
    view_errors = view.errors()
    office = view.office.lower() or offices[0].code
    try:
        listing = day_list.day_list(
            session=db,
            staff=staff,
            office=office,
            day=view.date_asked,
            now=now,
            q=view.q,
            statuses=view.statuses,
        )
    except FairslotError:
        # An office this member may not read, or none by that code: their first office, and why.
        listing = day_list.day_list(session=db, staff=staff, office=offices[0].code, day=None, now=now)
        view = DeskView(office=offices[0].code)
        view_errors = {"office": NOT_THIS_OFFICE}
        status_code = 403 if status_code == 200 else status_code
    if view_errors and status_code == 200:
        status_code = 422
    summary = [(f"view-{name}", page.gettext(text)) for name, text in view_errors.items()]
    if outcome.refusal is None:  # a refusal's box says what to check itself
        summary += [(f"desk-{name}", page.gettext(text)) for name, text in outcome.scan_errors.items()]
        summary += [
            (f"hand-{outcome.row}-{name}", page.gettext(text)) for name, text in outcome.row_errors.items()
        ]
        if summary:
            outcome.focus = "summary"
    shown = DeskView(office=listing.office, day=listing.date.isoformat(), q=view.q, status=view.status)
    today = now.astimezone(ZoneInfo(listing.timezone)).date()
    links = {
        "self": shown.query(),
        "csv": shown.query(format="csv"),
        "xlsx": shown.query(format="xlsx"),
        "sheet": shown.query(q="", status=""),
        "today": DeskView(office=listing.office).query() if listing.date != today else "",
    }
    status_labels = {status.value: page.gettext(text) for status, text in STATUS_LABELS.items()}
    return render(
        page,
        "desk.html",
        status_code=status_code,
        staff=staff,
        listing=listing,
        view=view,
        view_errors={name: page.gettext(text) for name, text in view_errors.items()},
        office_options=[(office.code, office.name) for office in offices],
        status_options=list(status_labels.items()),
        status_labels=status_labels,
        services=services_by_code(db),
        links=links,
        can_check_in=staff.can(Action.CHECK_IN, office=listing.office),
        outcome=outcome,
        message=page.gettext(outcome.message) if outcome.message else None,
        scan_errors={name: page.gettext(text) for name, text in outcome.scan_errors.items()},
        row_errors={name: page.gettext(text) for name, text in outcome.row_errors.items()},
        summary=summary,
        verdicts=VERDICTS,
    )
