"""Opaque page cursors: a listing's last row id, written so that clients pass it back without reading it.

A cursor names a row id of one listing (a letter tells the listings apart). A cursor this service never gave
(not base64, another listing's letter, not a whole number, or a number no row id can reach: the ids are
PostgreSQL ``integer`` columns) is a ``422`` naming ``cursor``, never a database error.
"""

from __future__ import annotations

import base64
import re

from app.domain.errors import InvalidInput

#: The largest row id (PostgreSQL ``integer``; SQLite's rowid is wider, and the two must agree).
MAX_ROW_ID = 2**31 - 1
_DIGITS = re.compile(r"[0-9]{1,10}")


def encode(letter: str, row_id: int) -> str:
    """The cursor of ``row_id`` in the listing ``letter`` names."""
    return base64.urlsafe_b64encode(f"{letter}{row_id}".encode()).decode().rstrip("=")


def decode(letter: str, cursor: str) -> int:
    """The row id a cursor of the listing ``letter`` names; ``422`` for anything this listing never gave."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        raw = ""
    number = raw[len(letter) :] if raw.startswith(letter) else ""
    if not _DIGITS.fullmatch(number) or int(number) > MAX_ROW_ID:
        raise InvalidInput(
            "cursor is not one this listing gave",
            errors=[{"path": "cursor", "message": "not a cursor of this list; start again without one"}],
        )
    return int(number)
