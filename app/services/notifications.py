"""Notifications through an outbox: written in the transaction of the change, sent once by the scheduler.

Each message is claimed with ``FOR UPDATE SKIP LOCKED``, so several workers never send the same one; a
failed send is retried with exponential backoff up to ``MAX_ATTEMPTS``. Delivery is at-least-once at the
SMTP boundary (a worker killed between the server's acceptance and its commit sends again); everything
short of that is exactly once. Without ``FAIRSLOT_SMTP_URL`` the messages are written to the log.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Mapping
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote, urlparse

from sqlmodel import Session, col, select

from app.db.bulk import bulk_insert
from app.db.models import AppointmentRequest, OutboxMessage
from app.domain.redaction import without_recipients
from app.services.mail_templates import render

log = logging.getLogger("fairslot.notifications")
MAX_ATTEMPTS = 8
BATCH = 50


def enqueue(session: Session, request: AppointmentRequest, kind: str, now: datetime, **context: Any) -> None:
    """Queue a message about ``request`` in the current transaction."""
    session.add(
        OutboxMessage(
            request_id=request.id,
            kind=kind,
            language=request.language,
            recipient=request.email,
            context={"entry": request.entry, "request_id": request.id, **_jsonable(context)},
            status="pending" if request.email else "no_recipient",
            next_attempt_at=now,
            created_at=now,
        )
    )


def enqueue_many(session: Session, messages: list[dict[str, Any]], now: datetime) -> None:
    """Queue many messages at once (a draw's offers); each dict holds request_id, kind, language,
    recipient and context."""
    if not messages:
        return
    columns = (
        "request_id",
        "kind",
        "language",
        "recipient",
        "context",
        "status",
        "attempts",
        "next_attempt_at",
        "created_at",
    )
    rows = [
        (
            m["request_id"],
            m["kind"],
            m["language"],
            m["recipient"],
            _jsonable(m["context"]),
            "pending" if m["recipient"] else "no_recipient",
            0,
            now,
            now,
        )
        for m in messages
    ]
    bulk_insert(session, OutboxMessage.__table__, columns, rows)  # type: ignore[attr-defined]


def _jsonable(context: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in context.items()}


def backoff(attempts: int) -> timedelta:
    """Delay before retry number ``attempts`` (30 s, 1 min, 2 min… capped at 1 h)."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


class SmtpSender:
    """Sends through the SMTP server of ``FAIRSLOT_SMTP_URL`` (``smtp://user:pass@host:port``)."""

    def __init__(self, url: str, mail_from: str) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or (465 if parsed.scheme == "smtps" else 25)
        self.tls = parsed.scheme == "smtps"
        self.starttls = parsed.scheme == "smtp+starttls"
        self.user = unquote(parsed.username) if parsed.username else None
        self.password = unquote(parsed.password) if parsed.password else None
        self.mail_from = mail_from

    def send(self, message: EmailMessage) -> None:
        """Deliver one message."""
        smtp_class = smtplib.SMTP_SSL if self.tls else smtplib.SMTP
        with smtp_class(self.host, self.port, timeout=15) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


class LogSender:
    """Writes messages to the log (no SMTP configured)."""

    def send(self, message: EmailMessage) -> None:
        """Log one message."""
        log.info("mail to %s: %s\n%s", message["To"], message["Subject"], message.get_content())


def send_due(session: Session, *, sender: SmtpSender | LogSender, mail_from: str, now: datetime) -> int:
    """Claim and send a batch of due messages; returns how many were handled."""
    messages = session.exec(
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
        .order_by(col(OutboxMessage.id))
        .limit(BATCH)
        .with_for_update(skip_locked=True, key_share=True)
    ).all()
    for message in messages:
        subject, body = render(message.kind, message.language, message.context)
        email = EmailMessage()
        email["From"] = mail_from
        email["To"] = message.recipient or ""
        email["Subject"] = subject
        email.set_content(body)
        email["Content-Language"] = message.language  # after set_content, which resets Content-* headers
        message.attempts += 1
        try:
            sender.send(email)
        except (OSError, smtplib.SMTPException) as exc:
            message.last_error = without_recipients(f"{type(exc).__name__}: {exc}")[:500]
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            else:
                message.next_attempt_at = now + backoff(message.attempts)
            log.warning("mail %s attempt %s failed: %s", message.id, message.attempts, message.last_error)
        else:
            message.status = "sent"
            message.sent_at = now
        session.add(message)
        session.flush()
    return len(messages)


def sender_for(smtp_url: str | None, mail_from: str) -> SmtpSender | LogSender:
    """The SMTP sender when configured, else the log."""
    return SmtpSender(smtp_url, mail_from) if smtp_url else LogSender()
