"""``Idempotency-Key`` on POSTs: the same key and body replay the first answer.

Scope: the route (method and path) and the credential (a digest of the Authorization header; anonymous
callers share one scope). The key is claimed before the handler runs (a unique row), so two concurrent
requests with one key cannot both act: the second gets ``409 idempotency_in_progress``. The same key with
another body is a ``422 idempotency_key_reused``. Answers of 5xx and 429 are not kept, so a retry may
succeed. Keys are kept ``FAIRSLOT_IDEMPOTENCY_TTL_HOURS`` (24 by default).

A kept answer may hold a secret shown once (an access code, a new staff key), so it is stored encrypted
(AES-GCM) under a key derived from the server secret, the scope and the Idempotency-Key: the database
alone never reveals it. A staff key revoked since cannot replay its earlier answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db.models import IdempotencyRecord
from app.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, Unauthorized
from app.http.middleware import send_error, send_problem
from app.runtime import Runtime
from app.services import staff_keys

HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_IN_PROGRESS = 0
_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    """The state of a key: ``new`` (ours to run), ``replay``, ``reused`` or ``in_progress``."""

    state: str
    record: Any = None


def claim(engine: Engine, scope: str, key: str, body_hash: str, now: datetime, ttl: timedelta) -> Claim:
    """Claim ``key`` in ``scope`` for a body, or tell what the first request with it did."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with engine.begin() as conn:
        conn.execute(
            delete(_TABLE).where(
                _TABLE.c.scope == scope, _TABLE.c.key == key, _TABLE.c.created_at < now - ttl
            )
        )
        inserted = conn.execute(
            insert(_TABLE)
            .values(
                scope=scope,
                key=key,
                body_hash=body_hash,
                status_code=_IN_PROGRESS,
                content_type="",
                response_body="",
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(_TABLE.c.id)
        ).first()
        if inserted is not None:
            return Claim("new")
        row = conn.execute(select(_TABLE).where(_TABLE.c.scope == scope, _TABLE.c.key == key)).first()
    if row is None:  # expired and removed between the two statements: claim again
        return claim(engine, scope, key, body_hash, now, ttl)
    if row.body_hash != body_hash:
        return Claim("reused")
    if row.status_code == _IN_PROGRESS:
        return Claim("in_progress")
    return Claim("replay", row)


def _cipher(secret: bytes, scope: str, key: str) -> AESGCM:
    return AESGCM(hmac.new(secret, f"idempotency\n{scope}\n{key}".encode(), hashlib.sha256).digest())


def seal_body(secret: bytes, scope: str, key: str, body: bytes) -> str:
    """Encrypt a kept answer (nonce and ciphertext, base64)."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _cipher(secret, scope, key).encrypt(nonce, body, None)).decode("ascii")


def open_body(secret: bytes, scope: str, key: str, stored: str) -> bytes:
    """Decrypt a kept answer."""
    raw = base64.b64decode(stored)
    return _cipher(secret, scope, key).decrypt(raw[:12], raw[12:], None)


def staff_key_revoked(engine: Engine, authorization: bytes) -> bool:
    """Whether the request's credential is a staff key that no longer works."""
    scheme, _, credential = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not credential.strip().startswith(staff_keys.KEY_PREFIX):
        return False
    with Session(engine) as session:
        try:
            staff_keys.authenticate(session, credential.strip())
        except Unauthorized:
            return True
    return False


def settle(
    engine: Engine, scope: str, key: str, status: int, content_type: str, body: bytes, secret: bytes
) -> None:
    """Store the answer of a claimed key (encrypted), or release the claim when it must not be replayed."""
    with engine.begin() as conn:
        where = (_TABLE.c.scope == scope) & (_TABLE.c.key == key)
        if status >= 500 or status == 429:
            conn.execute(delete(_TABLE).where(where))
        else:
            conn.execute(
                update(_TABLE)
                .where(where)
                .values(
                    status_code=status,
                    content_type=content_type,
                    response_body=seal_body(secret, scope, key, body),
                )
            )


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
            await send_problem(
                send,
                422,
                "invalid_idempotency_key",
                "Invalid Idempotency-Key",
                "use 1 to 255 printable ASCII characters",
            )
            return
        runtime: Runtime = scope["app"].state.runtime
        body = await _read_body(receive)
        credential = headers.get(b"authorization", b"anonymous")
        scope_id = hashlib.sha256(scope["path"].encode() + b"\n" + credential).hexdigest()
        body_hash = hashlib.sha256(body).hexdigest()
        ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
        now = runtime.clock.now()
        state = await anyio.to_thread.run_sync(claim, runtime.engine, scope_id, key, body_hash, now, ttl)
        if state.state == "reused":
            await send_error(send, IdempotencyKeyReused("this key was used with another body"))
            return
        if state.state == "in_progress":
            await send_error(send, IdempotencyInProgress("a request with this key is running"))
            return
        if state.state == "replay":
            if await anyio.to_thread.run_sync(staff_key_revoked, runtime.engine, credential):
                await send_error(send, Unauthorized("unknown or revoked staff key"))
                return
            record = state.record
            payload = open_body(runtime.secret, scope_id, key, record.response_body)
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
                settle,
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
