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
"""

from __future__ import annotations

import asyncio

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from app.domain.errors import BusyRetry
from app.http.middleware import send_error

#: Worker threads beyond the admitted requests: background work of the event loop that needs a thread.
SPARE_THREADS = 8


class AdmissionMiddleware:
    """Admits at most ``limit`` HTTP requests at once; a request that waits past ``wait_seconds`` answers
    ``503 busy_retry`` with ``Retry-After: 1``."""

    def __init__(self, app: ASGIApp, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        self._limiter: anyio.CapacityLimiter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def limiter(self) -> anyio.CapacityLimiter:
        """This event loop's limiter; the first call on a loop also raises its worker threads."""
        loop = asyncio.get_running_loop()
        if self._limiter is None or self._loop is not loop:  # a test client may start a new loop
            self._limiter, self._loop = anyio.CapacityLimiter(self.limit), loop
            threads = anyio.to_thread.current_default_thread_limiter()
            threads.total_tokens = max(threads.total_tokens, self.limit + SPARE_THREADS)
        return self._limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limiter = self.limiter()
        admitted = False
        with anyio.move_on_after(self.wait_seconds):
            await limiter.acquire()
            admitted = True
        if not admitted:
            busy = BusyRetry(
                "the service is answering as many requests as it can; nothing changed, retry",
                headers={"Retry-After": "1"},
            )
            await send_error(send, busy)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            limiter.release()
