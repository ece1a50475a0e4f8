"""Operating an office: opening schedules, closures, published weeks, recurring rules, withdrawals, the
calendar and the capacity advice."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field, field_validator, model_validator

from app.domain.planning import schedules
from app.domain.planning.rules import MAX_WEEKS_AHEAD
from app.domain.planning.weeks import parse_week
from app.schemas.common import Code, IsoDate, IsoDateTime, Label, Output, StrictInput

#: A closure spans at most this many days (a longer one is a change of schedule).
MAX_CLOSURE_DAYS = 366
#: A calendar shows at most this many days at once.
MAX_CALENDAR_DAYS = 31
#: A rule's draw comes at most this long after its publication.
MAX_DRAW_AFTER_HOURS = MAX_WEEKS_AHEAD * 7 * 24

Clock = str


def _clock(value: str) -> str:
    schedules.parse_clock(value)
    return value


class OpeningLineIn(StrictInput):
    """Open on ``weekday`` (ISO: 1 Monday … 7 Sunday) from ``opens`` to ``closes``, office-local, at
    ``desks`` desks."""

    weekday: int = Field(ge=1, le=7, examples=[1])
    opens: Clock = Field(max_length=5, examples=["09:00"], description="HH:MM, office-local")
    closes: Clock = Field(max_length=5, examples=["12:00"], description="HH:MM, after opens")
    desks: int = Field(ge=1, le=schedules.MAX_DESKS, examples=[3])

    _clocks = field_validator("opens", "closes")(_clock)

    @model_validator(mode="after")
    def _closes_after_opens(self) -> OpeningLineIn:
        if schedules.parse_clock(self.closes) <= schedules.parse_clock(self.opens):
            raise ValueError("closes must be after opens")
        return self

    def line(self) -> schedules.OpeningLine:
        """The domain's line."""
        return schedules.OpeningLine(
            self.weekday, schedules.parse_clock(self.opens), schedules.parse_clock(self.closes), self.desks
        )


class ScheduleIn(StrictInput):
    """The whole weekly schedule of a service at an office (an empty list: never open)."""

    weekly: list[OpeningLineIn] = Field(max_length=70)

    @field_validator("weekly")
    @classmethod
    def _no_overlap(cls, value: list[OpeningLineIn]) -> list[OpeningLineIn]:
        clashes = schedules.overlaps([line.line() for line in value])
        if clashes:
            described = ", ".join(f"weekly.{j} overlaps weekly.{i}" for i, j in clashes[:5])
            raise ValueError(f"lines of the same weekday must not overlap: {described}")
        return value


class OpeningLinePublic(Output):
    """One opening line."""

    weekday: int
    opens: str
    closes: str
    desks: int


class SchedulePublic(Output):
    """A service's weekly schedule at an office."""

    office: str
    service: str
    weekly: list[OpeningLinePublic]
    slot_minutes: int
    slots_per_week: int = Field(description="slots an ordinary week makes (no holiday, no closure)")
    updated_at: datetime | None = None


class ClosureCreate(StrictInput):
    """Days the office closes, or runs each service at ``desks`` desks at most."""

    starts_on: IsoDate
    ends_on: IsoDate
    reason: Label = Field(examples=["Grève", "Travaux", "Formation"])
    desks: int | None = Field(
        default=None, ge=1, le=schedules.MAX_DESKS, description="null: closed; a number: reduced to that many"
    )
    cancel_bookings: bool = Field(
        default=False,
        description="cancel the bookings of those days (their holders are told and go back to the queue "
        "with priority); without it a closure over booked days is a 409 bookings_in_closure",
    )

    @model_validator(mode="after")
    def _in_order(self) -> ClosureCreate:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on must not be before starts_on")
        if (self.ends_on - self.starts_on).days >= MAX_CLOSURE_DAYS:
            raise ValueError(f"a closure spans at most {MAX_CLOSURE_DAYS} days")
        return self


class ClosurePublic(Output):
    """A closure and what it did."""

    id: int
    office: str
    starts_on: date
    ends_on: date
    reason: str
    desks: int | None
    cancelled_bookings: int
    withdrawn_offers: int
    removed_slots: int = Field(default=0, description="free slots of published releases it removed")
    created_at: datetime


class WeekPublish(StrictInput):
    """Publish an ISO week of the schedule as a release drawn at ``draw_at``."""

    week: str = Field(max_length=8, examples=["2027-W03"], description="an ISO 8601 week")
    draw_at: IsoDateTime
    offer_ttl_hours: int | None = Field(default=None, ge=1, le=336)

    @field_validator("week")
    @classmethod
    def _iso_week(cls, value: str) -> str:
        parse_week(value)
        return value


class ReleaseRuleCreate(StrictInput):
    """Publish, every ``publish_weekday`` at ``publish_time`` (office-local), the week ``weeks_ahead``
    ahead, drawn ``draw_after_hours`` after publication."""

    office: Code
    service: Code
    publish_weekday: int = Field(ge=1, le=7)
    publish_time: Clock = Field(max_length=5, examples=["10:00"], description="HH:MM, office-local")
    weeks_ahead: int = Field(ge=1, le=MAX_WEEKS_AHEAD)
    draw_after_hours: int = Field(ge=1, le=MAX_DRAW_AFTER_HOURS)
    offer_ttl_hours: int | None = Field(default=None, ge=1, le=336)

    _clock = field_validator("publish_time")(_clock)


class ReleaseRulePublic(Output):
    """A recurring release rule."""

    id: int
    office: str
    service: str
    publish_weekday: int
    publish_time: str
    weeks_ahead: int
    draw_after_hours: int
    offer_ttl_hours: int | None
    next_publication: datetime | None = Field(description="null once the rule is deleted")
    last_run_at: datetime | None
    last_outcome: str | None = Field(
        description="published, or why a publication was skipped (nothing_to_publish, week_published, "
        "too_late)"
    )
    created_at: datetime


class ReleaseWithdraw(StrictInput):
    """Why a release is withdrawn before its draw."""

    reason: Label


class CalendarCounts(Output):
    """One service's slots on one day, by state."""

    service: str
    slots: int = Field(description="slots of releases not withdrawn (a closure's removed slots excluded)")
    free: int
    offered: int
    booked: int = Field(description="booked, not yet confirmed")
    confirmed: int
    attended: int
    no_show: int
    cancelled: int = Field(description="bookings cancelled (by the holder or the office) or given back")


class CalendarClosure(Output):
    """The closure of a day."""

    id: int
    reason: str
    desks: int | None


class CalendarDay(Output):
    """One day of an office."""

    date: date
    holiday: str | None = Field(description="the public holiday's name (in French), or null")
    closure: CalendarClosure | None
    services: list[CalendarCounts]


class CalendarPublic(Output):
    """An office's days."""

    office: str
    timezone: str
    days: list[CalendarDay]


class CapacityAdvicePublic(Output):
    """How much capacity an office's queue for a service needs, from its own history."""

    office: str
    service: str
    target_wait_days: int
    inflow_per_week: float | None = Field(description="verified requests a week, over the last 8 weeks")
    slots_per_week: float | None = Field(description="slots published a week, over the last 8 weeks")
    backlog: int = Field(description="verified requests waiting now")
    urgent_share: float | None = Field(description="share of the backlog whose permit expires within 60 days")
    weeks_of_history: float
    expected_wait_days_p90: float | None
    slots_per_week_needed: int | None
    method: str
    computed_at: datetime
