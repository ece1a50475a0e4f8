"""The web session: a small signed cookie (itsdangerous) holding the CSRF token and the signed-in staff key.

Nothing secret is in it (no staff key, no access code): only a random CSRF token, the staff key's row id,
when it signed in and the key's web-session generation at that moment. The signature key is derived from
the server secret, so a cookie cannot be forged or edited; a revoked key stops working at once because the
row is checked on every request, and signing out raises the key's generation, which ends that session on
the server: a copy of the cookie made before is worth nothing after (every browser session of that key ends
with it, the price of keeping no session table).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from app.runtime import Runtime

COOKIE = "fairslot_session"
#: How long a cookie is accepted at all (anonymous visitors keep their CSRF token this long).
COOKIE_MAX_AGE = 7 * 24 * 3600
#: How long a staff sign-in lasts.
STAFF_MAX_AGE = 12 * 3600
_SALT = "fairslot.web.session.v1"


@dataclass
class WebSession:
    """What the cookie holds; ``changed`` tells the response to send it again."""

    csrf: str
    staff_key_id: int | None = None
    signed_in_at: int | None = None
    #: The key's ``session_generation`` when this session signed in.
    generation: int | None = None
    changed: bool = False
    #: Created by this request: no form can carry its token yet.
    is_new: bool = False

    @classmethod
    def fresh(cls) -> WebSession:
        """A new anonymous session with its own CSRF token."""
        return cls(csrf=secrets.token_urlsafe(32), changed=True, is_new=True)

    def sign_in(self, key_id: int, generation: int = 0) -> None:
        """Bind the session to a staff key, with a new CSRF token (no token survives a sign-in)."""
        self.csrf = secrets.token_urlsafe(32)
        self.staff_key_id = key_id
        self.signed_in_at = int(time.time())
        self.generation = generation
        self.changed = True

    def sign_out(self) -> None:
        """Forget the staff key and rotate the CSRF token."""
        self.csrf = secrets.token_urlsafe(32)
        self.staff_key_id = None
        self.signed_in_at = None
        self.generation = None
        self.changed = True

    @property
    def staff_signed_in(self) -> bool:
        """Whether a staff key signed in less than :data:`STAFF_MAX_AGE` ago."""
        return (
            self.staff_key_id is not None
            and self.signed_in_at is not None
            and time.time() - self.signed_in_at < STAFF_MAX_AGE
        )


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    key = hmac.new(runtime.secret, b"fairslot web session cookie", hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt=_SALT)


def load(request: Request, runtime: Runtime) -> WebSession:
    """The session of ``request``, or a fresh one when the cookie is absent, forged or too old."""
    raw = request.cookies.get(COOKIE)
    if not raw:
        return WebSession.fresh()
    try:
        data: Any = _serializer(runtime).loads(raw, max_age=COOKIE_MAX_AGE)
    except BadSignature:
        return WebSession.fresh()
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str) or len(data["csrf"]) < 32:
        return WebSession.fresh()
    key_id, since, generation = data.get("staff"), data.get("since"), data.get("gen")
    if not (isinstance(key_id, int) and isinstance(since, int) and isinstance(generation, int)):
        key_id = since = generation = None
    return WebSession(csrf=data["csrf"], staff_key_id=key_id, signed_in_at=since, generation=generation)


def secure_cookies(runtime: Runtime) -> bool:
    """Cookies are ``Secure`` when the service is published over HTTPS."""
    return runtime.settings.public_url.startswith("https://")


def save(response: Response, session: WebSession, runtime: Runtime) -> None:
    """Send the session cookie when it changed (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    if not session.changed:
        return
    payload: dict[str, Any] = {"csrf": session.csrf}
    if session.staff_key_id is not None:
        payload["staff"] = session.staff_key_id
        payload["since"] = session.signed_in_at
        payload["gen"] = session.generation
    response.set_cookie(
        COOKIE,
        _serializer(runtime).dumps(payload),
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookies(runtime),
    )


def staff_key_of_cookies(cookies: dict[str, str], runtime: Runtime) -> int | None:
    """The staff key id a request's session cookie is signed in with (for per-key rate limits), if any."""
    raw = cookies.get(COOKIE)
    if not raw:
        return None
    try:
        data: Any = _serializer(runtime).loads(raw, max_age=STAFF_MAX_AGE)
    except BadSignature:
        return None
    key_id = data.get("staff") if isinstance(data, dict) else None
    return key_id if isinstance(key_id, int) else None
