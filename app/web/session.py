"""The browser's two cookies: a signed one for the CSRF token, and the staff session's opaque id.

``fairslot_session`` is signed (itsdangerous) and holds only a random CSRF token, for every visitor: forms
carry the token and ``app.web.csrf`` checks it. ``fairslot_staff`` holds only the opaque random id of a
staff session kept on the server (``app.services.staff.sessions``): who is signed in, since when, and
whether the session still stands are all on the server, so ending a session there (sign-out, "sign out
everywhere", an admin, a disabled account, a revoked key) makes a copy of the cookie worthless at once. A
sign-in always sets a new id and a new CSRF token (no fixation); a sign-out forgets both.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from app.domain.staff.accounts import SESSION_MAX
from app.runtime import Runtime

COOKIE = "fairslot_session"
#: The staff session's opaque id (nothing else).
STAFF_COOKIE = "fairslot_staff"
#: How long a cookie is accepted at all (anonymous visitors keep their CSRF token this long).
COOKIE_MAX_AGE = 7 * 24 * 3600
_SALT = "fairslot.web.session.v1"
_MAX_TOKEN_CHARS = 128


@dataclass
class WebSession:
    """What the cookies hold; ``changed`` and ``staff_changed`` tell the response to send them again."""

    csrf: str
    #: The opaque id of the staff session this browser holds, if any (checked on the server).
    staff_token: str | None = None
    changed: bool = False
    staff_changed: bool = False
    #: Created by this request: no form can carry its token yet.
    is_new: bool = False

    @classmethod
    def fresh(cls, staff_token: str | None = None) -> WebSession:
        """A new anonymous session with its own CSRF token."""
        return cls(csrf=secrets.token_urlsafe(32), staff_token=staff_token, changed=True, is_new=True)

    def sign_in(self, token: str) -> None:
        """Hold the new staff session ``token``, with a new CSRF token (no token survives a sign-in)."""
        self.csrf = secrets.token_urlsafe(32)
        self.staff_token = token
        self.changed = True
        self.staff_changed = True

    def sign_out(self) -> None:
        """Forget the staff session and rotate the CSRF token."""
        self.csrf = secrets.token_urlsafe(32)
        self.staff_token = None
        self.changed = True
        self.staff_changed = True

    @property
    def staff_signed_in(self) -> bool:
        """Whether this browser holds a staff session id (whether it stands is the server's to say)."""
        return self.staff_token is not None


def _serializer(runtime: Runtime) -> URLSafeTimedSerializer:
    key = hmac.new(runtime.secret, b"fairslot web session cookie", hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt=_SALT)


def staff_token_of(cookies: dict[str, str]) -> str | None:
    """The staff session id a request's cookies carry, if it has the shape of one."""
    token = cookies.get(STAFF_COOKIE)
    if not token or len(token) > _MAX_TOKEN_CHARS or not token.isascii():
        return None
    return token


def load(request: Request, runtime: Runtime) -> WebSession:
    """The session of ``request``, or a fresh one when the cookie is absent, forged or too old."""
    staff_token = staff_token_of(dict(request.cookies))
    raw = request.cookies.get(COOKIE)
    if not raw:
        return WebSession.fresh(staff_token)
    try:
        data: Any = _serializer(runtime).loads(raw, max_age=COOKIE_MAX_AGE)
    except BadSignature:
        return WebSession.fresh(staff_token)
    if not isinstance(data, dict) or not isinstance(data.get("csrf"), str) or len(data["csrf"]) < 32:
        return WebSession.fresh(staff_token)
    return WebSession(csrf=data["csrf"], staff_token=staff_token)


def secure_cookies(runtime: Runtime) -> bool:
    """Cookies are ``Secure`` when the service is published over HTTPS."""
    return runtime.settings.public_url.startswith("https://")


def save(response: Response, session: WebSession, runtime: Runtime) -> None:
    """Send the cookies that changed (HttpOnly, SameSite=Lax, Secure over HTTPS)."""
    secure = secure_cookies(runtime)
    if session.changed:
        response.set_cookie(
            COOKIE,
            _serializer(runtime).dumps({"csrf": session.csrf}),
            max_age=COOKIE_MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=secure,
        )
    if session.staff_changed:
        if session.staff_token is None:
            response.delete_cookie(STAFF_COOKIE, path="/", httponly=True, samesite="lax", secure=secure)
        else:
            response.set_cookie(
                STAFF_COOKIE,
                session.staff_token,
                max_age=int(SESSION_MAX.total_seconds()),
                path="/",
                httponly=True,
                samesite="lax",
                secure=secure,
            )
