"""Idempotency storage: claim a key, keep the (encrypted) answer, replay it, sweep it after its time; the
HTTP side is ``app.http.idempotency``.

One row per (scope, key), unique: the claim is an insert that only one request wins. A kept answer may
hold a secret shown once (an access code, a new staff key), so it is stored AES-GCM encrypted under a key
derived from the server secret, the scope and the Idempotency-Key: the database alone never reveals it.
A claim still in progress after its lease belongs to a request that died: the same body takes it over.
An answer is replayed only while the credential it was kept for still works (``replay_refusal``).
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

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.db.engine import begin_waiting_at_most, read_snapshot
from app.db.models import IdempotencyRecord
from app.domain.errors import FairslotError, NotFound, Unauthorized
from app.services.requests import repository
from app.services.staff import keys as staff_keys

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


#: The applicant's routes: the access code in ``Authorization`` opens the request the path names.
_REQUEST_PATH = re.compile(r"^/api/v1/requests/([^/]+)/")


def replay_refusal(engine: Engine, authorization: bytes | None, path: str) -> FairslotError | None:
    """Why a kept answer must not be replayed to this caller now, if it must not.

    An answer is kept for a credential; one that stopped working since has no answer left to replay: a staff
    key revoked since is a ``401``, and an access code replaced since (a recovery gives the holder a new
    one) a ``404`` exactly as any wrong code is, counted as one by the rate limiter."""
    credential = _bearer(authorization)
    if credential is None:
        return None
    with read_snapshot(engine) as conn, Session(bind=conn) as session:
        if credential.startswith(staff_keys.KEY_PREFIX):
            try:
                staff_keys.authenticate(session, credential)
            except Unauthorized as exc:
                return exc
            return None
        opened = _REQUEST_PATH.match(path)
        if opened is None:
            return None
        try:
            repository.authenticate(session, opened.group(1), credential)
        except NotFound as exc:
            return exc
    return None


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
