"""Admission: how many requests the process works on at once, so that worker threads and database
connections never run out under one another.

Why a bound is needed: a synchronous route runs in a worker thread and holds its unit of work's connection
(and the row locks it took) until FastAPI has also serialised the answer, which needs a worker thread
again. Unbounded, a burst fills every worker thread with requests waiting for a connection or a lock
while the requests that hold them wait for a thread to finish: nothing moves until the pool's 30 s
timeout (measured: fifty threads against one office stalled for 28 s, then answered 503).

So at most ``limit`` requests are admitted at once; the others queue (first come, first served) for up
to ``wait_seconds`` and then answer ``503 busy_retry`` (nothing was done; retry). The worker threads
are raised to the admitted requests plus :data:`SPARE_THREADS` (the intake writer, file reads), and the
database pool is sized to match (``Settings.database_pool_capacity``): an admitted request always finds
both a thread and a connection.

**Fair admission.** First come, first served lets whoever sends most fill the queue: under saturation a
source with many requests in flight would make everyone else wait behind its backlog. So the queue is
served by source instead (:class:`FairQueue`): a source is an address block (the /24 of an IPv4 address,
the /56 of an IPv6 one, as the rate limiter's block budget counts them), and when a place frees, it goes
to the waiting request whose block has the fewest requests in flight, first come first served among equals.
A request from a block with nothing in flight therefore waits behind no flood, and a block may keep at most
``limit`` requests waiting: beyond that it is answered ``503 busy_retry`` at once rather than taking up the
connections others need. Without saturation nothing changes: a request finds a free place and goes in.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from app.domain.errors import BusyRetry
from app.http.middleware import send_error
from app.http.ratelimit import address_block

#: Worker threads beyond the admitted requests: background work of the event loop that needs a thread.
SPARE_THREADS = 8


@dataclass
class Ticket:
    """One request's place in the queue: its source block and its arrival order."""

    block: str
    order: int
    admitted: bool = False
    #: Set by the asynchronous side: resolved when the ticket is admitted.
    waiter: asyncio.Future[None] | None = field(default=None, repr=False)


class QueueFull(Exception):
    """The block already has as many requests waiting as it may."""


class FairQueue:
    """At most ``limit`` admitted at once; waiting tickets admitted by least-busy block, then arrival.

    Synchronous bookkeeping only (no event loop), so that its rule can be checked step by step.
    """

    def __init__(self, limit: int, waiting_per_block: int | None = None) -> None:
        self.limit = limit
        self.waiting_per_block = limit if waiting_per_block is None else waiting_per_block
        self.admitted = 0
        self.in_flight: dict[str, int] = {}
        self.waiting: dict[str, deque[Ticket]] = {}
        self._orders = itertools.count()

    def arrive(self, block: str) -> Ticket:
        """A new request: admitted at once when there is room and nobody waits, queued otherwise."""
        ticket = Ticket(block, next(self._orders))
        if self.admitted < self.limit and not self.waiting:
            self._admit(ticket)
            return ticket
        queue = self.waiting.setdefault(block, deque())
        if len(queue) >= self.waiting_per_block:
            if not queue:
                del self.waiting[block]
            raise QueueFull(block)
        queue.append(ticket)
        return ticket

    def leave(self, ticket: Ticket) -> list[Ticket]:
        """An admitted request finished, or a waiting one gave up; the tickets admitted in its place."""
        if ticket.admitted:
            ticket.admitted = False
            self.admitted -= 1
            left = self.in_flight[ticket.block] - 1
            if left:
                self.in_flight[ticket.block] = left
            else:
                del self.in_flight[ticket.block]
        else:
            queue = self.waiting.get(ticket.block)
            if queue is not None and ticket in queue:
                queue.remove(ticket)
                if not queue:
                    del self.waiting[ticket.block]
        return self._admit_waiting()

    def next_block(self) -> str | None:
        """The block whose first waiting ticket goes in next: fewest in flight, then earliest arrival."""
        if not self.waiting:
            return None
        return min(self.waiting, key=lambda b: (self.in_flight.get(b, 0), self.waiting[b][0].order))

    def _admit(self, ticket: Ticket) -> None:
        ticket.admitted = True
        self.admitted += 1
        self.in_flight[ticket.block] = self.in_flight.get(ticket.block, 0) + 1

    def _admit_waiting(self) -> list[Ticket]:
        admitted = []
        while self.admitted < self.limit:
            block = self.next_block()
            if block is None:
                break
            queue = self.waiting[block]
            ticket = queue.popleft()
            if not queue:
                del self.waiting[block]
            self._admit(ticket)
            admitted.append(ticket)
        return admitted


class AdmissionMiddleware:
    """Admits at most ``limit`` HTTP requests at once, fairly by source block (:class:`FairQueue`); a
    request that waits past ``wait_seconds``, or whose block already has ``limit`` waiting, answers
    ``503 busy_retry`` with ``Retry-After: 1``."""

    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._queue: FairQueue | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def queue(self) -> FairQueue:
        """This event loop's queue; the first call on a loop also raises its worker threads."""
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:  # a test client may start a new loop
            self._queue, self._loop = FairQueue(self.limit), loop
            threads = anyio.to_thread.current_default_thread_limiter()
            threads.total_tokens = max(threads.total_tokens, self.limit + SPARE_THREADS)
        return self._queue

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        queue = self.queue()
        client = scope.get("client")
        ticket = await self._enter(queue, address_block(client[0]) if client else "unknown")
        if ticket is None:
            busy = BusyRetry(
                "the service is answering as many requests as it can; nothing changed, retry",
                headers={"Retry-After": "1"},
            )
            await send_error(send, busy)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            _wake(queue.leave(ticket))

    async def _enter(self, queue: FairQueue, block: str) -> Ticket | None:
        """The admitted ticket, or None when the block's waiting line is full or the wait ran out."""
        try:
            ticket = queue.arrive(block)
        except QueueFull:
            return None
        if ticket.admitted:
            return ticket
        ticket.waiter = asyncio.get_running_loop().create_future()
        try:
            with anyio.move_on_after(self.wait_seconds):
                await ticket.waiter
        except BaseException:  # cancelled from outside (client gone, request timeout): out of the line
            _wake(queue.leave(ticket))
            raise
        if ticket.admitted:  # admitted, even if at the very moment the wait ran out: the place is used
            return ticket
        _wake(queue.leave(ticket))
        return None


def _wake(tickets: list[Ticket]) -> None:
    for ticket in tickets:
        if ticket.waiter is not None and not ticket.waiter.done():
            ticket.waiter.set_result(None)
