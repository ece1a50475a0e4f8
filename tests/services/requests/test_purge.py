"""Retention: names, contact details and declared circumstances of closed requests go after N days, and the
request is unlinked from its identity; statistics, the no-show factor, draw records and the audit chain stay."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlmodel import col, select

from app.db.engine import session_scope
from app.db.models import AppointmentRequest, OutboxMessage
from app.domain.draws import draw_record
from app.services import audit, scheduler
from app.services.requests import purge
from tests.conftest import TEST_SECRET
from tests.factories import World, auth, create_office, named_for, request_body

BIRTH_DATE = "1988-11-03"


def _submit(world: World, document: str, offices: list[str] | None = None) -> dict:
    body = request_body(
        world.service,
        offices or [world.office],
        identity={
            "document_type": "passport",
            "document_number": document,
            "family_name": named_for("Moreau", document),
            "given_names": "Élise",
            "birth_date": BIRTH_DATE,
        },
        contact={"email": f"{document.lower()}@example.org", "phone": "+33 6 12 34 56 78"},
    )
    response = world.client.post("/api/v1/requests", json=body)
    assert response.status_code == 201, response.text
    return {**response.json(), "document": document}


def _post(client, applicant, action: str) -> dict:
    response = client.post(
        f"/api/v1/requests/{applicant['id']}/{action}", headers=auth(applicant["access_code"])
    )
    assert response.status_code == 200, response.text
    return response.json()


def _requests(runtime) -> dict[str, AppointmentRequest]:
    with session_scope(runtime.engine) as session:
        return {r.id: r for r in session.exec(select(AppointmentRequest)).all()}


def _outbox(runtime) -> list[OutboxMessage]:
    with session_scope(runtime.engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def _purge(runtime, days: int) -> int:
    with session_scope(runtime.engine) as session:
        return purge.purge(session, older_than=timedelta(days=days), now=runtime.clock.now())


def _audit_problems(runtime) -> list:
    with session_scope(runtime.engine) as session:
        return audit.verify(session)[1]


def _is_purged(request: AppointmentRequest) -> bool:
    return (
        request.family_name is None
        and request.given_names is None
        and request.email is None
        and request.phone is None
        and request.purged_at is not None
    )


def test_purge_removes_personal_data_of_requests_closed_long_ago_and_keeps_the_rest(client, runtime, clock):
    world = World(client, runtime)
    start = clock.now()
    elsewhere = create_office(client, world.admin)["code"]
    waiting = _submit(world, "PENDING1", [elsewhere])  # never drawn: stays pending
    attended, cancelled, missed = (_submit(world, d) for d in ("ATTENDED", "CANCELLD", "NOSHOWED"))
    first = world.release(slots=3)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    bookings = {a["id"]: _post(client, a, "accept")["booking"] for a in (attended, cancelled, missed)}
    _post(client, cancelled, "cancel")
    withdrawn = _submit(world, "WITHDRAW")
    _post(client, withdrawn, "cancel")
    checked = client.post(
        "/api/v1/check-ins",
        json={
            "token": bookings[attended["id"]]["token"],
            "document_number": "attended",
            "birth_date": BIRTH_DATE,
        },
        headers=auth(world.desk),
    )
    assert checked.status_code == 200, checked.text
    clock.set(start + timedelta(days=3))
    scheduler.tick(runtime)
    clock.set(start + timedelta(days=35))
    recent = _submit(world, "RECENTLY")
    _post(client, recent, "cancel")
    clock.set(start + timedelta(days=38))
    holder = _submit(world, "BOOKEDNW")
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    _post(client, holder, "accept")
    clock.set(start + timedelta(days=40))
    statuses = {r.id: r.status for r in _requests(runtime).values()}
    assert statuses[missed["id"]] == "no_show"
    before = _requests(runtime)

    assert _purge(runtime, 30) == 4

    after = _requests(runtime)
    old = {attended["id"], cancelled["id"], missed["id"], withdrawn["id"]}
    for request_id, request in after.items():
        if request_id in old:
            assert _is_purged(request), request
            # Unlinked from the identity: declared circumstances and the digest are gone.
            assert request.identity_key != before[request_id].identity_key
            assert request.identity_key.startswith("purged-")
            assert request.vulnerabilities == []
            assert request.permit_expires_on is None
            assert request.status == before[request_id].status
            assert request.entry == before[request_id].entry
        else:
            assert request.family_name.startswith("Moreau ")
            assert request.given_names == "Élise"
            assert request.email is not None
            assert request.phone is not None
            assert request.purged_at is None
    assert {after[r].status for r in (waiting["id"], recent["id"], holder["id"])} == {
        "pending",
        "withdrawn",
        "booked",
    }
    for message in _outbox(runtime):
        if message.request_id in old:
            assert message.recipient is None
            assert message.context == {}
            assert message.last_error is None
        else:
            assert message.recipient is not None
    assert _purge(runtime, 30) == 0
    assert _audit_problems(runtime) == []

    draw_id = client.get(f"/api/v1/releases/{first['id']}").json()["draw_id"]
    assert draw_record.verify_record(client.get(f"/api/v1/draws/{draw_id}").json()) == []
    view = client.get(f"/api/v1/requests/{attended['id']}", headers=auth(attended["access_code"]))
    assert view.status_code == 200
    assert view.json()["status"] == "attended"


def test_the_no_show_factor_survives_a_purge(client, runtime, clock):
    world = World(client, runtime)
    start = clock.now()
    missed = _submit(world, "NOSHOW99")
    world.release(slots=1)
    clock.advance(timedelta(hours=1))
    scheduler.tick(runtime)
    _post(client, missed, "accept")
    clock.set(start + timedelta(days=3))
    scheduler.tick(runtime)
    clock.set(start + timedelta(days=40))
    assert _purge(runtime, 30) == 1

    again = _submit(world, "noshow-99")

    factor = next(f for f in again["weight"]["factors"] if f["name"] == "no_show")
    assert Decimal(factor["value"]) == Decimal("0.5")


def test_a_purge_writes_one_audit_row_and_the_chain_still_verifies(client, runtime, clock):
    world = World(client, runtime)
    for document in ("GONE0001", "GONE0002"):
        _post(client, _submit(world, document), "cancel")
    assert _audit_problems(runtime) == []
    clock.advance(timedelta(days=31))

    assert _purge(runtime, 30) == 2

    assert _audit_problems(runtime) == []
    with runtime.engine.connect() as conn:
        rows = conn.execute(text("SELECT action FROM audit_event WHERE action = 'requests.purged'")).all()
    assert len(rows) == 1


def test_fairslot_purge_older_than_30_works_from_the_command_line(client, runtime, clock, tmp_path):
    real_now = datetime.now(UTC)
    clock.set(real_now - timedelta(days=40))
    world = World(client, runtime)
    old = _submit(world, "OLDCLOSE")
    _post(client, old, "cancel")
    clock.set(real_now - timedelta(days=10))
    recent = _submit(world, "NEWCLOSE")
    _post(client, recent, "cancel")
    still_open = _submit(world, "STILLOPN")

    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "purge", "--older-than", "30"],
        env={
            **os.environ,
            "FAIRSLOT_DATABASE_URL": runtime.settings.database_url,
            "FAIRSLOT_SECRET_KEY": TEST_SECRET,
            "FAIRSLOT_ENV": "test",
        },
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "purged personal data of 1 closed requests"
    requests = _requests(runtime)
    assert _is_purged(requests[old["id"]])
    assert not _is_purged(requests[recent["id"]])
    assert not _is_purged(requests[still_open["id"]])
    assert _audit_problems(runtime) == []


def test_a_failed_delivery_keeps_no_address_in_its_error_nor_its_log(client, runtime, clock, caplog):
    import dataclasses
    import socket

    from aiosmtpd.controller import Controller

    from app.domain.redaction import without_recipients
    from app.services import scheduler
    from tests.conftest import test_settings

    class Refusing:
        """A real SMTP server that refuses every recipient, quoting the address as servers do."""

        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return f"550 5.1.1 <{address}>: no such user"

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Refusing(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        world = World(client, runtime)
        applicant = _submit(world, "REFUSED1")
        settings = test_settings(runtime.settings.database_url, smtp_url=f"smtp://127.0.0.1:{port}")
        smtp_runtime = dataclasses.replace(runtime, settings=settings)
        outlets = scheduler.outlets_of(smtp_runtime)
        try:
            with caplog.at_level("INFO"):
                scheduler.send_messages(smtp_runtime, outlets)
        finally:
            outlets.close()
    finally:
        controller.stop()
    mails = [m for m in _outbox(runtime) if m.request_id == applicant["id"] and m.channel == "email"]
    errors = [m.last_error for m in mails]
    address = mails[0].recipient

    assert errors and all(e for e in errors)
    assert all(address not in (e or "") for e in errors)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("fairslot"))
    assert address not in ours  # the test server's own log (mail.log) is not ours
    assert (
        without_recipients("550 <aicha.d@example.org> +33 6 12 34 56 78") == "550 <<recipient>> <recipient>"
    )


def test_purge_clears_declared_circumstances_availability_and_every_trace_of_the_number(
    client, runtime, clock
):
    from app.db.models import Claim, PhoneCode, PhoneCodeSend, SmsGrant
    from tests.verified import ask_code, phone_world

    world = phone_world(client, runtime)
    today = clock.now().date()
    body = request_body(
        world.service,
        [world.office],
        contact={"phone": "+33 6 12 34 56 78"},
        permit_expires_on=(today + timedelta(days=20)).isoformat(),
        vulnerabilities=["pregnancy"],
        availability={"earliest": (today + timedelta(days=1)).isoformat(), "weekdays": [1, 2, 3]},
    )
    created = client.post("/api/v1/requests", json=body)
    assert created.status_code == 201, created.text
    applicant = created.json()
    assert ask_code(world, applicant).status_code == 202
    scheduler.send_messages(runtime, scheduler.outlets_of(runtime))  # its texts counted by number
    with session_scope(runtime.engine) as session:
        assert session.exec(select(SmsGrant)).all() != []
    _post(client, applicant, "cancel")
    clock.advance(timedelta(days=31))

    assert _purge(runtime, 30) == 1

    with session_scope(runtime.engine) as session:
        request = session.exec(
            select(AppointmentRequest).where(AppointmentRequest.id == applicant["id"])
        ).one()
        assert request.availability is None
        assert request.phone_digest is None
        assert request.permit_expires_on is None
        assert request.vulnerabilities == []
        claims = session.exec(select(Claim).where(Claim.request_seq == request.seq)).all()
        assert {c.kind for c in claims} == {"permit_expiry", "vulnerability"}  # counted by statistics
        assert all(c.declared in ("", []) for c in claims), [c.declared for c in claims]
        assert session.exec(select(PhoneCodeSend).where(PhoneCodeSend.request_seq == request.seq)).all() == []
        assert session.get(PhoneCode, request.seq) is None
        assert session.exec(select(SmsGrant)).all() == []
    view = client.get(f"/api/v1/requests/{applicant['id']}", headers=auth(applicant["access_code"]))
    assert view.status_code == 200, view.text
    assert {c["claim"]: c["declared"] for c in view.json()["claims"]} == {
        "permit_expiry": "",
        "vulnerability": [],
    }
