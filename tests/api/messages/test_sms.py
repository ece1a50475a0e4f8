"""SMS over SMPP 3.4 to a real SMSC on loopback (``tests/smsc.py``): encodings, segments, receipts, a
dropped link, throttling, and several workers racing the outbox.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, OutboxMessage
from app.services import scheduler
from app.services.messages import outbox, smpp, sms_encoding, texts
from tests.conftest import test_settings
from tests.factories import World, auth
from tests.smsc import Smsc

PHONES = [f"+336{n:08d}" for n in range(10_000_000, 10_000_100)]


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc().start()
    yield server
    server.stop()


def _sms_runtime(runtime, database_url: str, smsc: Smsc):
    return dataclasses.replace(runtime, settings=test_settings(database_url, smpp_url=smsc.url))


def _texting(world: World, phone: str, language: str = "en") -> dict:
    """An applicant reachable by SMS only, in ``language`` (set on the row: any of the six)."""
    applicant = world.applicant(contact={"phone": phone})
    with session_scope(world.runtime.engine) as session:
        session.execute(
            update(AppointmentRequest)
            .where(col(AppointmentRequest.id) == applicant["id"])
            .values(language=language)
        )
    return applicant


def _drawn(world: World, clock, count: int) -> None:
    scheduler.tick(world.runtime)  # the "request received" messages leave first (to the log)
    release = world.release(slots=count)
    clock.advance(timedelta(hours=1))
    drawn = world.client.post(f"/api/v1/releases/{release['id']}/draw", headers=auth(world.planner))
    assert drawn.status_code == 200, drawn.text
    assert drawn.json()["offered"] == count


def _sms_rows(runtime) -> list[OutboxMessage]:
    with session_scope(runtime.engine) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .where(OutboxMessage.channel == "sms", OutboxMessage.kind != "request_received")
                .order_by(col(OutboxMessage.id))
            ).all()
        )


def _until(condition: Callable[[], bool], step: Callable[[], object], seconds: float = 30.0) -> None:
    """Run ``step`` until ``condition`` holds (a deadline, not a timed assertion)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        step()
        time.sleep(0.05)


def _expected_text(runtime, row: OutboxMessage) -> str:
    link = outbox.status_link(runtime.settings.public_url, row.request_id)
    return texts.render_sms(row.kind, row.language, row.context, link)


def test_an_english_offer_goes_in_gsm7_and_an_arabic_one_in_ucs2_segments_that_arrive_whole(
    client, runtime, clock, database_url, smsc
):
    world = World(client, runtime)
    english = _texting(world, PHONES[0], "en")
    arabic = _texting(world, PHONES[1], "ar")
    _drawn(world, clock, 2)
    texting = _sms_runtime(runtime, database_url, smsc)

    assert scheduler.tick(texting).sent == 2

    rows = {row.request_id: row for row in _sms_rows(runtime)}
    by_destination = {s.destination: [] for s in smsc.submits}
    for submit in smsc.submits:
        by_destination[submit.destination].append(submit)
    english_parts = by_destination[PHONES[0].lstrip("+")]
    assert {p.data_coding for p in english_parts} == {sms_encoding.GSM7}
    assert {(p.registered_delivery, p.source) for p in english_parts} == {(1, "Fairslot")}
    english_text = dict(smsc.messages())[PHONES[0].lstrip("+")]
    assert english_text == _expected_text(runtime, rows[english["id"]])
    assert english_text.startswith("Fairslot: the draw offers you an appointment")
    # GSM-7 carries 153 characters a segment where UCS-2 carries 67.
    assert (
        len(english_parts)
        == len(sms_encoding.segments(english_text, 0))
        < len(sms_encoding.segments(english_text + "й", 0))
    )
    arabic_parts = by_destination[PHONES[1].lstrip("+")]
    assert len(arabic_parts) > 1
    assert {p.data_coding for p in arabic_parts} == {sms_encoding.UCS2}
    assert [p.udh[2] for p in arabic_parts if p.udh] == list(range(1, len(arabic_parts) + 1))
    assert all(len(p.short_message) <= 140 for p in arabic_parts)
    whole = dict(smsc.messages())[PHONES[1].lstrip("+")]
    assert whole == _expected_text(runtime, rows[arabic["id"]])
    assert "منحتك القرعة موعدًا" in whole
    assert f"/status?id={arabic['id']}" in whole
    assert arabic["access_code"] not in whole
    assert rows[arabic["id"]].parts == len(arabic_parts)
    assert {row.attempts for row in rows.values()} == {1}


def test_delivery_receipts_move_each_message_to_delivered_or_failed(
    client, runtime, clock, database_url, smsc
):
    world = World(client, runtime)
    reached = _texting(world, PHONES[0], "en")
    unreachable = _texting(world, PHONES[1], "ar")  # two segments: both receipts must say delivered
    smsc.undeliverable = {PHONES[1].lstrip("+")}
    _drawn(world, clock, 2)
    texting = _sms_runtime(runtime, database_url, smsc)
    outlets = scheduler.outlets_of(texting)
    try:
        scheduler.send_messages(texting, outlets)
        _until(
            lambda: {row.status for row in _sms_rows(runtime)} <= {"delivered", "failed"},
            lambda: outbox.send_due(runtime.engine, outlets=outlets, now=clock.now()),
        )
    finally:
        outlets.close()
    status = {row.request_id: row.status for row in _sms_rows(runtime)}
    assert status == {reached["id"]: "delivered", unreachable["id"]: "failed"}
    assert all(row.settled_at == clock.now() for row in _sms_rows(runtime))


def test_a_link_dropped_mid_batch_loses_nothing_and_resends_only_what_was_in_flight(
    client, runtime, clock, database_url, smsc, caplog
):
    world = World(client, runtime)
    people = [_texting(world, PHONES[n], "en") for n in range(10)]
    _drawn(world, clock, len(people))
    smsc.drop_after = 4  # the fifth submit is taken, then the link drops before its answer
    texting = _sms_runtime(runtime, database_url, smsc)
    outlets = scheduler.outlets_of(texting)
    try:
        with caplog.at_level(logging.WARNING):
            _until(
                lambda: {row.status for row in _sms_rows(runtime)} == {"delivered"},
                lambda: scheduler.send_messages(texting, outlets),
            )
    finally:
        outlets.close()

    assert smsc.binds == 2  # reconnected after the drop
    arrived = Counter(destination for destination, _text in smsc.messages())
    assert set(arrived) == {PHONES[n].lstrip("+") for n in range(10)}
    # At least once: the submit the SMSC took without answering is sent again, and nothing else twice.
    # At least once: what was in flight when the link dropped (at most a window of segments, the one the
    # SMSC took without answering among them) is sent again; nothing else twice, nothing lost.
    segments = sum(len(sms_encoding.segments(_expected_text(runtime, row), 0)) for row in _sms_rows(runtime))
    resent = Counter((s.destination, s.udh) for s in smsc.submits)
    assert len(resent) == segments
    assert 1 <= len(smsc.submits) - segments <= smpp.WINDOW
    first_link = {(s.destination, s.udh) for s in smsc.submits if s.connection == 1}
    assert {key for key, times in resent.items() if times > 1} <= first_link
    assert set(resent.values()) <= {1, 2}
    assert set(arrived.values()) == {1}
    assert {row.attempts for row in _sms_rows(runtime)} == {1}


def test_a_throttling_smsc_gets_every_message_later_without_a_failed_attempt(
    client, runtime, clock, database_url, smsc
):
    world = World(client, runtime)
    for n in range(5):
        _texting(world, PHONES[n], "en")
    _drawn(world, clock, 5)
    smsc.throttle = 3
    texting = _sms_runtime(runtime, database_url, smsc)
    outlets = scheduler.outlets_of(texting)
    try:
        _until(
            lambda: {row.status for row in _sms_rows(runtime)} == {"delivered"},
            lambda: scheduler.send_messages(texting, outlets),
        )
    finally:
        outlets.close()
    assert smsc.throttled == 3
    segments = sum(len(sms_encoding.segments(_expected_text(runtime, row), 0)) for row in _sms_rows(runtime))
    assert len(smsc.submits) == segments  # each throttled submit was refused, then made once
    assert {(row.attempts, row.last_error is not None) for row in _sms_rows(runtime)} <= {
        (1, False),
        (1, True),
    }


def test_a_refused_bind_keeps_the_messages_queued_and_is_retried_with_a_growing_backoff(
    client, runtime, clock, database_url, smsc
):
    world = World(client, runtime)
    _texting(world, PHONES[0], "en")
    _drawn(world, clock, 1)
    smsc.refuse_binds = True
    moment = [1000.0]
    texting = _sms_runtime(runtime, database_url, smsc)
    outlets = outbox.outlets_for(
        smtp_url=None,
        smpp_url=smsc.url,
        mail_from="x@example.org",
        public_url=texting.settings.public_url,
        monotonic=lambda: moment[0],
    )
    try:
        assert scheduler.send_messages(texting, outlets) == 1  # tried: the bind is refused
        assert scheduler.send_messages(texting, outlets) == 0  # waiting out the backoff: no new bind
        assert smsc.refused_binds == 1
        ((status, attempts),) = {(row.status, row.attempts) for row in _sms_rows(runtime)}
        assert (status, attempts) == ("pending", 0)  # an unbound link costs the message no attempt
        moment[0] += smpp.FIRST_BACKOFF
        scheduler.send_messages(texting, outlets)
        assert smsc.refused_binds == 2
        moment[0] += smpp.FIRST_BACKOFF  # the wait doubled: not yet
        scheduler.send_messages(texting, outlets)
        assert smsc.refused_binds == 2
        smsc.refuse_binds = False
        moment[0] += smpp.FIRST_BACKOFF
        _until(
            lambda: {row.status for row in _sms_rows(runtime)} == {"delivered"},
            lambda: scheduler.send_messages(texting, outlets),
        )
    finally:
        outlets.close()
    assert (smsc.binds, len(smsc.messages())) == (1, 1)


@pytest.mark.postgres_only
def test_three_workers_racing_the_outbox_submit_each_message_once(client, runtime, clock, database_url, smsc):
    world = World(client, runtime)
    count = 60
    for n in range(count):
        _texting(world, PHONES[n], "en")
    _drawn(world, clock, count)
    texting = _sms_runtime(runtime, database_url, smsc)
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []

    def work() -> None:
        outlets = scheduler.outlets_of(texting)
        try:
            barrier.wait()
            for _ in range(20):
                outbox.send_due(texting.engine, outlets=outlets, now=clock.now(), limit=5)
        except BaseException as exc:
            errors.append(exc)
        finally:
            outlets.close()

    workers = [threading.Thread(target=work) for _ in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)

    assert errors == []
    assert smsc.binds == 3
    assert len({s.connection for s in smsc.submits}) > 1  # the work was shared
    assert {s.destination for s in smsc.submits} == {PHONES[n].lstrip("+") for n in range(count)}
    assert set(Counter((s.destination, s.udh) for s in smsc.submits).values()) == {1}
    assert len(smsc.messages()) == count
    assert {(row.status, row.attempts) for row in _sms_rows(runtime)} <= {("sent", 1), ("delivered", 1)}


def test_without_an_smsc_sms_go_to_the_log(client, runtime, clock, caplog):
    world = World(client, runtime)
    _texting(world, PHONES[0], "en")
    _drawn(world, clock, 1)
    with caplog.at_level(logging.INFO, logger="fairslot.notifications"):
        assert scheduler.tick(runtime).sent == 1
    assert any(
        r.getMessage().startswith(f"sms to {PHONES[0]}: Fairslot: the draw offers you")
        for r in caplog.records
    )
    assert [row.status for row in _sms_rows(runtime)] == ["sent"]
