"""Recurring releases: rules the scheduler runs, each publication exactly once however many workers run.

A worker takes a due rule with ``FOR UPDATE SKIP LOCKED`` (SQLite serialises writers instead), publishes the
week through :func:`app.services.operations.publishing.publish`, records the outcome, moves ``next_run_at`` to
the next publication and audit-logs it, all in one transaction: a second worker either skips the locked row
or finds it no longer due, and the unique index on a release's week is the backstop. A week with nothing to
publish, a week already published (by hand, say), or a publication whose draw could no longer come before
its week (the scheduler was stopped for days) is skipped, audit-logged with the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from app.db.models import Office, ReleaseRule, Service
from app.domain.access import Action
from app.domain.errors import InvalidInput, NotFound, NothingToPublish, WeekPublished
from app.domain.planning import rules, weeks
from app.domain.planning.schedules import parse_clock
from app.schemas.planning import ReleaseRuleCreate, ReleaseRulePublic
from app.services import audit, jobs
from app.services.beacons import rounds
from app.services.operations import catalog, publishing
from app.services.staff.keys import StaffPrincipal

SCHEDULER = "scheduler"


@dataclass(frozen=True)
class RuleView:
    """A rule with its office and service."""

    rule: ReleaseRule
    office: Office
    service: Service

    def public(self) -> ReleaseRulePublic:
        """As the API shows it."""
        rule = self.rule
        return ReleaseRulePublic(
            id=rule.id,
            office=self.office.code,
            service=self.service.code,
            publish_weekday=rule.publish_weekday,
            publish_time=rule.publish_time,
            weeks_ahead=rule.weeks_ahead,
            draw_after_hours=rule.draw_after_hours,
            offer_ttl_hours=rule.offer_ttl_hours,
            next_publication=None if rule.deleted_at else rule.next_run_at,
            last_run_at=rule.last_run_at,
            last_outcome=rule.last_outcome,
            created_at=rule.created_at,
        )


@dataclass(frozen=True)
class RuleRun:
    """What one due publication of a rule did."""

    rule_id: int
    week: str
    outcome: str
    release_id: int | None


def create_rule(
    *, session: Session, staff: StaffPrincipal, data: ReleaseRuleCreate, now: datetime
) -> RuleView:
    """A planner's recurring release for one of its offices (``422`` when its draw would fall after its week
    starts)."""
    staff.require(Action.MANAGE_RELEASE_RULES)
    office = catalog.office_by_code(session, data.office)
    service = catalog.service_by_code(session, data.service)
    staff.require(Action.MANAGE_RELEASE_RULES, office=office.code)
    at = parse_clock(data.publish_time)
    if not rules.draw_comes_in_time(data.publish_weekday, at, data.weeks_ahead, data.draw_after_hours):
        raise InvalidInput(
            "the draw would fall after its week starts",
            errors=[
                {
                    "path": "draw_after_hours",
                    "message": "the draw must come before the published week starts: fewer hours, or more "
                    "weeks ahead",
                }
            ],
        )
    assert office.id is not None and service.id is not None
    rule = ReleaseRule(
        office_id=office.id,
        service_id=service.id,
        publish_weekday=data.publish_weekday,
        publish_time=data.publish_time,
        weeks_ahead=data.weeks_ahead,
        draw_after_hours=data.draw_after_hours,
        offer_ttl_hours=data.offer_ttl_hours,
        next_run_at=rules.next_publication(now, data.publish_weekday, at, ZoneInfo(office.timezone)),
        created_at=now,
        created_by=staff.actor,
    )
    session.add(rule)
    session.flush()
    audit.log(
        session,
        action="release_rule.created",
        subject=f"release_rule:{rule.id}",
        actor=staff.actor,
        office=office.code,
        service=service.code,
        publish_weekday=rule.publish_weekday,
        publish_time=rule.publish_time,
        weeks_ahead=rule.weeks_ahead,
        draw_after_hours=rule.draw_after_hours,
    )
    return RuleView(rule, office, service)


def _views(session: Session, found: Sequence[ReleaseRule]) -> list[RuleView]:
    offices = {o.id: o for o in session.exec(select(Office)).all()}
    services = {s.id: s for s in session.exec(select(Service)).all()}
    return [RuleView(r, offices[r.office_id], services[r.service_id]) for r in found]


def list_rules(*, session: Session, staff: StaffPrincipal, office: str | None) -> list[RuleView]:
    """The rules in force of an office (all the key reaches without ``office``), oldest first."""
    staff.require(Action.READ_RELEASE_RULES)
    query = select(ReleaseRule).where(col(ReleaseRule.deleted_at).is_(None)).order_by(col(ReleaseRule.id))
    if office is not None:
        found = catalog.office_by_code(session, office.lower())
        staff.require(Action.READ_RELEASE_RULES, office=found.code)
        query = query.where(ReleaseRule.office_id == found.id)
    return [view for view in _views(session, session.exec(query).all()) if staff.covers(view.office.code)]


def delete_rule(*, session: Session, staff: StaffPrincipal, rule_id: int, now: datetime) -> None:
    """Stop a rule's future publications (a planner of its office); its releases stay."""
    staff.require(Action.MANAGE_RELEASE_RULES)
    rule = session.exec(select(ReleaseRule).where(ReleaseRule.id == rule_id).with_for_update()).first()
    if rule is None or rule.deleted_at is not None:
        raise NotFound(f"no release rule {rule_id}")
    office = session.get(Office, rule.office_id)
    assert office is not None
    staff.require(Action.MANAGE_RELEASE_RULES, office=office.code)
    rule.deleted_at = now
    session.add(rule)
    session.flush()
    audit.log(session, action="release_rule.deleted", subject=f"release_rule:{rule.id}", actor=staff.actor)


def publish_next_due(
    session: Session, *, now: datetime, secret: bytes, setup: rounds.BeaconSetup, default_ttl_hours: int
) -> RuleRun | None:
    """The scheduler's step: run one due rule no other worker holds, if any."""
    due = select(ReleaseRule).where(
        col(ReleaseRule.deleted_at).is_(None), col(ReleaseRule.next_run_at) <= now
    )
    claimed = jobs.claim_rows(session, due.order_by(col(ReleaseRule.next_run_at), col(ReleaseRule.id)), 1)
    if not claimed:
        return None
    rule = claimed[0]
    session.refresh(rule)
    office = session.get(Office, rule.office_id)
    service = session.get(Service, rule.service_id)
    assert office is not None and service is not None and rule.id is not None
    zone = ZoneInfo(office.timezone)
    scheduled = rule.next_run_at
    monday = rules.published_week(scheduled, rule.weeks_ahead, zone)
    week = weeks.week_of(monday)
    draw_at = now + timedelta(hours=rule.draw_after_hours)
    release_id: int | None = None
    if draw_at >= rules.week_start(monday, zone):
        outcome = "too_late"
    else:
        try:
            with session.begin_nested():
                release = publishing.publish(
                    session,
                    office=office,
                    service=service,
                    monday=monday,
                    draw_at=draw_at,
                    offer_ttl_hours=rule.offer_ttl_hours or default_ttl_hours,
                    now=now,
                    secret=secret,
                    setup=setup,
                    actor=SCHEDULER,
                    rule_id=rule.id,
                )
            release_id = release.id
            outcome = "published"
        except NothingToPublish:
            outcome = "nothing_to_publish"
        except WeekPublished:
            outcome = "week_published"
    rule.last_run_at = now
    rule.last_outcome = outcome
    rule.next_run_at = rules.next_publication(
        max(scheduled, now), rule.publish_weekday, parse_clock(rule.publish_time), zone
    )
    session.add(rule)
    session.flush()
    audit.log(
        session,
        action="release_rule.published" if release_id is not None else "release_rule.skipped",
        subject=f"release_rule:{rule.id}",
        actor=SCHEDULER,
        week=week,
        outcome=outcome,
        release_id=release_id,
        scheduled_for=scheduled.isoformat(),
    )
    return RuleRun(rule.id, week, outcome, release_id)
