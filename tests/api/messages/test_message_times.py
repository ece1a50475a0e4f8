"""Times in the messages are the office's local time, labelled with its zone, in British day-first order for
English: an offer's deadline and its reminder read as on the status page."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import Offer
from app.runtime import Runtime
from app.services import scheduler
from app.services.messages import catcher
from tests.api.bookings.test_confirm_window import release_and_draw
from tests.conftest import test_settings
from tests.factories import World

PARIS = ZoneInfo("Europe/Paris")


def _sms(kind: str) -> str:
    return next(m.body for m in catcher.sent_messages() if m.kind == kind and m.channel == "sms")


def test_an_offer_and_its_reminder_give_the_deadline_in_the_offices_time_with_its_zone(
    client, runtime, clock
):
    catcher.CAUGHT.clear()
    catching = Runtime(
        settings=test_settings(runtime.settings.database_url, dev_messages=True),
        engine=runtime.engine,
        clock=clock,
    )
    world = World(client, runtime)
    applicant = world.applicant(language="en", contact={"phone": "+33612345678"})
    release_and_draw(world, clock, days_ahead=3)
    with session_scope(runtime.engine) as session:
        offer = session.exec(select(Offer).where(Offer.request_id == applicant["id"])).one()
        remind_at, expires_at = offer.remind_at, offer.expires_at
    scheduler.tick(catching)
    clock.set(remind_at)
    scheduler.tick(catching)

    deadline = expires_at.astimezone(PARIS).strftime("%d/%m/%Y, %H:%M")
    offered, reminded = _sms("offer_made"), _sms("offer_expiring")
    catcher.CAUGHT.clear()

    assert f"Accept it before {deadline} (Paris time)" in offered
    assert f"expires at {deadline} (Paris time)" in reminded
    assert expires_at.strftime("%H:%M") != expires_at.astimezone(PARIS).strftime("%H:%M")  # UTC differs
