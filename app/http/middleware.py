"""ASGI middleware: body size limit and security headers (pure ASGI: no body buffering, no threads)."""

from __future__ import annotations

import json
from typing import Any

import anyio
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import FairslotError, PayloadTooLarge, RequestTimeout
from app.http.problems import error_document

_SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), geolocation=(), microphone=()"),
    (
        b"content-security-policy",
        b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
]


class BodyTooLarge(HTTPException):
    """Raised while reading a body past its limit; FastAPI passes HTTP exceptions through body parsing."""

    code, title = PayloadTooLarge.code, PayloadTooLarge.title

    def __init__(self, detail: str) -> None:
        super().__init__(status_code=413, detail=detail)


async def send_document(
    send: Send, status: int, document: dict[str, Any], headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Send a problem document (from ``app.http.problems``) as the whole answer."""
    body = json.dumps(document).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


#: Routes whose bodies may be larger: a staff release lists up to 5,000 slots (about 250 KiB).
LARGER_BODIES = {"/api/v1/releases": 512 * 1024}


async def send_error(
    send: Send, error: FairslotError, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with a domain error's problem document straight from ASGI (the same document as the API's)."""
    extra = [(k.lower().encode(), v.encode()) for k, v in (error.extra.get("headers") or {}).items()]
    await send_document(send, error.status, error_document(error), [*extra, *(headers or [])])


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` (or a route's own limit) with a 413, by Content-Length or while
    streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.default_max = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = LARGER_BODIES.get(scope["path"], self.default_max)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await send_error(send, PayloadTooLarge(f"bodies are limited to {limit} bytes"))
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(f"bodies are limited to {limit} bytes")
            return message

        started = False

        async def tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, tracking)
        except BodyTooLarge as exc:
            if started:
                raise
            await send_error(send, PayloadTooLarge(exc.detail))


class SecurityHeadersMiddleware:
    """Adds security headers to every answer, HTML and JSON alike."""

    def __init__(self, app: ASGIApp, hsts: bool = False) -> None:
        self.app = app
        self.extra: list[tuple[bytes, bytes]] = list(_SECURITY_HEADERS)
        if hsts:
            self.extra.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                headers: list[Any] = list(message.get("headers", []))
                headers.extend(h for h in self.extra if h[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


DEADLINE_SCOPE_KEY = "fairslot.deadline"


class Deadline:
    """A request's deadline, which work that must not be cut halfway can hold off for a bounded while.

    Cancelling a task does not undo what it handed to others: a submission already in the intake writer's
    transaction, or an answer being stored for an ``Idempotency-Key``, would be kept while the client got a
    503. Such work calls :meth:`hold` first: when the deadline has not passed, it moves it so that the work
    finishes and its true answer is sent; when it has passed, ``hold`` says no and the work is not started.
    Each hold is bounded (the work bounds itself: database lock and statement timeouts), so a request can
    never outlive its deadline by more than the longest hold.
    """

    def __init__(self, scope: anyio.CancelScope) -> None:
        self._scope = scope

    @property
    def passed(self) -> bool:
        """Whether the request was already abandoned."""
        return self._scope.cancel_called

    def hold(self, seconds: float) -> bool:
        """Keep the request alive at least ``seconds`` more; False (and nothing done) once it was abandoned."""
        if self._scope.cancel_called:
            return False
        self._scope.deadline = max(self._scope.deadline, anyio.current_time() + seconds)
        return True


def deadline_of(scope: Scope) -> Deadline | None:
    """The deadline the timeout middleware set for this request, if any."""
    deadline: Deadline | None = scope.get(DEADLINE_SCOPE_KEY)
    return deadline


class TimeoutMiddleware:
    """Answers 503 when a request takes longer than ``seconds`` before its answer starts (the work is then
    abandoned, except what it holds through :class:`Deadline`). Once the answer has started, its body has
    ``body_seconds`` to be sent: a large draw record is never cut halfway by the request timeout."""

    def __init__(self, app: ASGIApp, seconds: float, body_seconds: float = 600.0) -> None:
        self.app = app
        self.seconds = seconds
        self.body_seconds = body_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        with anyio.move_on_after(self.seconds) as cancel:

            async def tracking(message: Message) -> None:
                nonlocal started
                if not started and cancel.cancel_called:
                    return  # abandoned: a late answer (its work was not kept) gives way to the 503 below
                if message["type"] == "http.response.start" and not started:
                    started = True
                    cancel.deadline = max(cancel.deadline, anyio.current_time() + self.body_seconds)
                await send(message)

            scope[DEADLINE_SCOPE_KEY] = Deadline(cancel)
            await self.app(scope, receive, tracking)
        if not started and (cancel.cancelled_caught or cancel.cancel_called):
            await send_error(send, RequestTimeout(f"the request took over {self.seconds:g} s"))
