"""Expensive renderings (a receipt PDF, a booking QR code, a draw record) bounded per client address and per
process, so that one client cannot take a process from everyone else.

A receipt PDF costs about 200 ms of CPU, a booking QR code about as much, and building an older draw's record
seconds; each also holds a worker thread, an admission place and, on SQLite, the write lock while it works.
Unbounded, forty parallel receipt downloads from one address queued every other request behind them. So the
routes that render (``RENDERING_ROUTES``, on both faces) hold a slot from the moment they are asked until
their answer starts (a long record download keeps no slot while its body streams):

- at most ``per_address`` at once for one client address (as the rate limits see it: ``X-Forwarded-For``
  only from a trusted proxy): one more is refused at once, ``429 rate_limited`` with ``Retry-After`` (a
  person prints one receipt at a time; a client opening forty at once is served two by two);
- at most ``per_process`` at once in the process: one more waits for a slot, first come first served, up
  to ``wait_seconds``, then is refused, ``503 busy_retry`` with ``Retry-After`` (nothing was done). An
  address's share is below the process's, so one client never holds every slot.

The check runs before admission, so a rendering that waits for its slot holds no admission place, thread or
database connection, and a refused one costs nothing. QR codes drawn inline on pages (the status page) are
drawn once per booking and kept (``app.domain.proofs.qr``).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter, deque
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.domain.errors import BusyRetry, FairslotError, RateLimited
from app.http.middleware import send_error

#: Retry-After of a refusal: a rendering takes a fraction of a second.
RETRY_AFTER_SECONDS = 1

#: (method, path) of the routes that render: receipt PDFs (API, status page, partner and counter screens),
#: the booking QR code, and draw records (built from their rows on an older draw's first download).
RENDERING_ROUTES = tuple(
    (method, re.compile(pattern))
    for method, pattern in (
        ("GET", r"/api/v1/requests/[^/]+/receipt\.pdf"),
        ("GET", r"/api/v1/requests/[^/]+/booking/qr\.svg"),
        ("GET", r"/api/v1/draws/[^/]+"),
        ("POST", r"/status/receipt"),
        ("GET", r"/partner/requests/[^/]+/receipt\.pdf"),
        ("GET", r"/counter/requests/[^/]+/receipt\.pdf"),
    )
)


def renders(method: str, path: str) -> bool:
    """Whether a request asks for an expensive rendering."""
    return any(method == m and pattern.fullmatch(path) for m, pattern in RENDERING_ROUTES)


@dataclass
class Gate:
    """The rendering slots of one process (one per event loop: a test client may start several)."""

    per_process: int = 4
    per_address: int = 2
    wait_seconds: float = 2.0
    _by_address: Counter[str] = field(default_factory=Counter, init=False, repr=False)
    _busy: int = field(default=0, init=False, repr=False)
    _waiting: deque[asyncio.Future[None]] = field(default_factory=deque, init=False, repr=False)

    def enter(self, address: str) -> None:
        """Count a rendering for ``address``; ``429`` past its share."""
        if self._by_address[address] >= self.per_address:
            metrics.RATE_LIMITED.labels(scope="renderings").inc()
            raise RateLimited(
                f"at most {self.per_address} documents are drawn at once for one address; retry after "
                f"{RETRY_AFTER_SECONDS} s",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self._by_address[address] += 1

    def leave(self, address: str) -> None:
        """The rendering of ``address`` is done (or refused)."""
        self._by_address[address] -= 1
        if self._by_address[address] <= 0:
            del self._by_address[address]

    async def acquire(self) -> None:
        """A process slot, first come first served within ``wait_seconds``; ``503 busy_retry`` otherwise."""
        if self._busy < self.per_process and not self._waiting:
            self._busy += 1
            return
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        with anyio.move_on_after(self.wait_seconds):
            await turn  # set by release(), which hands its slot over
            return
        if turn.done() and not turn.cancelled():  # handed over just as the wait ended: keep it
            return
        self._waiting.remove(turn)
        turn.cancel()
        raise BusyRetry(
            "the service is drawing as many documents as it can; nothing was done, retry",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    def release(self) -> None:
        """Give the slot to the first waiter, or free it."""
        while self._waiting:
            turn = self._waiting.popleft()
            if not turn.done():
                turn.set_result(None)
                return
        self._busy -= 1


class RenderingGateMiddleware:
    """Holds a rendering slot for the routes that render, from their start until their answer starts."""

    def __init__(self, app: ASGIApp, per_process: int, per_address: int, wait_seconds: float = 2.0) -> None:
        self.app = app
        self.settings = (per_process, per_address, wait_seconds)
        self._gates: dict[asyncio.AbstractEventLoop, Gate] = {}

    def gate(self) -> Gate:
        """This event loop's gate."""
        loop = asyncio.get_running_loop()
        found = self._gates.get(loop)
        if found is None:
            per_process, per_address, wait_seconds = self.settings
            found = self._gates[loop] = Gate(per_process, per_address, wait_seconds)
            for old in [other for other in self._gates if other.is_closed()]:
                del self._gates[old]
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not renders(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        gate = self.gate()
        address = scope["client"][0] if scope.get("client") else "unknown"
        try:
            gate.enter(address)
        except FairslotError as refused:
            await send_error(send, refused)
            return
        try:
            try:
                await gate.acquire()
            except FairslotError as refused:
                await send_error(send, refused)
                return
            held = True

            async def releasing(message: Message) -> None:
                nonlocal held
                if held and message["type"] == "http.response.start":
                    held = False  # the answer is made: a long body streams without a slot
                    gate.release()
                await send(message)

            try:
                await self.app(scope, receive, releasing)
            finally:
                if held:
                    gate.release()
        finally:
            gate.leave(address)
