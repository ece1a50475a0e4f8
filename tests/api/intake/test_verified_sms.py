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
    texts = [text for destination, text in smsc.messages() if destination == phone.lstrip("+")]
    found = re.findall(r"\b(\d{6})\b", texts[-1])
    assert found, texts
    return found[0]


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
