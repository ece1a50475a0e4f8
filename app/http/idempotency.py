"""``Idempotency-Key`` on POSTs: the same key and body replay the first answer.

Scope: the route (method and path) and the credential (a digest of the Authorization header; anonymous
callers share one scope). The key is claimed before the handler runs (a unique row), so two concurrent
requests with one key cannot both act: the second gets ``409 idempotency_in_progress``. The same key with
another body is a ``422 idempotency_key_reused``. Answers of 5xx and 429 are not kept, so a retry may
succeed. Keys are kept ``FAIRSLOT_IDEMPOTENCY_TTL_HOURS`` (24 by default).

A kept answer may hold a secret shown once, so it is stored encrypted (``app.services.idempotency_store``
holds the rows, the claim and the cipher; this module is the ASGI part). A staff key revoked since cannot
replay its earlier answers.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidIdempotencyKey, Unauthorized
from app.http.middleware import send_error
from app.runtime import Runtime
from app.services import idempotency_store as store

HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")


class IdempotencyMiddleware:
    """Applies ``store.claim`` and ``store.settle`` around POST handlers that carry an Idempotency-Key."""

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
        credential = headers.get(b"authorization", b"anonymous")
        scope_id = hashlib.sha256(scope["path"].encode() + b"\n" + credential).hexdigest()
        body_hash = hashlib.sha256(body).hexdigest()
        ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
        now = runtime.clock.now()
        state = await anyio.to_thread.run_sync(
            store.claim, runtime.engine, scope_id, key, body_hash, now, ttl
        )
        if state.state == "reused":
            await send_error(send, IdempotencyKeyReused("this key was used with another body"))
            return
        if state.state == "in_progress":
            await send_error(send, IdempotencyInProgress("a request with this key is running"))
            return
        if state.state == "replay":
            if await anyio.to_thread.run_sync(store.staff_key_revoked, runtime.engine, credential):
                await send_error(send, Unauthorized("unknown or revoked staff key"))
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

        captured: dict[str, Any] = {"status": 500, "content_type": "", "body": bytearray()}
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name.lower() == b"content-type":
                        captured["content_type"] = value.decode("latin-1")
            elif message["type"] == "http.response.body":
                captured["body"].extend(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, replay_body, capture)
        finally:
            await anyio.to_thread.run_sync(
                store.settle,
                runtime.engine,
                scope_id,
                key,
                captured["status"],
                captured["content_type"],
                bytes(captured["body"]),
                runtime.secret,
            )


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
