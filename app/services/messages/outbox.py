"""Notifications through an outbox: written in the transaction of the change, sent once by the scheduler.

Every message exists once per channel the applicant gave (``email``, ``sms``). Sending never holds a
transaction across the network: a worker **claims** a batch (``FOR UPDATE SKIP LOCKED``, then pushes
each row's ``next_attempt_at`` past ``LEASE`` and counts the attempt), **commits**, sends outside any
transaction with every attempt bounded by a timeout, then **records** each outcome in a second short
transaction, guarded by the attempt number so that a late worker never overwrites a newer claim. A
worker that dies mid-batch leaves its rows to come due again when the lease ends. Delivery is therefore
at-least-once at the SMTP or SMSC boundary (a worker killed between the server's acceptance and its
record sends again) and exactly once otherwise, whatever the number of workers. A failed attempt is
retried with exponential backoff up to ``MAX_ATTEMPTS``; rows left unsent (the link is down or
throttled, the batch ran out of time) go back to the queue without counting an attempt.

An outlet whose server cannot be reached or does not answer (a hung SMTP server accepts the connection and
never says a word) costs one bounded attempt: the message tried gets its retry time, the rest of the batch
goes back to the queue untried, and the outlet is left alone for a while (``OUTLET_BACKOFF``, doubling up
to ``OUTLET_MAX_BACKOFF``; the SMPP link keeps its own reconnection backoff), so a dead server never costs
a timeout per batch. Batches are claimed per channel, one-time codes before anything else
(:func:`send_due` with ``codes``), so a code never waits behind bulk mail.

A one-time code (``phone_code``, SMS only) is carried sealed with the server secret, opened in memory just
before it is sent, and wiped from the row once sent or given up; the log outlet shows it in development
only.

Messages to staff (an invitation to enrol, in French and English: ``staff_texts``) travel the same way by
e-mail, with no request; their link is sealed like a code, opened only to send, and forgotten once sent.

A number that has not verified a code gets at most three texts a day besides its codes
(``sms_budget``): the texts over that are marked ``failed`` before anything is sent.

SMS delivery receipts (``deliver_sm``) move an accepted message to ``delivered`` or ``failed``. Without
``FAIRSLOT_SMTP_URL`` / ``FAIRSLOT_SMPP_URL`` the messages of that channel are written to the log.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import unquote, urlparse

from sqlalchemy import Engine, bindparam, insert, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app import metrics
from app.db.bulk import bulk_insert
from app.db.models import AppointmentRequest, OutboxMessage, OutboxReceipt
from app.domain import verification
from app.domain.proofs import sealing
from app.domain.statuses import OutboxStatus
from app.services.messages import sms_budget, sms_encoding, staff_texts, texts
from app.services.messages.catcher import Catcher, Caught
from app.services.messages.smpp import Receipt, Refused, SmppConfig, SmppLink
from app.services.unit_of_work import unit_of_work

log = logging.getLogger("fairslot.notifications")
MAX_ATTEMPTS = 8
BATCH = 50
#: How long a claim keeps other workers off a row: well above what a batch may take.
LEASE = timedelta(minutes=5)
#: A batch stops starting new sends after this long (the rest goes back to the queue).
BATCH_DEADLINE_SECONDS = 60.0
#: How long an SMTP server that could not be reached or did not answer is left alone, doubling on each
#: failure in a row up to the maximum (seconds of monotonic time; a message sent resets it).
OUTLET_BACKOFF = 30.0
OUTLET_MAX_BACKOFF = 300.0


class Channel(StrEnum):
    """How a message reaches the applicant."""

    EMAIL = "email"
    SMS = "sms"


def _rows_for(
    request_id: str, email: str | None, phone: str | None, kind: str, language: str, context: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = []
    for channel, recipient in ((Channel.EMAIL, email), (Channel.SMS, phone)):
        if recipient:
            rows.append(
                {
                    "request_id": request_id,
                    "channel": channel.value,
                    "kind": kind,
                    "language": language,
                    "recipient": recipient,
                    # A calendar file travels by e-mail only.
                    "context": context if channel == Channel.EMAIL else _without_calendar(context),
                }
            )
    return rows


def _without_calendar(context: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in context.items() if k != "ics"} if "ics" in context else context


def enqueue(
    session: Session,
    request: AppointmentRequest,
    kind: str,
    now: datetime,
    *,
    sms: bool = True,
    **context: Any,
) -> None:
    """Queue a message about ``request`` on each of its channels (the e-mail alone with ``sms=False``), in
    the current transaction."""
    full = {"entry": request.entry, "request_id": request.id, **_jsonable(context)}
    phone = request.phone if sms else None
    for row in _rows_for(request.id, request.email, phone, kind, request.language, full):
        session.add(OutboxMessage(**row, status="pending", next_attempt_at=now, created_at=now))


def enqueue_many(session: Session, messages: list[dict[str, Any]], now: datetime) -> None:
    """Queue many messages at once (a draw's offers); each dict holds request_id, kind, language,
    recipient (the e-mail address), optionally phone, and context."""
    rows: list[tuple[Any, ...]] = []
    for m in messages:
        context = _jsonable(m["context"])
        for row in _rows_for(
            m["request_id"], m["recipient"], m.get("phone"), m["kind"], m["language"], context
        ):
            rows.append(
                (
                    row["request_id"],
                    row["channel"],
                    row["kind"],
                    row["language"],
                    row["recipient"],
                    context,
                    "pending",
                    0,
                    now,
                    now,
                )
            )
    if not rows:
        return
    columns = (
        "request_id",
        "channel",
        "kind",
        "language",
        "recipient",
        "context",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    bulk_insert(session, OutboxMessage.__table__, columns, rows)  # type: ignore[attr-defined]


def received_rows(requests: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The outbox rows of "request received" for new requests (their column values), for bulk writers."""
    rows = []
    for request in requests:
        now = request["submitted_at"]
        context = {"entry": request["entry"], "request_id": request["id"]}
        for row in _rows_for(
            request["id"],
            request["email"],
            request["phone"],
            "request_received",
            request["language"],
            context,
        ):
            rows.append(
                {**row, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            )
    return rows


def _jsonable(context: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in context.items()}


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (30 s, 1 min, 2 min… capped at 1 h)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def status_link(public_url: str, request_id: str) -> str:
    """The status page of a request (it asks for the access code; the link never carries it)."""
    return f"{public_url.rstrip('/')}/status?id={request_id}"


# --- what a worker claims and what comes of it ------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """A message claimed for one attempt (plain data: nothing here touches the database)."""

    id: int
    channel: str
    kind: str
    language: str
    recipient: str
    context: dict[str, Any]
    attempt: int
    done_segments: frozenset[int] = frozenset()


class Result(StrEnum):
    """What one attempt came to."""

    SENT = "sent"
    RETRY = "retry"  # failed this time; try again after the backoff
    FAILED = "failed"  # trying again cannot help
    UNSENT = "unsent"  # not tried (link down, throttled, out of time): back to the queue as it was


@dataclass
class Outcome:
    """The result of one claimed message, with the SMS segments the SMSC accepted."""

    message: Claimed
    result: Result
    error: str | None = None
    accepted: list[tuple[int, str]] = field(default_factory=list)  # (segment, SMSC message id)
    parts: int | None = None  # how many segments the SMS has


class Outlet(Protocol):
    """One channel's way out (SMTP, SMPP, or the log)."""

    channel: Channel

    @property
    def ready(self) -> bool:
        """Whether sending may be tried now."""
        ...

    def deliver(self, batch: list[Claimed], until: float | None = None) -> list[Outcome]:
        """Try each message once, starting none after ``until`` (monotonic time; those are ``UNSENT``);
        never raises for a message's failure."""
        ...

    def receipts(self) -> list[Receipt]:
        """Delivery receipts received since the last call."""
        ...


#: Receipts that arrive before their submit is recorded (a race with the record) wait this long.
KEEP_UNMATCHED_RECEIPTS = 300.0


@dataclass
class Outlets:
    """The outlets of a worker process, kept across scheduler passes (the SMPP link stays bound)."""

    by_channel: dict[Channel, Outlet]
    #: Receipts whose segment is not recorded yet, with when they came (monotonic seconds).
    unmatched: list[tuple[float, Receipt]] = field(default_factory=list)
    #: The server secret, which opens the one-time codes the outbox carries sealed (none: they fail).
    secret: bytes | None = None
    #: The identity pepper, which keys the number digests of the text budget (``sms_budget``; none: the
    #: budget is not applied, as for a bench's own outlets).
    pepper: bytes | None = None

    def ready(self) -> list[Channel]:
        """The channels that can send now."""
        return [channel for channel, outlet in self.by_channel.items() if outlet.ready]

    def close(self) -> None:
        """Close what holds a connection."""
        for outlet in self.by_channel.values():
            closer = getattr(outlet, "close", None)
            if closer is not None:
                closer()


# --- e-mail -------------------------------------------------------------------------------------------


def _email(message: Claimed, mail_from: str, public_url: str) -> EmailMessage:
    if message.kind in staff_texts.TEXTS:
        subject, body = staff_texts.render(message.kind, message.context)
    else:
        link = status_link(public_url, str(message.context.get("request_id", "")))
        subject, body = texts.render_email(message.kind, message.language, message.context, link)
    email = EmailMessage()
    email["From"] = mail_from
    email["To"] = message.recipient
    email["Subject"] = subject
    email.set_content(body)
    calendar = message.context.get("ics")
    if isinstance(calendar, str) and message.kind not in staff_texts.TEXTS:
        # The booking's calendar file: the event to add, or (STATUS:CANCELLED) to take out of a calendar.
        email.add_attachment(
            calendar.encode("utf-8"), maintype="text", subtype="calendar", filename="booking.ics"
        )
    email["Content-Language"] = message.language  # after set_content, which resets Content-* headers
    return email


def _error_text(exc: BaseException) -> str:
    # No recipient in what is stored or logged: SMTP errors often quote the address.
    return type(exc).__name__ + (
        f" {exc.smtp_code}" if isinstance(exc, smtplib.SMTPResponseException) else ""
    )


class SmtpOutlet:
    """Sends through the SMTP server of ``FAIRSLOT_SMTP_URL`` (``smtp://user:pass@host:port``), one
    connection per batch, every socket operation bounded by ``timeout`` seconds."""

    channel = Channel.EMAIL

    def __init__(
        self,
        url: str,
        mail_from: str,
        public_url: str,
        timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.tls = parsed.scheme == "smtps"
        self.starttls = parsed.scheme == "smtp+starttls"
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.mail_from = mail_from
        self.public_url = public_url
        self.timeout = timeout
        self.monotonic = monotonic
        self._failures = 0
        self._not_before = 0.0

    @property
    def ready(self) -> bool:
        """Whether sending may be tried now (not leaving a dead server alone)."""
        return self.monotonic() >= self._not_before

    def _server_failed(self) -> None:
        self._failures += 1
        wait = min(OUTLET_BACKOFF * 2 ** (self._failures - 1), OUTLET_MAX_BACKOFF)
        self._not_before = self.monotonic() + wait
        log.warning(
            "SMTP server %s:%s unreachable or silent; left alone for %.0f s", self.host, self.port, wait
        )

    def _connect(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        smtp = smtp_class(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            smtp.starttls()
        if self.user:
            smtp.login(self.user, self.password or "")
        return smtp

    def deliver(self, batch: list[Claimed], until: float | None = None) -> list[Outcome]:
        """Send each message of the batch over one connection; the server unreachable, silent or gone, the
        message tried gets its retry time and the rest goes back to the queue untried."""
        outcomes: list[Outcome] = []
        smtp: smtplib.SMTP | None = None
        down = False
        started = time.monotonic()
        deadline = (
            started + BATCH_DEADLINE_SECONDS
            if until is None
            else min(until, started + BATCH_DEADLINE_SECONDS)
        )
        try:
            for message in batch:
                if down or time.monotonic() > deadline:
                    outcomes.append(Outcome(message, Result.UNSENT))
                    continue
                connected = smtp is not None
                try:
                    if smtp is None:
                        smtp = self._connect()
                    smtp.send_message(_email(message, self.mail_from, self.public_url))
                except smtplib.SMTPRecipientsRefused as exc:
                    outcomes.append(Outcome(message, Result.RETRY, _error_text(exc)))
                except (smtplib.SMTPResponseException, smtplib.SMTPDataError) as exc:
                    outcomes.append(Outcome(message, Result.RETRY, _error_text(exc)))
                except (OSError, smtplib.SMTPException) as exc:
                    # The server is unreachable, hung or gone: one timeout paid, not one per message.
                    down = True
                    if smtp is not None:
                        smtp.close()  # no QUIT: a hung server would make us wait once more
                    smtp = None
                    if not connected:
                        self._server_failed()  # it never took a message: leave it alone a while
                    outcomes.append(Outcome(message, Result.RETRY, _error_text(exc)))
                else:
                    self._failures = 0
                    outcomes.append(Outcome(message, Result.SENT))
        finally:
            _quit(smtp)
        return outcomes

    def receipts(self) -> list[Receipt]:
        """SMTP gives no delivery receipts."""
        return []


def _quit(smtp: smtplib.SMTP | None) -> None:
    if smtp is None:
        return
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class LogOutlet:
    """Writes the messages of one channel to the log (no server configured for it).

    A one-time code is written out only with ``reveal_codes`` (development: the demo works offline);
    otherwise its text is withheld, so no code ever reaches a production or test log. With a ``catcher``
    (development's ``/dev/messages``) each message is also kept, whole, in that in-memory ring.
    """

    def __init__(
        self,
        channel: Channel,
        mail_from: str,
        public_url: str,
        *,
        reveal_codes: bool = False,
        catcher: Catcher | None = None,
    ) -> None:
        # A staff invitation's link is a credential too: withheld from the log but in development.
        self.channel = channel
        self.mail_from = mail_from
        self.public_url = public_url
        self.reveal_codes = reveal_codes
        self.catcher = catcher

    ready = True

    def deliver(self, batch: list[Claimed], until: float | None = None) -> list[Outcome]:
        """Log each message (and keep it in the catcher, when there is one)."""
        for message in batch:
            subject: str | None = None
            if self.channel == Channel.EMAIL:
                email = _email(message, self.mail_from, self.public_url)
                text = email.get_body(("plain",))  # the text, without a calendar file attached
                assert text is not None
                subject, body = str(email["Subject"]), text.get_content()
                if message.kind in staff_texts.TEXTS and not self.reveal_codes:
                    log.info(
                        "mail to %s: a staff invitation (withheld: shown in development only)",
                        message.recipient,
                    )
                else:
                    log.info("mail to %s: %s\n%s", email["To"], subject, body)
            else:
                body = _sms_text(message, self.public_url)
                if message.kind == CODE_KIND and not self.reveal_codes:
                    log.info(
                        "sms to %s: a one-time code (withheld: shown in development only)", message.recipient
                    )
                else:
                    log.info("sms to %s: %s", message.recipient, body)
            if self.catcher is not None:
                self.catcher.keep(_caught(message, subject, body))
        return [Outcome(message, Result.SENT) for message in batch]

    def receipts(self) -> list[Receipt]:
        """The log gives no receipts."""
        return []


def _caught(message: Claimed, subject: str | None, body: str) -> Caught:
    code = message.context.get("code") if message.kind == CODE_KIND else None
    return Caught(
        at=datetime.now(UTC),
        channel=message.channel,
        kind=message.kind,
        language=message.language,
        recipient=message.recipient,
        subject=subject,
        body=body,
        request_id=str(message.context.get("request_id", "")),
        code=str(code) if code is not None else None,
    )


# --- SMS ------------------------------------------------------------------------------------------


def _sms_text(message: Claimed, public_url: str) -> str:
    link = status_link(public_url, str(message.context.get("request_id", "")))
    return texts.render_sms(message.kind, message.language, message.context, link)


class SmppOutlet:
    """Sends SMS through the SMSC of ``FAIRSLOT_SMPP_URL``, one bound link per worker process."""

    channel = Channel.SMS

    def __init__(self, link: SmppLink, public_url: str) -> None:
        self.link = link
        self.public_url = public_url

    @property
    def ready(self) -> bool:
        """Whether the link may be used now (not waiting out a backoff or a throttle)."""
        return self.link.ready

    def deliver(self, batch: list[Claimed], until: float | None = None) -> list[Outcome]:
        """Submit each message's segments not yet accepted, windowed; a message whose segments did not
        all get an answer goes back to the queue with the accepted ones recorded. (A batch is submitted
        whole: each exchange is bounded by the link's timeout, and a link that drops backs off.)"""
        started = time.monotonic()
        outcomes: list[Outcome] = []
        items: list[tuple[sms_encoding.Segment, str]] = []
        owners: list[int] = []
        for message in batch:
            # The reference is fixed per message, so resent segments join the ones already delivered.
            parts = sms_encoding.segments(_sms_text(message, self.public_url), reference=message.id & 0xFF)
            outcomes.append(Outcome(message, Result.SENT, parts=len(parts)))
            for segment in parts:
                if segment.number not in message.done_segments:
                    items.append((segment, message.recipient))
                    owners.append(len(outcomes) - 1)
        results = self.link.submit_many(items)
        for (segment, _destination), owner, result in zip(items, owners, results, strict=True):
            outcome = outcomes[owner]
            if isinstance(result, str):
                outcome.accepted.append((segment.number, result))
            elif isinstance(result, Refused):
                if outcome.result != Result.FAILED:
                    outcome.result = Result.FAILED if result.permanent else Result.RETRY
                outcome.error = str(result)
            elif outcome.result == Result.SENT:
                outcome.result = Result.UNSENT
                outcome.error = str(result) if result is not None else None
        if time.monotonic() - started > BATCH_DEADLINE_SECONDS:
            log.warning("an SMS batch took %.0f s", time.monotonic() - started)
        return outcomes

    def receipts(self) -> list[Receipt]:
        """The receipts the link has read."""
        return self.link.poll()

    def close(self) -> None:
        """Unbind from the SMSC."""
        self.link.close()


def outlets_for(
    *,
    smtp_url: str | None,
    smpp_url: str | None,
    mail_from: str,
    public_url: str,
    timeout: float = 10.0,
    monotonic: Callable[[], float] = time.monotonic,
    secret: bytes | None = None,
    reveal_codes: bool = False,
    pepper: bytes | None = None,
    catcher: Catcher | None = None,
) -> Outlets:
    """The configured outlets: SMTP and SMPP when their URLs are set, else the log (``reveal_codes``: the
    log shows one-time codes, development only; ``catcher``: the log outlets also keep what they send
    there, for ``/dev/messages``); ``secret`` opens the sealed codes."""
    email: Outlet = (
        SmtpOutlet(smtp_url, mail_from, public_url, timeout, monotonic=monotonic)
        if smtp_url
        else LogOutlet(Channel.EMAIL, mail_from, public_url, reveal_codes=reveal_codes, catcher=catcher)
    )
    text: Outlet = (
        SmppOutlet(SmppLink(SmppConfig.from_url(smpp_url, timeout), monotonic=monotonic), public_url)
        if smpp_url
        else LogOutlet(Channel.SMS, mail_from, public_url, reveal_codes=reveal_codes, catcher=catcher)
    )
    return Outlets({Channel.EMAIL: email, Channel.SMS: text}, secret=secret, pepper=pepper)


# --- one-time codes: sealed in the outbox, opened in memory to send, forgotten once sent -------------

CODE_KIND = "phone_code"
SEALED = "code_sealed"


def enqueue_code(
    session: Session, request: AppointmentRequest, code: str, now: datetime, *, secret: bytes
) -> None:
    """Queue a one-time code, by SMS only (the code proves the number), sealed for the request."""
    assert request.phone is not None
    context = {
        "entry": request.entry,
        "request_id": request.id,
        SEALED: verification.seal_code(secret, code, request.id),
    }
    session.add(
        OutboxMessage(
            request_id=request.id,
            channel=Channel.SMS.value,
            kind=CODE_KIND,
            language=request.language,
            recipient=request.phone,
            context=context,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
    )


STAFF_LINK_PURPOSE = b"fairslot staff mail link v1"
LINK_SEALED = "link_sealed"


def enqueue_staff_mail(
    session: Session,
    *,
    kind: str,
    account_id: int,
    email: str,
    link: str,
    secret: bytes,
    now: datetime,
    **context: Any,
) -> None:
    """Queue an e-mail to a member of staff (no request), its ``link`` sealed until it is sent."""
    assert kind in staff_texts.TEXTS
    sealed = sealing.seal(secret, STAFF_LINK_PURPOSE, link.encode("utf-8"), f"staff-account:{account_id}")
    full = {"account_id": account_id, LINK_SEALED: sealed, **_jsonable(context)}
    session.add(
        OutboxMessage(
            request_id=None,
            channel=Channel.EMAIL.value,
            kind=kind,
            language="fr",
            recipient=email,
            context=full,
            status="pending",
            next_attempt_at=now,
            created_at=now,
        )
    )


def _open_link(message: Claimed, secret: bytes | None) -> Claimed:
    """A staff message with its link opened (in memory only); ``ValueError`` when it cannot open."""
    if secret is None:
        raise ValueError("no secret to open the link")
    bound = f"staff-account:{message.context.get('account_id')}"
    link = sealing.open_sealed(
        secret, STAFF_LINK_PURPOSE, str(message.context[LINK_SEALED]), bound, what="link"
    ).decode("utf-8")
    context = {k: v for k, v in message.context.items() if k != LINK_SEALED}
    return replace(message, context={**context, "link": link})


def _open_codes(claimed: list[Claimed], secret: bytes | None) -> tuple[list[Claimed], list[Outcome]]:
    """The claimed messages with their codes and links opened (in memory only), and the ones that cannot
    open."""
    ready: list[Claimed] = []
    failed: list[Outcome] = []
    for message in claimed:
        if LINK_SEALED in message.context:
            try:
                ready.append(_open_link(message, secret))
            except ValueError as exc:
                failed.append(Outcome(message, Result.FAILED, str(exc)))
            continue
        sealed = message.context.get(SEALED)
        if sealed is None:
            if message.kind == CODE_KIND:
                failed.append(Outcome(message, Result.FAILED, "no code to send"))
            else:
                ready.append(message)
            continue
        try:
            if secret is None:
                raise ValueError("no secret to open the code")
            code = verification.open_code(secret, str(sealed), str(message.context.get("request_id", "")))
        except ValueError as exc:
            failed.append(Outcome(message, Result.FAILED, str(exc)))
            continue
        context = {k: v for k, v in message.context.items() if k != SEALED}
        ready.append(replace(message, context={**context, "code": code}))
    return ready, failed


def _budgeted(
    engine: Engine, claimed: list[Claimed], pepper: bytes | None, now: datetime
) -> tuple[list[Claimed], list[Outcome]]:
    """The claimed messages that may go out, and the texts a number that never verified a code is over
    its daily budget for (failed, with the reason; see ``sms_budget``)."""
    texts = [(m.id, m.recipient) for m in claimed if m.channel == Channel.SMS and m.kind != CODE_KIND]
    if pepper is None or not texts:
        return claimed, []
    refused = sms_budget.withheld(engine, texts, pepper=pepper, now=now)
    return (
        [m for m in claimed if m.id not in refused],
        [Outcome(m, Result.FAILED, sms_budget.WITHHELD) for m in claimed if m.id in refused],
    )


def _forgotten(message: Claimed) -> dict[str, Any]:
    """A code or staff message's context without its code or link (what the outbox keeps once it is sent or
    given up)."""
    return {k: v for k, v in message.context.items() if k not in (SEALED, "code", LINK_SEALED, "link")}


# --- claim, send, record --------------------------------------------------------------------------


def claim(
    session: Session,
    *,
    channels: Iterable[str],
    now: datetime,
    limit: int = BATCH,
    codes: bool | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` due messages of ``channels`` for one attempt (commit before sending); ``codes``:
    one-time codes only (True), everything but them (False), or any message (None)."""
    wanted: list[Any] = [
        OutboxMessage.status == OutboxStatus.PENDING.value,
        OutboxMessage.next_attempt_at <= now,
        col(OutboxMessage.channel).in_(list(channels)),
    ]
    if codes is not None:
        wanted.append(OutboxMessage.kind == CODE_KIND if codes else OutboxMessage.kind != CODE_KIND)
    rows = session.exec(
        select(OutboxMessage)
        .where(*wanted)
        .order_by(col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True, key_share=True)
    ).all()
    if not rows:
        return []
    done: dict[int, set[int]] = {}
    sms_ids = [row.id for row in rows if row.channel == Channel.SMS]
    if sms_ids:
        for message_id, segment in session.exec(
            select(OutboxReceipt.message_id, OutboxReceipt.segment).where(
                col(OutboxReceipt.message_id).in_(sms_ids)
            )
        ).all():
            done.setdefault(message_id, set()).add(segment)
    claimed = []
    for row in rows:
        assert row.id is not None
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        session.add(row)
        claimed.append(
            Claimed(
                id=row.id,
                channel=row.channel,
                kind=row.kind,
                language=row.language,
                recipient=row.recipient or "",
                context=dict(row.context),
                attempt=row.attempts,
                done_segments=frozenset(done.get(row.id, ())),
            )
        )
    session.flush()
    return claimed


def record(session: Session, outcomes: list[Outcome], *, now: datetime) -> None:
    """Write what came of each attempt (a row claimed again since then is left to its new owner)."""
    receipts = [
        {
            "message_id": o.message.id,
            "segment": segment,
            "receipt_id": receipt_id,
            "status": "accepted",
            "updated_at": now,
        }
        for o in outcomes
        for segment, receipt_id in o.accepted
    ]
    if receipts:
        session.execute(insert(OutboxReceipt), receipts)
    changes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for outcome in outcomes:
        message = outcome.message
        values: dict[str, Any]
        if outcome.result == Result.SENT:
            values = {"status": OutboxStatus.SENT.value, "sent_at": now, "last_error": None}
            values["parts"] = outcome.parts
        elif outcome.result == Result.UNSENT:
            values = {"attempts": message.attempt - 1, "next_attempt_at": now}
            if outcome.error:
                values["last_error"] = outcome.error[:500]
        elif outcome.result == Result.FAILED or message.attempt >= MAX_ATTEMPTS:
            values = {"status": OutboxStatus.FAILED.value, "last_error": (outcome.error or "")[:500]}
        else:
            values = {
                "next_attempt_at": now + backoff(message.attempt),
                "last_error": (outcome.error or "")[:500],
            }
        if (message.kind == CODE_KIND or message.kind in staff_texts.TEXTS) and "status" in values:
            values["context"] = _forgotten(message)  # sent or given up: the code or link is forgotten
        if outcome.result != Result.UNSENT:
            counted = "sent" if outcome.result == Result.SENT else values.get("status") or "retry"
            metrics.OUTBOX.labels(channel=str(message.channel), outcome=counted).inc()
        if outcome.result in (Result.RETRY, Result.FAILED):
            log.warning(
                "%s %s attempt %s failed: %s", message.channel, message.id, message.attempt, outcome.error
            )
        changes.setdefault(tuple(sorted(values)), []).append(
            {"b_id": message.id, "b_attempt": message.attempt, **{f"v_{k}": v for k, v in values.items()}}
        )
    table = OutboxMessage.__table__  # type: ignore[attr-defined]
    for names, rows in changes.items():
        # One statement per kind of change: the guard keeps a newer claim's row as it is.
        session.execute(
            update(table)
            .where(
                table.c.id == bindparam("b_id"),
                table.c.attempts == bindparam("b_attempt"),
                table.c.status == OutboxStatus.PENDING.value,
            )
            .values({name: bindparam(f"v_{name}") for name in names}),
            rows,
        )
    session.flush()


def apply_receipts(session: Session, receipts: list[Receipt], *, now: datetime) -> list[Receipt]:
    """Settle the messages the receipts are about; returns the receipts of segments not known yet."""
    if not receipts:
        return []
    by_id = {r.receipt_id: r for r in receipts}
    known: dict[str, int] = {}
    ids = list(by_id)
    for start in range(0, len(ids), 500):
        for receipt_id, message_id in session.execute(
            sa_select(OutboxReceipt.receipt_id, OutboxReceipt.message_id).where(  # type: ignore[call-overload]
                col(OutboxReceipt.receipt_id).in_(ids[start : start + 500])
            )
        ).all():
            known[receipt_id] = message_id
    if known:
        table = OutboxReceipt.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table)
            .where(table.c.receipt_id == bindparam("b_receipt"))
            .values(status=bindparam("v_status"), updated_at=now),
            [{"b_receipt": rid, "v_status": by_id[rid].status.value} for rid in known],
        )
    touched = sorted(set(known.values()))
    settled: list[dict[str, Any]] = []
    for start in range(0, len(touched), 500):
        chunk = touched[start : start + 500]
        states: dict[int, list[str]] = {}
        for message_id, state in session.execute(
            sa_select(OutboxReceipt.message_id, OutboxReceipt.status).where(  # type: ignore[call-overload]
                col(OutboxReceipt.message_id).in_(chunk)
            )
        ).all():
            states.setdefault(message_id, []).append(state)
        for message_id, parts in session.execute(
            sa_select(OutboxMessage.id, OutboxMessage.parts).where(  # type: ignore[call-overload]
                col(OutboxMessage.id).in_(chunk), col(OutboxMessage.status) == OutboxStatus.SENT.value
            )
        ).all():
            found = states.get(message_id, [])
            if "failed" in found:
                settled.append({"b_id": message_id, "v_status": OutboxStatus.FAILED.value})
            elif found and all(s == "delivered" for s in found) and len(found) >= (parts or 1):
                settled.append({"b_id": message_id, "v_status": OutboxStatus.DELIVERED.value})
    if settled:
        table = OutboxMessage.__table__  # type: ignore[attr-defined]
        session.execute(
            update(table)
            .where(table.c.id == bindparam("b_id"), table.c.status == OutboxStatus.SENT.value)
            .values(status=bindparam("v_status"), settled_at=now),
            settled,
        )
    session.flush()
    return [r for rid, r in by_id.items() if rid not in known]


@dataclass
class SendReport:
    """What one pass over the outbox did."""

    handled: int = 0
    receipts: int = 0


def send_due(
    engine: Engine,
    *,
    outlets: Outlets,
    now: datetime,
    limit: int = BATCH,
    channels: Iterable[Channel] | None = None,
    codes: bool | None = None,
    until: float | None = None,
) -> int:
    """Claim a batch (of ``channels`` whose outlet is ready, all by default; ``codes`` as :func:`claim`),
    send it outside any transaction, starting no message after ``until`` (monotonic time), record the
    outcomes; returns how many were handled (receipts read meanwhile are applied too)."""
    ready = [c for c in outlets.ready() if channels is None or c in set(channels)]
    claimed: list[Claimed] = []
    if ready:
        with unit_of_work(engine) as session:
            claimed = claim(session, channels=ready, now=now, limit=limit, codes=codes)
    handled = len(claimed)
    claimed, outcomes = _open_codes(claimed, outlets.secret)
    claimed, refused = _budgeted(engine, claimed, outlets.pepper, now)
    outcomes.extend(refused)
    for channel, outlet in outlets.by_channel.items():
        batch = [message for message in claimed if message.channel == channel]
        if batch:
            outcomes.extend(outlet.deliver(batch, until))
    fresh = [r for outlet in outlets.by_channel.values() for r in outlet.receipts()]
    if outcomes or fresh or outlets.unmatched:
        clock = time.monotonic()
        came = {r.receipt_id: t for t, r in outlets.unmatched} | {r.receipt_id: clock for r in fresh}
        with unit_of_work(engine) as session:
            record(session, outcomes, now=now)
            unknown = apply_receipts(session, [r for _, r in outlets.unmatched] + fresh, now=now)
        outlets.unmatched = [
            (came[r.receipt_id], r) for r in unknown if clock - came[r.receipt_id] < KEEP_UNMATCHED_RECEIPTS
        ]
    return handled
