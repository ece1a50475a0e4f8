"""A real OpenID Connect provider on 127.0.0.1 for the suite (``oidc-provider-mock``, on werkzeug in a thread),
and the browser's part of a sign-in: following the redirect and choosing the user on the provider's form."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import oidc_provider_mock
import werkzeug.serving

CLIENT_ID = "fairslot-staff"
CLIENT_SECRET = "the-client-secret-of-the-suite"

Wsgi = Callable[[dict[str, Any], Callable[..., Any]], Any]


@contextmanager
def provider(
    *, token_max_age: timedelta = timedelta(hours=1), wrap: Callable[[Wsgi], Wsgi] | None = None
) -> Iterator[str]:
    """A provider serving until the block ends; yields its issuer URL (``http://127.0.0.1:PORT``).

    ``wrap`` puts a WSGI middleware in front of it (a provider that misbehaves on purpose).
    """
    app: Wsgi = oidc_provider_mock.app(require_nonce=True, access_token_max_age=token_max_age)
    server = werkzeug.serving.make_server("127.0.0.1", 0, wrap(app) if wrap else app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()


def set_user(issuer: str, sub: str, **claims: Any) -> None:
    """Give the provider's user ``sub`` these claims (``email``, ``email_verified``…)."""
    response = httpx.put(f"{issuer}/users/{sub}", json=claims, timeout=5)
    assert response.status_code == 204, response.text


def authorize(authorization_url: str, sub: str, *, client_id: str | None = None) -> str:
    """What the person does at the provider: choose ``sub`` on its form; returns the callback URL it sends
    the browser back to (``client_id`` rewrites the request, as an attacker's link would)."""
    if client_id is not None:
        parts = urlsplit(authorization_url)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        query["client_id"] = client_id
        authorization_url = urlunsplit(parts._replace(query=urlencode(query)))
    response = httpx.post(authorization_url, data={"sub": sub}, timeout=5, follow_redirects=False)
    assert response.status_code in (302, 303), response.text
    return response.headers["location"]


def as_client(client_id: str) -> Callable[[Wsgi], Wsgi]:
    """A provider that answers the token endpoint as if another client had asked (a token for another
    audience reaches the service)."""
    basic = "Basic " + base64.b64encode(f"{client_id}:anything".encode()).decode()

    def wrap(app: Wsgi) -> Wsgi:
        def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if environ.get("PATH_INFO") == "/oauth2/token":
                environ["HTTP_AUTHORIZATION"] = basic
            return app(environ, start_response)

        return middleware

    return wrap
