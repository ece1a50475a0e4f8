"""``/dev/messages``, the development message catcher: what the log outlets sent, newest first, codes
included; a 404 unless it is on (development, or ``FAIRSLOT_DEV_MESSAGES``)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db.engine import session_scope
from app.db.models import OutboxMessage
from app.main import create_app
from app.runtime import Runtime
from app.services import scheduler
from app.services.messages import catcher, outbox
from tests.conftest import test_settings
from tests.verified import ask_code, phone_world, texting, type_code


@pytest.fixture
def catching(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    """An app whose settings turn the catcher on (as development does), and an empty catcher."""
    catcher.CAUGHT.clear()
    on = Runtime(
        settings=test_settings(runtime.settings.database_url, dev_messages=True),
        engine=runtime.engine,
        clock=runtime.clock,
    )
    with TestClient(create_app(on), raise_server_exceptions=False) as client:
        yield client, on
    catcher.CAUGHT.clear()


def test_the_page_is_not_found_unless_the_catcher_is_on(client):
    answer = client.get("/dev/messages", headers={"Accept": "text/html"})

    assert answer.status_code == 404
    assert 'href="/dev/messages"' not in client.get("/?lang=en").text


def test_the_home_page_links_to_the_catcher_when_it_is_on(catching):
    client, _runtime = catching

    assert 'href="/dev/messages"' in client.get("/?lang=en").text


def test_a_one_time_code_sent_to_the_log_is_read_on_the_page_and_verifies_the_request(catching):
    client, runtime = catching
    world = phone_world(client, runtime)
    request = texting(world)
    assert client.get("/dev/messages?lang=en").text.count('class="panel caught"') == 0
    scheduler.tick(runtime)  # the acknowledgement goes out first (a tick sends codes before other messages)
    assert 'class="code-box"' not in client.get("/dev/messages?lang=en").text
    assert ask_code(world, request).status_code == 202

    scheduler.tick(runtime)
    page = client.get("/dev/messages?lang=en")

    assert page.status_code == 200
    newest = catcher.sent_messages()[0]
    assert newest.kind == outbox.CODE_KIND
    assert newest.code is not None and newest.code in newest.body
    assert f'<span class="code-box" dir="ltr">{newest.code}</span>' in page.text
    assert page.text.index("Verification code") < page.text.index("Request received")  # newest first
    assert f"/status?id={request['id']}" in page.text
    assert type_code(world, request, newest.code).status_code == 200
    with session_scope(runtime.engine) as session:  # the outbox still forgot the code once it was sent
        row = session.exec(select(OutboxMessage).where(OutboxMessage.kind == outbox.CODE_KIND)).one()
        assert outbox.SEALED not in row.context and "code" not in row.context


def test_the_catcher_keeps_only_the_latest_messages():
    ring = catcher.Catcher(capacity=2)
    for n in range(3):
        ring.keep(
            catcher.Caught(
                at=datetime(2026, 12, 1, 9, n, tzinfo=UTC),
                channel="sms",
                kind="request_received",
                language="fr",
                recipient="+33612345678",
                subject=None,
                body=f"message {n}",
                request_id="r",
            )
        )

    assert [m.body for m in ring.newest_first()] == ["message 2", "message 1"]
