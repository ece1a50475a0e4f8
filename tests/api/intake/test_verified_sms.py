"""The code by SMS over SMPP 3.4 to the local SMSC (``tests/smsc.py``): the applicant reads it from the SMS,
types it back, and the outbox forgets it once the SMSC took it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.services import scheduler
from tests.assertions import text_cells
from tests.conftest import test_settings
from tests.smsc import Smsc
from tests.verified import ask_code, phone_world, texting, type_code, wrong


@pytest.fixture
def smsc() -> Iterator[Smsc]:
    server = Smsc().start()
    yield server
    server.stop()


def _code_from_sms(smsc: Smsc, phone: str) -> str:
    """The latest code sent to the number: one-time codes leave before bulk texts such as the filing receipt, so
    the code is not always the last text the number received."""
    texts = [text for destination, text in smsc.messages() if destination == phone.lstrip("+")]
    codes = [found for text in texts for found in re.findall(r"\b(\d{6})\b", text)]
    assert codes, texts
    return codes[-1]


@pytest.mark.parametrize("language", ["fr", "uk"])
def test_the_code_arrives_by_sms_is_typed_back_and_is_forgotten_once_sent(
    client, runtime, database_url, smsc, language
):
    world = phone_world(client, runtime)
    applicant = texting(world, phone="+262692123456", language=language)  # Réunion
    assert ask_code(world, applicant).status_code == 202
    texting_runtime = dataclasses.replace(runtime, settings=test_settings(database_url, smpp_url=smsc.url))
    scheduler.tick(texting_runtime)
    code = _code_from_sms(smsc, "+262692123456")
    with session_scope(runtime.engine) as session:
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "phone_code")).one()
    assert message.status in ("sent", "delivered") and "code_sealed" not in message.context
    assert not [cell for cell in text_cells(runtime.engine) if code in cell[2]]
    assert type_code(world, applicant, wrong(code)).json()["tries_left"] == 4
    verified = type_code(world, applicant, code)
    assert verified.status_code == 200, verified.text
    assert verified.json()["verification"] == {
        **verified.json()["verification"],
        "status": "verified",
        "method": "phone",
    }


def test_a_number_that_never_verified_a_code_gets_three_texts_a_day_and_its_codes_still_go_out(
    client, runtime, database_url, smsc
):
    from datetime import timedelta

    world = phone_world(client, runtime)
    victim, other = "+33611223344", "+33655667788"
    texting_runtime = dataclasses.replace(runtime, settings=test_settings(database_url, smpp_url=smsc.url))

    def received_by(phone: str) -> int:
        return sum(1 for destination, _text in smsc.messages() if destination == phone.lstrip("+"))

    filed = [texting(world, phone=victim) for _ in range(6)]  # anyone may name any number
    texting(world, phone=other)
    scheduler.tick(texting_runtime)

    assert received_by(victim) == 3
    assert received_by(other) == 1
    with session_scope(runtime.engine) as session:
        to_victim = session.exec(
            select(OutboxMessage).where(OutboxMessage.recipient == victim, OutboxMessage.channel == "sms")
        ).all()
        assert sorted(m.status == "failed" for m in to_victim) == [False] * 3 + [True] * 3
        assert all("not verified a code" in (m.last_error or "") for m in to_victim if m.status == "failed")
    shown = client.get(
        f"/api/v1/requests/{filed[5]['id']}", headers={"Authorization": f"Bearer {filed[5]['access_code']}"}
    )
    assert {(m["channel"], m["status"]) for m in shown.json()["messages"]} == {("sms", "failed")}
    assert len({r["id"] for r in filed}) == 6

    assert ask_code(world, filed[5]).status_code == 202  # a code is not counted against the three
    scheduler.tick(texting_runtime)
    assert received_by(victim) == 4
    assert type_code(world, filed[5], _code_from_sms(smsc, victim)).status_code == 200

    texting(world, phone=victim)  # the number proved it wants these texts: no limit any more
    texting(world, phone=victim)
    scheduler.tick(texting_runtime)
    assert received_by(victim) == 6

    runtime.clock.advance(timedelta(days=1))
    for _ in range(4):
        texting(world, phone=other)
    scheduler.tick(texting_runtime)
    assert received_by(other) == 4  # a new day, three more for the number that never verified
