"""The planner's publish form: slots generated from a date range, weekdays, times of day and desks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from starlette.datastructures import FormData

from app.db.models import Office
from app.schemas.common import MAX_YEAR, MIN_YEAR
from app.schemas.releases import MAX_SLOTS_PER_RELEASE, ReleaseCreate
from app.web.form_fields import FieldErrors, text, values, whole_number
from app.web.i18n import N_

MAX_DAYS = 366
MAX_TIMES = 96
TEXT_FIELDS = ("office", "service", "draw_at", "first_day", "last_day", "times", "desks", "offer_ttl_hours")
ORDER = [
    "office",
    "service",
    "draw_at",
    "first_day",
    "last_day",
    "weekdays",
    "times",
    "desks",
    "offer_ttl_hours",
]
DEFAULT_TIMES = "09:00 09:30 10:00 10:30 11:00 11:30 14:00 14:30 15:00 15:30"
_TIME = re.compile(r"^(?P<h>\d{1,2})[:hH](?P<m>\d{2})$")

MESSAGES = {
    "office": N_("Choose one of your offices."),
    "service": N_("Choose a service."),
    "draw_at": N_("Enter the draw date and time, for example 2027-01-10 09:00."),
    "first_day": N_("Enter the first day of the slots as a date."),
    "last_day": N_("Enter the last day of the slots as a date, on or after the first day and within a year."),
    "weekdays": N_("Choose at least one weekday."),
    "times": N_("Enter the times of day separated by spaces, for example 09:00 09:30 14:00."),
    "desks": N_("Enter the number of desks, from 1 to 100."),
    "offer_ttl_hours": N_("Enter the time to answer an offer in hours, from 1 to 336, or leave it empty."),
}
NO_DAY = N_("No day of the date range falls on the chosen weekdays.")
TOO_FAR = N_("A release is drawn, and its slots start, within two years.")
TOO_MANY = N_("Too many slots: at most 5000 per release. Shorten the range or give fewer times or desks.")
DRAW_IN_PAST = N_("The draw time must not be in the past.")
DRAW_AFTER_SLOT = N_("The draw must happen before the first slot.")
SLOT_IN_PAST = N_("Slots must start in the future.")


def parse_times(raw: str) -> list[time] | None:
    """Times of day such as ``09:00 9h30, 14:00`` (``None`` when one is not a time)."""
    found: list[time] = []
    for part in re.split(r"[\s,;]+", raw.strip()):
        if not part:
            continue
        match = _TIME.match(part)
        if not match or int(match["h"]) > 23 or int(match["m"]) > 59:
            return None
        found.append(time(int(match["h"]), int(match["m"])))
    return sorted(set(found))


def slot_starts(
    first: date, last: date, weekdays: set[int], times: list[time], zone: ZoneInfo
) -> list[datetime]:
    """Every local start time: each day of ``first..last`` on an ISO weekday of ``weekdays``, at each time."""
    starts: list[datetime] = []
    day = first
    while day <= last:
        if day.isoweekday() in weekdays:
            starts.extend(datetime.combine(day, moment, tzinfo=zone) for moment in times)
        day += timedelta(days=1)
    return starts


def _date(raw: str) -> date | None:
    try:
        day = date.fromisoformat(raw) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw) else None
    except ValueError:
        return None
    return day if day is not None and MIN_YEAR <= day.year <= MAX_YEAR else None


def _int(raw: str, low: int, high: int) -> int | None:
    return whole_number(raw, low, high)


@dataclass
class ReleaseForm:
    """What the planner typed, kept to show the form again."""

    fields: dict[str, str] = field(default_factory=dict)
    weekdays: list[str] = field(default_factory=list)

    @classmethod
    def blank(cls) -> ReleaseForm:
        """The form with its defaults: weekdays Monday to Friday, a morning and an afternoon."""
        fields = dict.fromkeys(TEXT_FIELDS, "") | {"times": DEFAULT_TIMES, "desks": "1"}
        return cls(fields=fields, weekdays=["1", "2", "3", "4", "5"])

    @classmethod
    def read(cls, form: FormData) -> ReleaseForm:
        """The submitted form."""
        return cls(
            fields={name: text(form, name, 2000) for name in TEXT_FIELDS},
            weekdays=values(form, "weekdays", 10),
        )

    def validate(self, offices: dict[str, Office]) -> tuple[ReleaseCreate | None, FieldErrors]:
        """The ``POST /api/v1/releases`` body, validated by its schema, or the errors of each field."""
        f = self.fields
        errors: FieldErrors = {}
        office = offices.get(f["office"].lower())
        if office is None:
            errors["office"] = MESSAGES["office"]
        if not f["service"]:
            errors["service"] = MESSAGES["service"]
        zone = ZoneInfo(office.timezone) if office else None
        draw_at = self._local_datetime(f["draw_at"], zone)
        if draw_at is None:
            errors["draw_at"] = MESSAGES["draw_at"]
        first, last = _date(f["first_day"]), _date(f["last_day"])
        if first is None:
            errors["first_day"] = MESSAGES["first_day"]
        if last is None or (first is not None and not first <= last <= first + timedelta(days=MAX_DAYS)):
            errors["last_day"] = MESSAGES["last_day"]
        weekdays = {int(d) for d in self.weekdays if d in {"1", "2", "3", "4", "5", "6", "7"}}
        if not weekdays or len(weekdays) != len(self.weekdays):
            errors["weekdays"] = MESSAGES["weekdays"]
        times = parse_times(f["times"])
        if not times or len(times) > MAX_TIMES:
            errors["times"] = MESSAGES["times"]
        desks = _int(f["desks"], 1, 100)
        if desks is None:
            errors["desks"] = MESSAGES["desks"]
        ttl = _int(f["offer_ttl_hours"], 1, 336) if f["offer_ttl_hours"] else None
        if f["offer_ttl_hours"] and ttl is None:
            errors["offer_ttl_hours"] = MESSAGES["offer_ttl_hours"]
        if errors or zone is None or first is None or last is None or not times or desks is None:
            return None, errors
        starts = slot_starts(first, last, weekdays, times, zone)
        if not starts:
            return None, {"weekdays": NO_DAY}
        if len(starts) * desks > MAX_SLOTS_PER_RELEASE:
            return None, {"times": TOO_MANY}
        body: dict[str, Any] = {
            "office": f["office"],
            "service": f["service"],
            "draw_at": draw_at.isoformat() if draw_at else "",
            "slots": [{"starts_at": s.isoformat(), "desks": desks} for s in starts],
        }
        if ttl is not None:
            body["offer_ttl_hours"] = ttl
        try:
            return ReleaseCreate.model_validate(body), {}
        except ValidationError as exc:
            for err in exc.errors():
                name = str(err["loc"][0]) if err["loc"] else ""
                name = {"slots": "times"}.get(name, name)
                errors.setdefault(
                    name if name in MESSAGES else "times", MESSAGES.get(name, MESSAGES["times"])
                )
            return None, errors

    @staticmethod
    def _local_datetime(raw: str, zone: ZoneInfo | None) -> datetime | None:
        if zone is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", raw):
            return None
        try:
            moment = datetime.fromisoformat(raw.replace(" ", "T")).replace(tzinfo=zone)
        except ValueError:
            return None
        return moment if MIN_YEAR <= moment.year <= MAX_YEAR else None


def service_errors(errors: list[dict[str, Any]]) -> FieldErrors:
    """The release service's errors (``draw_at``, ``slots.3.starts_at``) placed on the form."""
    placed: FieldErrors = {}
    for error in errors:
        path, message = str(error.get("path", "")), str(error.get("message", ""))
        if "within two years" in message:
            placed.setdefault("draw_at" if path == "draw_at" else "last_day", TOO_FAR)
        elif path == "draw_at":
            placed.setdefault("draw_at", DRAW_IN_PAST)
        elif "draw_at must be before" in message:
            placed.setdefault("draw_at", DRAW_AFTER_SLOT)
        elif "future" in message:
            placed.setdefault("first_day", SLOT_IN_PAST)
        elif path == "slots":
            placed.setdefault("times", TOO_MANY)
        elif path in ("office", "service"):
            placed.setdefault(path, MESSAGES[path])
        else:
            placed.setdefault("times", MESSAGES["times"])
    return placed
