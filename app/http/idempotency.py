"""``Idempotency-Key`` on POSTs: the same key and body replay the first answer.

Scope: the route (method and path) and the authenticated principal: a staff key's row id (so ``bearer K``
and ``Bearer K`` are one caller), a digest of any other bearer credential (an access code), and for an
anonymous caller its client address as the rate limits see it (so two applicants never share answers).
The key is claimed before the handler runs (a unique row), so two concurrent requests with one key cannot
both act: the second gets ``409 idempotency_in_progress``. The same key with another body is a ``422
idempotency_key_reused``. Answers of 5xx and 429 are not kept, so a retry runs again.

No key is ever stuck: the answer is stored *before* it is sent (so any retry that follows an answer replays
it), the storing runs shielded from the request's timeout, and a claim whose request died with its process
is taken over after :func:`claim_lease` (twice the request timeout and its longest hold). Keys are kept
``FAIRSLOT_IDEMPOTENCY_TTL_HOURS`` (24 by default); the scheduler deletes older ones (:func:`sweep`), so no
shown-once secret outlives that time. A failing database answers the designed 503 (``busy_retry`` or
``unavailable``), never a 500; a lost connection is retried once.

A kept answer may hold a secret shown once (an access code, a new staff key), so it is stored encrypted
(AES-GCM) under a key derived from the server secret, the scope and the Idempotency-Key: the database
alone never reveals it. A staff key revoked since cannot replay its earlier answers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import errors as dberrors
from app.db.engine import begin_waiting_at_most, read_snapshot
from app.db.models import IdempotencyRecord
from app.domain.errors import IdempotencyInProgress, IdempotencyKeyReused, Unauthorized
from app.http.middleware import deadline_of, send_error, send_problem
from app.runtime import Runtime
from app.services import staff_keys

log = logging.getLogger("fairslot.idempotency")
T = TypeVar("T")
HEADER = b"idempotency-key"
_VALID_KEY = re.compile(r"[\x21-\x7e]{1,255}")
_IN_PROGRESS = 0
_TABLE = IdempotencyRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Claim:
    """The state of a key: ``new`` (ours to run), ``replay``, ``reused`` or ``in_progress``."""

    state: str
    record: Any = None


def claim(
    engine: Engine,
    scope: str,
    key: str,
    body_hash: str,
    now: datetime,
    ttl: timedelta,
    lease: timedelta = timedelta(minutes=2),
    wait_seconds: float = 15.0,
) -> Claim:
    """Claim ``key`` in ``scope`` for a body, or tell what the first request with it did.

    A claim still in progress after ``lease`` belongs to a request that died (its process was killed): the
    same body takes it over and runs again. The claim waits at most ``wait_seconds`` for SQLite's write lock
    (a locked database answers ``503 busy_retry`` within the request's timeout, not after it)."""
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    with begin_waiting_at_most(engine, wait_seconds) as conn:
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
            return claim(engine, scope, key, body_hash, now, ttl, lease, wait_seconds)
        if row.body_hash != body_hash:
            return Claim("reused")
        if row.status_code == _IN_PROGRESS:
            taken = conn.execute(
                update(_TABLE)
                .where(
                    _TABLE.c.id == row.id,
                    _TABLE.c.status_code == _IN_PROGRESS,
                    _TABLE.c.created_at < now - lease,
                )
                .values(created_at=now)
            ).rowcount
            return Claim("new") if taken else Claim("in_progress")
    return Claim("replay", row)


def sweep(engine: Engine, now: datetime, ttl: timedelta) -> int:
    """Delete every record older than ``ttl`` (the scheduler's job): kept answers hold shown-once secrets."""
    with engine.begin() as conn:
        return int(conn.execute(delete(_TABLE).where(_TABLE.c.created_at < now - ttl)).rowcount)


def claim_lease(request_timeout_seconds: float) -> timedelta:
    """How long a claim may stay in progress before it counts as abandoned."""
    return timedelta(seconds=2 * request_timeout_seconds + 60)


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


def _bearer(authorization: bytes | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, credential = authorization.decode("latin-1").partition(" ")
    credential = credential.strip()
    return credential if scheme.strip().lower() == "bearer" and credential else None


def principal_scope(engine: Engine, authorization: bytes | None, address: str) -> str:
    """Who the caller is, for the scope: ``staff:<key id>``, ``bearer:<digest>`` or ``address:<client>``.

    A staff key that does not authenticate (unknown, revoked) scopes on its digest: the route answers 401,
    and a revoked key never reaches the answers it stored while valid."""
    credential = _bearer(authorization)
    if credential is None:
        return (
            f"address:{address}"
            if authorization is None
            else "malformed:" + hashlib.sha256(authorization).hexdigest()
        )
    if credential.startswith(staff_keys.KEY_PREFIX):
        with read_snapshot(engine) as conn, Session(bind=conn) as session:
            try:
                return f"staff:{staff_keys.authenticate(session, credential).key_id}"
            except Unauthorized:
                pass
    return "bearer:" + hashlib.sha256(credential.encode("latin-1")).hexdigest()


def staff_key_revoked(engine: Engine, authorization: bytes) -> bool:
    """Whether the request's credential is a staff key that no longer works."""
    credential = _bearer(authorization)
    if credential is None or not credential.startswith(staff_keys.KEY_PREFIX):
        return False
    with read_snapshot(engine) as conn, Session(bind=conn) as session:
        try:
            staff_keys.authenticate(session, credential)
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
        authorization = headers.get(b"authorization")
        address = scope["client"][0] if scope.get("client") else "unknown"
        ttl = timedelta(hours=runtime.settings.idempotency_ttl_hours)
        lease = claim_lease(runtime.settings.request_timeout_seconds)
        body_hash = hashlib.sha256(body).hexdigest()
        now = runtime.clock.now()
        try:
            principal = await anyio.to_thread.run_sync(
                _with_one_retry, principal_scope, runtime.engine, authorization, address
            )
            scope_id = hashlib.sha256(f"{scope['path']}\n{principal}".encode()).hexdigest()
            wait = runtime.settings.request_timeout_seconds / 2
            state = await anyio.to_thread.run_sync(
                _with_one_retry, claim, runtime.engine, scope_id, key, body_hash, now, ttl, lease, wait
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
            if authorization is not None and await anyio.to_thread.run_sync(
                staff_key_revoked, runtime.engine, authorization
            ):
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
            settle,
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
                settle, runtime.engine, scope_id, key, 500, "", b"", runtime.secret
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
