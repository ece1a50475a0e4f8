"""``Idempotency-Key`` on POSTs: the same key and body replay the first answer.

Scope: the route (method and path) and the authenticated principal: a staff key's row id (so ``bearer K``
and ``Bearer K`` are one caller), a digest of any other bearer credential (an access code), and for an
anonymous caller its client address as the rate limits see it (so two applicants never share answers).
The key is claimed before the handler runs (a unique row), so two concurrent requests with one key cannot
both act: the second gets ``409 idempotency_in_progress``. The same key with another body is a ``422
idempotency_key_reused``. Answers of 5xx and 429 are not kept, so a retry runs again.

No key is ever stuck: the answer is stored *before* it is sent (so any retry that follows an answer replays
it), the storing runs shielded from the request's timeout, and a claim whose request died with its process
is taken over after its lease (twice the request timeout and its longest hold). Keys are kept
``FAIRSLOT_IDEMPOTENCY_TTL_HOURS`` (24 by default); the scheduler deletes older ones, so no shown-once
secret outlives that time. A failing database answers the designed 503 (``busy_retry`` or
``unavailable``), never a 500; a lost connection is retried once.

A kept answer may hold a secret shown once, so it is stored encrypted (``app.services.idempotency_store``
holds the rows, the claim, the cipher and the sweep; this module is the ASGI part). A credential that stopped
working since cannot replay its earlier answers: a revoked staff key gets its 401, an access code replaced by a
recovery the 404 of any wrong code.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import errors as dberrors
from app.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidIdempotencyKey
from app.http.middleware import deadline_of, send_error
from app.runtime import Runtime
from app.services import idempotency_store as store

log = logging.getLogger("fairslot.idempotency")
T = TypeVar("T")
HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


def _with_one_retry(function: Callable[..., T], *args: Any) -> T:
    """Run a short self-contained transaction, once more on a fresh connection when the first one was lost
    (PostgreSQL restarted, a backend terminated); other database errors are the caller's to answer."""
    try:
        return function(*args)
    except Exception as exc:
        if not dberrors.is_disconnect(exc):
            raise
        log.warning("idempotency store lost its connection; retrying once")
        return function(*args)


#: How long storing an answer may hold off the request's deadline (a short write, bounded by the database).
SETTLE_HOLD_SECONDS = 20.0


class IdempotencyMiddleware:
    """Applies :func:`claim` and :func:`settle` around POST handlers that carry an Idempotency-Key."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = dict(scope.get("headers", [])) if scope["type"] == "http" else {}
        if scope["type"] != "http" or scope["method"] != "POST" or HEADER not in headers:
            await self.app(scope, receive, send)
            return
        key = headers[HEADER].decode("latin-1").strip()
        if not _VALID_KEY.fullmatch(key):
            await send_error(send, InvalidIdempotencyKey("use 1 to 255 printable ASCII characters"))
            return
        runtime: Runtime = scope["app"].state.runtime
        body = await _read_body(receive)
        authorization = headers.get(b"authorization")
        address = scope["client"][0] if scope.get("client") else "unknown"
        ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
        lease = store.claim_lease(runtime.settings.request_timeout_seconds)
        body_hash = hashlib.sha256(body).hexdigest()
        now = runtime.clock.now()
        try:
            principal = await anyio.to_thread.run_sync(
                _with_one_retry, store.principal_scope, runtime.engine, authorization, address
            )
            scope_id = hashlib.sha256(f"{scope['path']}\n{principal}".encode()).hexdigest()
            wait = runtime.settings.request_timeout_seconds / 2
            state = await anyio.to_thread.run_sync(
                _with_one_retry, store.claim, runtime.engine, scope_id, key, body_hash, now, ttl, lease, wait
            )
        except Exception as exc:
            error = dberrors.as_problem(exc)
            if error is None:
                raise
            log.warning("idempotency claim failed: %s", type(exc).__name__)
            await send_error(send, error)
            return
        if state.state == "reused":
            await send_error(send, IdempotencyKeyReused("this key was used with another body"))
            return
        if state.state == "in_progress":
            await send_error(
                send,
                IdempotencyInProgress("a request with this key is running", headers={"Retry-After": "1"}),
            )
            return
        if state.state == "replay":
            refusal = await anyio.to_thread.run_sync(
                store.replay_refusal, runtime.engine, authorization, scope["path"]
            )
            if refusal is not None:
                await send_error(send, refusal)
                return
            record = state.record
            payload = store.open_body(runtime.secret, scope_id, key, record.response_body)
            await send(
                {
                    "type": "http.response.start",
                    "status": record.status_code,
                    "headers": [
                        (b"content-type", record.content_type.encode()),
                        (b"content-length", str(len(payload)).encode()),
                        (b"idempotent-replayed", b"true"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": payload})
            return

        # The answer is held back until it is stored: a retry that follows the answer then replays it.
        start: Message | None = None
        chunks: list[bytes] = []
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        deadline = deadline_of(scope)
        try:
            await self.app(scope, replay_body, capture)
        finally:
            # Shielded: a request cancelled by its timeout still releases its claim (nothing is stuck).
            status = start["status"] if start is not None else 500
            with anyio.CancelScope(shield=True):
                if deadline is not None and status < 500 and not deadline.hold(SETTLE_HOLD_SECONDS):
                    status = 500  # abandoned meanwhile: the client gets the timeout, the claim is released
                stored = await _settle_safely(runtime, scope_id, key, status, start, b"".join(chunks))
        if start is None:
            return
        if not stored and status < 500 and status != 429:
            log.warning("an answer could not be kept for its Idempotency-Key; a retry will run again")
        await send(start)
        await send({"type": "http.response.body", "body": b"".join(chunks)})


async def _settle_safely(
    runtime: Runtime, scope_id: str, key: str, status: int, start: Message | None, body: bytes
) -> bool:
    content_type = ""
    for name, value in (start or {}).get("headers", []):
        if name.lower() == b"content-type":
            content_type = value.decode("latin-1")
    try:
        await anyio.to_thread.run_sync(
            _with_one_retry,
            store.settle,
            runtime.engine,
            scope_id,
            key,
            status,
            content_type,
            body,
            runtime.secret,
        )
    except Exception:
        log.exception("could not store the answer of an Idempotency-Key")
        try:  # release the claim rather than leave it in progress until its lease ends
            await anyio.to_thread.run_sync(
                store.settle, runtime.engine, scope_id, key, 500, "", b"", runtime.secret
            )
        except Exception:
            log.warning("could not release an Idempotency-Key claim either; its lease will")
        return False
    return True


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
