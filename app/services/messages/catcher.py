"""The development message catcher: what the log outlets "sent", newest first, for ``/dev/messages``.

Without an SMTP server or an SMSC, messages go to the log; a newcomer who applies with a phone needs the
one-time code to verify, and an offer's text to accept it. When the catcher is on (development, or
``FAIRSLOT_DEV_MESSAGES``; never in production) the log outlets also keep each message they send here: a
bounded ring in the memory of the process that sends (the one running the scheduler). Nothing is written to
the database, so a one-time code still travels sealed in the outbox and is wiped from it once sent; the
copy here is pushed out by newer messages and dies with the process.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime

#: How many messages the ring keeps (the oldest go first).
CAPACITY = 200


@dataclass(frozen=True)
class Caught:
    """One message as its log outlet sent it."""

    at: datetime
    channel: str  # email | sms
    kind: str
    language: str
    recipient: str
    subject: str | None  # e-mail only
    body: str
    request_id: str
    code: str | None = None  # a one-time code, shown apart so that it is found at a glance


class Catcher:
    """A thread-safe ring of the messages sent (the scheduler's thread writes, pages read)."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._ring: deque[Caught] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def keep(self, message: Caught) -> None:
        """Remember ``message`` (pushing the oldest out when full)."""
        with self._lock:
            self._ring.append(message)

    def newest_first(self) -> list[Caught]:
        """The messages kept, the last sent first."""
        with self._lock:
            return list(reversed(self._ring))

    def clear(self) -> None:
        """Forget every message."""
        with self._lock:
            self._ring.clear()


#: This process's catcher: its log outlets write here, its ``/dev/messages`` page reads it.
CAUGHT = Catcher()


def sent_messages() -> list[Caught]:
    """What this process's log outlets sent, newest first."""
    return CAUGHT.newest_first()
