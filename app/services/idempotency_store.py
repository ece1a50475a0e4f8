"""Idempotency storage: claim a key, keep the (encrypted) answer, replay it; the HTTP side is
``app.http.idempotency``.

One row per (scope, key), unique: the claim is an insert that only one request wins. A kept answer may
hold a secret shown once (an access code, a new staff key), so it is stored AES-GCM encrypted under a key
derived from the server secret, the scope and the Idempotency-Key: the database alone never reveals it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Engine, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from app.db.models import IdempotencyRecord
from app.domain.errors import Unauthorized
from app.services import staff_keys

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
