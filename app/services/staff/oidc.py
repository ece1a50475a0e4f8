"""Staff sign-in through OpenID Connect: ProConnect (the State's agent sign-in) or any provider.

On when ``FAIRSLOT_OIDC_ISSUER``, ``FAIRSLOT_OIDC_CLIENT_ID`` and ``FAIRSLOT_OIDC_CLIENT_SECRET`` are set. The
authorization code flow with PKCE (S256), ``state`` and ``nonce``, through Authlib's OAuth 2 client; the
provider's endpoints and keys come from its discovery document, whose ``issuer`` must be the configured one.

- ``start`` records the sign-in under way (``state``'s SHA-256, the ``nonce``, the PKCE verifier sealed),
  bound to the browser that asked (a digest of its CSRF token), for ``LOGIN_TTL``; it returns the provider's
  authorization URL.
- ``finish`` takes the callback: the ``state`` must be a live one of this browser, and is spent at once (in
  its own short transaction, before any network call), so a replayed callback is refused; the code is
  exchanged with the verifier; the ID token's signature (the provider's published keys), ``iss``, ``aud``
  (this client), ``exp`` (on the service's clock), ``nonce`` and ``azp`` are checked. An account whose
  e-mail equals the ``email`` claim signs in when it is not disabled; an ``email_verified`` claim that is
  false refuses. No account is ever created by a sign-in; an invited account completes its first sign-in
  here (it becomes active). When the ID token has no ``email``, the user-info endpoint is asked (JSON, or a
  signed JWT as ProConnect answers), and its ``sub`` must be the token's.

Every refusal is ``403 oidc_refused`` with a ``reason``: ``provider_error``, ``state``, ``code``,
``id_token``, ``email_unverified``, ``unknown_account``. An unreachable provider is ``503 oidc_unavailable``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import Engine, delete
from sqlmodel import Session, col, select

from app.clock import Clock
from app.db.models import StaffAccount, StaffOidcLogin
from app.domain.errors import OidcRefused, OidcUnavailable
from app.domain.proofs import sealing
from app.domain.staff.accounts import AccountStatus, SignInMethod
from app.services import audit
from app.services.staff import sessions
from app.services.staff.principal import StaffPrincipal
from app.services.unit_of_work import unit_of_work
from app.settings import Settings

LOGIN_TTL = timedelta(minutes=10)
#: Clock skew allowed between the provider and the service on ``exp`` and ``iat``.
LEEWAY_SECONDS = 30
DISCOVERY_TTL_SECONDS = 3600
_PURPOSE = b"fairslot staff oidc verifier v1"
_discovered: dict[str, tuple[float, dict[str, Any]]] = {}


def callback_url(public_url: str) -> str:
    """The redirect URI to register with the provider."""
    return f"{public_url.rstrip('/')}/staff/oidc/callback"


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _issuer(settings: Settings) -> str:
    return settings.oidc_issuer.strip().rstrip("/")


def discovery(settings: Settings) -> dict[str, Any]:
    """The provider's discovery document (kept an hour per process); 503 when it cannot be read."""
    issuer = _issuer(settings)
    cached = _discovered.get(issuer)
    if cached is not None and time.monotonic() - cached[0] < DISCOVERY_TTL_SECONDS:
        return cached[1]
    try:
        response = httpx.get(
            f"{issuer}/.well-known/openid-configuration", timeout=settings.oidc_timeout_seconds
        )
        response.raise_for_status()
        metadata: dict[str, Any] = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise OidcUnavailable(
            f"the provider's discovery document cannot be read ({type(exc).__name__})"
        ) from exc
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise OidcUnavailable("the provider's discovery document names another issuer")
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(metadata.get(needed), str):
            raise OidcUnavailable(f"the provider's discovery document has no {needed}")
    _discovered[issuer] = (time.monotonic(), metadata)
    return metadata


def forget_discovery() -> None:
    """Forget the discovery documents read (tests start providers on new ports)."""
    _discovered.clear()


def _client(settings: Settings, public_url: str) -> OAuth2Client:
    return OAuth2Client(
        client_id=settings.oidc_client_id.strip(),
        client_secret=settings.oidc_client_secret,
        scope=settings.oidc_scopes,
        redirect_uri=callback_url(public_url),
        code_challenge_method="S256",
        timeout=settings.oidc_timeout_seconds,
    )


def start(
    session: Session, *, settings: Settings, public_url: str, browser: str, now: datetime, secret: bytes
) -> str:
    """Record a sign-in under way for this browser; returns the provider's authorization URL."""
    if not settings.oidc_enabled:
        raise OidcUnavailable("no OpenID Connect provider is configured")
    metadata = discovery(settings)  # network first: no transaction is open yet
    state, nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)
    session.execute(delete(StaffOidcLogin).where(col(StaffOidcLogin.expires_at) < now - timedelta(days=1)))
    session.add(
        StaffOidcLogin(
            state_hash=_digest(state),
            browser_hash=_digest(browser),
            nonce=nonce,
            verifier_sealed=sealing.seal(secret, _PURPOSE, verifier.encode("ascii"), _digest(state)),
            created_at=now,
            expires_at=now + LOGIN_TTL,
        )
    )
    session.flush()
    with _client(settings, public_url) as client:
        url, _state = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, nonce=nonce, code_verifier=verifier
        )
    return str(url)


@dataclass(frozen=True)
class _Spent:
    nonce: str
    verifier: str


def _spend_state(engine: Engine, clock: Clock, *, state: str, browser: str, secret: bytes) -> _Spent:
    """Spend the sign-in under way that ``state`` names, in its own transaction (refused: ``state``)."""
    if not state or len(state) > 128:
        raise OidcRefused("no sign-in under way has this state", reason="state")
    with unit_of_work(engine, clock) as session:
        now = clock.now()
        row = session.exec(
            select(StaffOidcLogin).where(StaffOidcLogin.state_hash == _digest(state)).with_for_update()
        ).first()
        if (
            row is None
            or row.used_at is not None
            or now >= row.expires_at
            or row.browser_hash != _digest(browser)
        ):
            raise OidcRefused("no sign-in under way of this browser has this state", reason="state")
        row.used_at = now
        session.add(row)
        nonce = row.nonce
        verifier = sealing.open_sealed(secret, _PURPOSE, row.verifier_sealed, row.state_hash, what="verifier")
    return _Spent(nonce, verifier.decode("ascii"))


def _keys(metadata: dict[str, Any], settings: Settings) -> KeySet:
    try:
        response = httpx.get(metadata["jwks_uri"], timeout=settings.oidc_timeout_seconds)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise OidcUnavailable(f"the provider's keys cannot be read ({type(exc).__name__})") from exc


def _algorithms(metadata: dict[str, Any]) -> list[str]:
    listed = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    return [alg for alg in listed if isinstance(alg, str) and alg != "none"]


def _id_token_claims(
    token: dict[str, Any],
    *,
    metadata: dict[str, Any],
    keys: KeySet,
    settings: Settings,
    nonce: str,
    now: datetime,
) -> dict[str, Any]:
    raw = token.get("id_token")
    if not isinstance(raw, str):
        raise OidcRefused("the provider sent no ID token", reason="id_token")
    try:
        decoded = jwt.decode(raw, keys, registry=JWSRegistry(algorithms=_algorithms(metadata)))
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {
                "iss": {"essential": True, "value": _issuer(settings)},
                "aud": {"essential": True, "value": settings.oidc_client_id.strip()},
            },
            {
                "nonce": nonce,
                "client_id": settings.oidc_client_id.strip(),
                "access_token": token.get("access_token"),
            },
        )
        claims.validate(now=int(now.timestamp()), leeway=LEEWAY_SECONDS)
    except (JoseError, ValueError) as exc:
        raise OidcRefused(
            f"the ID token is refused ({type(exc).__name__}: {exc})", reason="id_token"
        ) from exc
    return dict(claims)


def _userinfo(client: OAuth2Client, metadata: dict[str, Any], keys: KeySet, subject: str) -> dict[str, Any]:
    endpoint = metadata.get("userinfo_endpoint")
    if not isinstance(endpoint, str):
        return {}
    try:
        response = client.get(endpoint)
        response.raise_for_status()
        if response.headers.get("content-type", "").startswith("application/jwt"):
            info = dict(
                jwt.decode(response.text, keys, registry=JWSRegistry(algorithms=_algorithms(metadata))).claims
            )
        else:
            info = response.json()
    except (httpx.HTTPError, ValueError, JoseError) as exc:
        raise OidcUnavailable(f"the provider's user info cannot be read ({type(exc).__name__})") from exc
    if not isinstance(info, dict) or info.get("sub") != subject:
        raise OidcRefused("the user info is about someone else", reason="id_token")
    return info


def _verified_email(claims: dict[str, Any]) -> str:
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise OidcRefused("the provider gave no e-mail address", reason="unknown_account")
    if claims.get("email_verified") is False:
        raise OidcRefused("the provider says this e-mail address is not verified", reason="email_unverified")
    return email.strip().lower()


def finish(
    *,
    engine: Engine,
    clock: Clock,
    session: Session,
    settings: Settings,
    public_url: str,
    secret: bytes,
    browser: str,
    state: str,
    code: str,
    error: str = "",
    replacing: str | None = None,
) -> tuple[StaffPrincipal, str]:
    """Finish a sign-in from the provider's callback; returns the principal and the new session id."""
    if not settings.oidc_enabled:
        raise OidcUnavailable("no OpenID Connect provider is configured")
    spent = _spend_state(engine, clock, state=state, browser=browser, secret=secret)
    if error or not code:
        raise OidcRefused(f"the provider answered {error or 'without a code'}", reason="provider_error")
    metadata = discovery(settings)
    keys = _keys(metadata, settings)
    with _client(settings, public_url) as client:
        try:
            token = client.fetch_token(
                metadata["token_endpoint"],
                grant_type="authorization_code",
                code=code[:2048],
                code_verifier=spent.verifier,
            )
        except (OAuth2Error, OAuthError) as exc:
            raise OidcRefused(f"the provider refused the code ({exc.error})", reason="code") from exc
        except httpx.HTTPError as exc:
            raise OidcUnavailable(
                f"the provider's token endpoint cannot be reached ({type(exc).__name__})"
            ) from exc
        claims = _id_token_claims(
            dict(token), metadata=metadata, keys=keys, settings=settings, nonce=spent.nonce, now=clock.now()
        )
        if "email" not in claims:
            claims = {**_userinfo(client, metadata, keys, str(claims["sub"])), **claims}
    email = _verified_email(claims)
    now = clock.now()
    account = session.exec(select(StaffAccount).where(StaffAccount.email == email).with_for_update()).first()
    if account is None or account.status == AccountStatus.DISABLED:
        audit.log(
            session,
            action="staff.oidc_refused",
            subject="staff_account:unknown",
            actor="sign-in",
            reason="unknown_account",
        )
        raise OidcRefused(
            "no enabled account has this e-mail address", reason="unknown_account", keep_changes=True
        )
    if account.status == AccountStatus.INVITED:
        account.status = AccountStatus.ACTIVE.value
        account.enrolled_at = now
    return sessions.sign_in_account(
        session, account, now=now, method=SignInMethod.OIDC, replacing=replacing, issuer=_issuer(settings)
    )
