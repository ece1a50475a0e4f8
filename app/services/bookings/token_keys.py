"""Booking-token signing keys: key ids in the database, keys derived from the server secret.

Rotating adds a key id; new tokens are signed with the newest, and every listed id keeps verifying, so
tokens signed before a rotation stay valid until they expire. The keyring is cached for a minute per
process (a rotation reaches every process within that minute).
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.db.models import TokenKey
from app.domain.proofs.tokens import TokenKeyring

FIRST_KID = "k1"
CACHE_SECONDS = 60.0
_cache: dict[tuple[str, bytes], tuple[float, TokenKeyring]] = {}
_lock = threading.Lock()


def ensure_first_key(session: Session, now: datetime) -> None:
    """Create the first key id once, whichever process gets there first."""
    table = TokenKey.__table__  # type: ignore[attr-defined]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(kid=FIRST_KID, created_at=now).on_conflict_do_nothing())


def load_keyring(session: Session, secret: bytes, now: datetime) -> TokenKeyring:
    """The keyring from the database (creating the first key id when there is none)."""
    rows = session.exec(select(TokenKey).order_by(col(TokenKey.created_at))).all()
    if not rows:
        ensure_first_key(session, now)
        rows = session.exec(select(TokenKey).order_by(col(TokenKey.created_at))).all()
    return TokenKeyring([(row.kid, row.created_at) for row in rows if row.retired_at is None], secret)


def keyring(session: Session, secret: bytes, now: datetime) -> TokenKeyring:
    """The cached keyring of this process for this database."""
    bind = session.get_bind()
    key = (str(bind.url) if isinstance(bind, Engine) else str(bind.engine.url), secret)
    with _lock:
        cached = _cache.get(key)
        if cached and time.monotonic() - cached[0] < CACHE_SECONDS:
            return cached[1]
    ring = load_keyring(session, secret, now)
    with _lock:
        _cache[key] = (time.monotonic(), ring)
    return ring


def rotate(session: Session, now: datetime) -> str:
    """Add a new key id; it signs every token from now on (after the cache minute elsewhere)."""
    kid = f"k{now:%Y%m%d}-{secrets.token_hex(3)}"
    session.add(TokenKey(kid=kid, created_at=now))
    session.flush()
    clear_cache()
    return kid


def clear_cache() -> None:
    """Forget cached keyrings (after a rotation, and between tests)."""
    with _lock:
        _cache.clear()
