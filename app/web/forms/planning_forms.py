"""The planner's forms: a schedule's lines, publishing a week, closing days, a recurring rule, withdrawing a
release. Each builds the body the API takes, validates it with the API's own schema (as JSON, exactly as the
API reads it) and places every error on the field the planner typed it in."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from app.domain.planning.schedules import OpeningLine
from app.schemas.common import MAX_YEAR, MIN_YEAR
from app.schemas.planning import ClosureCreate, ReleaseRuleCreate, ReleaseWithdraw, ScheduleIn, WeekPublish
from app.web.form_fields import FieldErrors, text, whole_number
from app.web.i18n import N_

Model = TypeVar("Model", bound=BaseModel)
#: Blank lines offered under a schedule's lines, and the most a form takes.
BLANK_LINES = 3
MAX_LINES = 30
_OVERLAP = re.compile(r"weekly\.(\d+) overlaps weekly\.(\d+)")

MESSAGES = {
    "weekday": N_("Choose a weekday."),
    "opens": N_("Enter an opening time such as 09:00 (00:00 to 23:59)."),
    "closes": N_("Enter a closing time after the opening time, such as 12:00."),
    "desks": N_("Enter a number of desks from 1 to 100."),
    "overlap": N_("This line overlaps another line of the same weekday."),
    "service": N_("Choose a service."),
    "week": N_("Enter an ISO week such as 2027-W03."),
    "draw_at": N_("Enter the draw date and time, before the week starts and not in the past."),
    "offer_ttl_hours": N_("Enter the time to answer an offer in hours, from 1 to 336, or leave it empty."),
    "starts_on": N_("Enter the first day to close, today or later, as a date."),
    "ends_on": N_("Enter the last day to close, on or after the first day, within a year."),
    "reason": N_("Enter the reason, for example a strike, works or training."),
    "closure_desks": N_("Leave empty to close, or enter the desks left open, from 1 to 100."),
    "publish_weekday": N_("Choose the weekday of publication."),
    "publish_time": N_("Enter a time such as 10:00 (00:00 to 23:59)."),
    "weeks_ahead": N_("Enter how many weeks ahead to publish, from 1 to 12."),
    "draw_after_hours": N_(
        "Enter the hours from publication to draw (at least 1): the draw must come before the published "
        "week starts."
    ),
    "withdraw_reason": N_("Enter why the release is withdrawn."),
}


def _validated(
    model: type[Model], body: dict[str, Any], place: Callable[[tuple[Any, ...], str], str | None]
) -> tuple[Model | None, FieldErrors]:
    try:
        return model.model_validate_json(json.dumps(body)), {}
    except ValidationError as exc:
        found: FieldErrors = {}
        for err in exc.errors():
            name = place(tuple(err["loc"]), str(err["msg"]))
            if name is not None:
                found.setdefault(
                    name, MESSAGES.get(name.rsplit("_", 1)[0] if name[-1].isdigit() else name, "")
                )
        return None, found


def _number(raw: str) -> Any:
    """A whole number as the API takes it, or the text itself (the schema then says what is wrong)."""
    number = whole_number(raw, 0, 99_999)
    return raw if number is None else number


@dataclass
class ScheduleForm:
    """A schedule's lines as typed: ``weekday_N``, ``opens_N``, ``closes_N``, ``desks_N`` (N from 1)."""

    rows: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of_lines(cls, lines: Iterable[OpeningLine]) -> ScheduleForm:
        """The form of a stored schedule, with blank lines to add more."""
        rows = [{k: str(v) for k, v in line.as_dict().items()} for line in lines]
        return cls(
            rows + [{"weekday": "", "opens": "", "closes": "", "desks": ""} for _ in range(BLANK_LINES)]
        )

    @classmethod
    def read(cls, form: FormData) -> ScheduleForm:
        """The submitted lines (the form says how many with ``lines``)."""
        count = whole_number(text(form, "lines", 4), 0, MAX_LINES) or 0
        return cls(
            [
                {name: text(form, f"{name}_{n}", 10) for name in ("weekday", "opens", "closes", "desks")}
                for n in range(1, count + 1)
            ]
        )

    def validate(self) -> tuple[ScheduleIn | None, FieldErrors]:
        """The body of ``PUT …/schedules/{service}``, or the errors of each line's fields."""
        kept = [n for n, row in enumerate(self.rows, start=1) if any(row.values())]
        body = {
            "weekly": [
                {
                    "weekday": _number(self.rows[n - 1]["weekday"]),
                    "opens": self.rows[n - 1]["opens"],
                    "closes": self.rows[n - 1]["closes"],
                    "desks": _number(self.rows[n - 1]["desks"]),
                }
                for n in kept
            ]
        }

        def place(loc: tuple[Any, ...], message: str) -> str | None:
            if len(loc) >= 2 and isinstance(loc[1], int) and loc[1] < len(kept):
                name = str(loc[2]) if len(loc) > 2 else "closes"
                return f"{name if name in MESSAGES else 'closes'}_{kept[loc[1]]}"
            clash = _OVERLAP.search(message)
            if clash and int(clash.group(1)) < len(kept):
                return f"overlap_{kept[int(clash.group(1))]}"
            return "overlap_1"

        return _validated(ScheduleIn, body, place)


def _local_datetime(raw: str, zone: ZoneInfo) -> datetime | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", raw):
        return None
    try:
        moment = datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=zone)
    except ValueError:
        return None
    return moment if MIN_YEAR <= moment.year <= MAX_YEAR else None


def _by_field(
    names: Iterable[str], renamed: dict[str, str] | None = None
) -> Callable[[tuple[Any, ...], str], str | None]:
    known = set(names)

    def place(loc: tuple[Any, ...], message: str) -> str | None:
        name = str(loc[0]) if loc else ""
        if name in known:
            return (renamed or {}).get(name, name)
        for candidate in known:  # a rule across fields names the field it is about
            if candidate in message:
                return (renamed or {}).get(candidate, candidate)
        return (renamed or {}).get(next(iter(sorted(known))), next(iter(sorted(known))))

    return place


PUBLISH_FIELDS = ("service", "week", "draw_at", "offer_ttl_hours")


def publish_body(fields: dict[str, str], zone: ZoneInfo) -> tuple[WeekPublish | None, FieldErrors]:
    """The body of ``POST …/publish`` from the week form (``draw_at`` typed in the office's local time)."""
    errors: FieldErrors = {}
    if not fields.get("service"):
        errors["service"] = MESSAGES["service"]
    draw_at = _local_datetime(fields.get("draw_at", ""), zone)
    if draw_at is None:
        errors["draw_at"] = MESSAGES["draw_at"]
    body: dict[str, Any] = {"week": fields.get("week", ""), "draw_at": draw_at.isoformat() if draw_at else ""}
    if fields.get("offer_ttl_hours"):
        body["offer_ttl_hours"] = _number(fields["offer_ttl_hours"])
    data, found = _validated(WeekPublish, body, _by_field(PUBLISH_FIELDS))
    found = {**found, **errors}
    return (data if not found else None), found


CLOSURE_FIELDS = ("starts_on", "ends_on", "reason", "desks")


def closure_body(fields: dict[str, str], cancel_bookings: bool) -> tuple[ClosureCreate | None, FieldErrors]:
    """The body of ``POST …/closures`` from the closing form."""
    body: dict[str, Any] = {
        "starts_on": fields.get("starts_on", ""),
        "ends_on": fields.get("ends_on", ""),
        "reason": fields.get("reason", ""),
        "cancel_bookings": cancel_bookings,
    }
    if fields.get("desks"):
        body["desks"] = _number(fields["desks"])

    def place(loc: tuple[Any, ...], message: str) -> str | None:
        name = str(loc[0]) if loc else ""
        if name == "desks":
            return "desks"
        if name in CLOSURE_FIELDS:
            return name
        return "ends_on"  # the rules across both dates: ends before it starts, spans over a year

    data, found = _validated(ClosureCreate, body, place)
    if "desks" in found:
        found["desks"] = MESSAGES["closure_desks"]
    return data, found


RULE_FIELDS = (
    "service",
    "publish_weekday",
    "publish_time",
    "weeks_ahead",
    "draw_after_hours",
    "offer_ttl_hours",
)


def rule_body(office: str, fields: dict[str, str]) -> tuple[ReleaseRuleCreate | None, FieldErrors]:
    """The body of ``POST /release-rules`` from the rule form."""
    body: dict[str, Any] = {
        "office": office,
        "service": fields.get("service", ""),
        "publish_weekday": _number(fields.get("publish_weekday", "")),
        "publish_time": fields.get("publish_time", ""),
        "weeks_ahead": _number(fields.get("weeks_ahead", "")),
        "draw_after_hours": _number(fields.get("draw_after_hours", "")),
    }
    if fields.get("offer_ttl_hours"):
        body["offer_ttl_hours"] = _number(fields["offer_ttl_hours"])
    data, found = _validated(ReleaseRuleCreate, body, _by_field(RULE_FIELDS))
    if "service" in found and fields.get("service"):
        found["service"] = MESSAGES["service"]
    return data, found


def withdraw_body(reason: str) -> tuple[ReleaseWithdraw | None, FieldErrors]:
    """The body of ``POST /releases/{id}/withdraw``."""
    data, found = _validated(ReleaseWithdraw, {"reason": reason}, lambda loc, message: "reason")
    return data, ({"reason": MESSAGES["withdraw_reason"]} if found else {})


def service_errors(errors: list[dict[str, Any]], names: Iterable[str]) -> FieldErrors:
    """A service's 422 (``InvalidInput`` with paths) placed on the form's fields."""
    known = set(names)
    placed: FieldErrors = {}
    for error in errors:
        path = str(error.get("path", ""))
        name = path if path in known else sorted(known)[0]
        placed.setdefault(name, MESSAGES.get(name, ""))
    return placed
