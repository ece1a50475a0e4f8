"""CSRF protection of every web form: the token in the form must equal the one in the signed session cookie.

The session cookie is signed (it cannot be forged) and HttpOnly (a script cannot read it); another site can
make a browser send the cookie but cannot know the token to put in the form. A POST without the token, or
with another one, is refused with a 403 page before anything runs.
"""

from __future__ import annotations

import hmac

from app.web.session import WebSession

FIELD = "csrf_token"


class CsrfRejected(Exception):
    """A form arrived without the session's CSRF token."""


def is_valid(session: WebSession, submitted: object) -> bool:
    """Whether ``submitted`` is this session's token (constant-time comparison)."""
    if session.is_new or not isinstance(submitted, str) or not submitted:
        return False
    return hmac.compare_digest(session.csrf.encode(), submitted.encode())
