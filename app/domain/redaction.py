"""Error texts without recipients: what is stored or logged of a failed delivery names no person.

An SMTP server's refusal usually quotes the address (``550 5.1.1 <aicha@example.org>: no such user``);
kept as is, the outbox's error column and the logs would hold e-mail addresses after ``fairslot purge``
removed them everywhere else. Addresses and phone numbers are replaced by a placeholder before anything is
stored or logged.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[^\s<>\"'(),;:@\[\]]+@[^\s<>\"'(),;:@\[\]]+")
_PHONE = re.compile(r"\+?\d[\d .\-()]{7,}\d")


def without_recipients(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers replaced by ``<recipient>``."""
    return _PHONE.sub("<recipient>", _EMAIL.sub("<recipient>", text))
