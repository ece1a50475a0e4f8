"""Settings from ``FAIRSLOT_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

import json
import os
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_SECRET_LENGTH = 32
DEV_SECRET_FILE = Path(".fairslot-secret")
DEV_BEACON_KEY_FILE = Path(".fairslot-beacon-key")
#: Relays of the League of Entropy's public chains (drand's HTTP API), tried in this order.
PUBLIC_BEACON_RELAYS = (
    "https://api.drand.sh,https://api2.drand.sh,https://api3.drand.sh,https://drand.cloudflare.com"
)


#: Database connections a process keeps beyond its admitted requests: the scheduler's jobs, the intake
#: writer, and a draw document written while its record is read.
BACKGROUND_CONNECTIONS = 8


class Settings(BaseSettings):
    """Every knob of the service; docs/operators/configuration.md lists them for operators."""

    model_config = SettingsConfigDict(env_prefix="FAIRSLOT_", env_file=".env", extra="ignore", frozen=True)

    env: Literal["development", "production", "test"] = "development"
    database_url: str = "sqlite:///./fairslot.db"
    secret_key: str | None = Field(default=None, repr=False)
    secret_file: Path = DEV_SECRET_FILE
    redis_url: str | None = None
    rate_limits: Literal["on", "off"] = "on"
    trusted_proxies: str = "127.0.0.1"
    smtp_url: str | None = None
    #: ``smpp://system_id:password@host:port?source_addr=Fairslot``; SMS go to the log when unset.
    smpp_url: str | None = None
    #: Bound on each network step of a message attempt (SMTP or SMPP), in seconds.
    message_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    mail_from: str = "Fairslot <no-reply@fairslot.localhost>"
    public_url: str = "http://127.0.0.1:8000"
    #: ``/metrics`` answers only ``Authorization: Bearer <this token>`` when set, with exact counts; unset,
    #: anyone reads it and no per-office count below 5 is published (see docs/reference/statistics.md).
    metrics_token: str | None = Field(default=None, repr=False)
    #: Where the accessibility statement (/accessibility) tells readers to report a barrier.
    accessibility_contact: str = "accessibilite@fairslot.localhost"
    offer_ttl_hours: int = Field(default=48, ge=1, le=24 * 14)
    redraw_within: timedelta = timedelta(hours=1)
    no_show_grace_minutes: int = Field(default=30, ge=0)
    #: How long before its start a booking may check in (it closes at the no-show grace after the start).
    check_in_opens_minutes_before: int = Field(default=120, ge=0)
    scheduler_interval_seconds: float = Field(default=5.0, gt=0)
    idempotency_ttl_hours: int = Field(default=24, ge=1)
    retention_days: int = Field(default=365, ge=1)
    max_body_bytes: int = 64 * 1024
    intake_ceiling_per_second: int = Field(default=200, ge=1)
    #: The budget of anonymous online submissions per address block (/24 IPv4, /56 IPv6), spent before
    #: the global ceiling (docs/operators/limits-and-timeouts.md): ``limits`` syntax, several separated by ``;``.
    unverified_per_block: str = "240/hour;2000/day"
    request_timeout_seconds: float = 30.0
    #: Once an answer has started, how long its body may take (a 1M-entry draw record to a slow client).
    response_body_timeout_seconds: float = Field(default=600.0, gt=0)
    #: ``fairslot serve``: how long a client may take to send a request's headers (slowloris), and how
    #: many connections and requests are served at once (beyond it, uvicorn answers 503).
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_concurrency: int = Field(default=1000, ge=1)
    #: Requests one process works on at once (``app.http.admission``); more queue for
    #: ``admission_wait_seconds``, then answer ``503 busy_retry``. The database pool holds this many
    #: connections plus ``BACKGROUND_CONNECTIONS`` (the scheduler, the intake writer).
    max_requests_in_flight: int = Field(default=24, ge=1, le=500)
    admission_wait_seconds: float = Field(default=10.0, gt=0)
    #: Which randomness chain new releases fix their round on: ``quicknet`` or ``mainnet`` (the League of
    #: Entropy's public chains), a drand chain info as JSON (another chain, trusted by this setting),
    #: ``local`` (a key this process generates: no guarantee against the host; refused in production) or
    #: ``none`` (v1 draws). Empty: ``quicknet`` in production, ``local`` otherwise.
    beacon_chain: str = ""
    #: drand relays (base URLs, comma-separated); empty: the League's relays (the process itself for local).
    beacon_urls: str = ""
    beacon_key_file: Path = DEV_BEACON_KEY_FILE
    beacon_local_period_seconds: int = Field(default=3, ge=1, le=3600)
    beacon_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    beacon_retry_seconds: float = Field(default=10.0, gt=0)
    #: Staff sign-in through OpenID Connect (ProConnect, or any provider): on when all three are set. The
    #: provider's redirect URI is ``{FAIRSLOT_PUBLIC_URL}/staff/oidc/callback``.
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret: str = Field(default="", repr=False)
    #: The scopes asked for (``email`` carries the address an account is matched on).
    oidc_scopes: str = "openid email"
    #: What the sign-in button calls the provider.
    oidc_provider_name: str = "ProConnect"
    #: Bound on each call to the provider (discovery, keys, token, user info), in seconds.
    oidc_timeout_seconds: float = Field(default=10.0, gt=0, le=60)

    @field_validator("beacon_chain")
    @classmethod
    def _known_chain(cls, value: str) -> str:
        name = value.strip()
        if name in ("", "quicknet", "mainnet", "local", "none"):
            return name
        try:
            info = json.loads(name)
        except ValueError as exc:
            raise ValueError("quicknet, mainnet, local, none, or a drand chain info as JSON") from exc
        if not isinstance(info, dict) or not {
            "hash",
            "schemeID",
            "public_key",
            "period",
            "genesis_time",
        } <= set(info):
            raise ValueError("a chain info needs hash, schemeID, public_key, period and genesis_time")
        return name

    @field_validator("database_url")
    @classmethod
    def _pick_driver(cls, url: str) -> str:
        # A plain postgresql:// URL works: the service picks psycopg 3 itself.
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @model_validator(mode="after")
    def _production_needs_a_strong_secret(self) -> Settings:
        if self.env == "production" and (self.secret_key is None or len(self.secret_key) < MIN_SECRET_LENGTH):
            raise ValueError(
                "FAIRSLOT_SECRET_KEY must be set to at least "
                f"{MIN_SECRET_LENGTH} characters in production: it peppers identity digests and "
                "seeds the token signing keys, so a generated or weak one would make digests and "
                "tokens unverifiable or guessable. Generate one with: "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        if self.env == "production" and self.effective_beacon_chain == "local":
            raise ValueError(
                "FAIRSLOT_BEACON_CHAIN=local is refused in production: a chain whose key this host holds "
                "proves nothing against whoever runs the host. Use quicknet or mainnet (the League of "
                "Entropy's public chains) with FAIRSLOT_BEACON_URLS pointing at their relays."
            )
        return self

    @property
    def effective_beacon_chain(self) -> str:
        """The configured beacon chain, with its default filled in."""
        return self.beacon_chain.strip() or ("quicknet" if self.env == "production" else "local")

    @property
    def beacon_relays(self) -> list[str]:
        """The relay base URLs to fetch rounds from (empty for the local chain: the process signs them)."""
        listed = [u.strip().rstrip("/") for u in self.beacon_urls.split(",") if u.strip()]
        if listed or self.effective_beacon_chain == "local":
            return listed
        return PUBLIC_BEACON_RELAYS.split(",")

    @property
    def database_pool_capacity(self) -> int:
        """Connections the process's pool may open: one per admitted request, and the background's."""
        return self.max_requests_in_flight + BACKGROUND_CONNECTIONS

    @property
    def oidc_enabled(self) -> bool:
        """Whether staff may sign in through an OpenID Connect provider (issuer, client id and secret set)."""
        return bool(self.oidc_issuer.strip() and self.oidc_client_id.strip() and self.oidc_client_secret)

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is a SQLite file (embedded mode)."""
        return self.database_url.startswith("sqlite")

    def secret_bytes(self) -> bytes:
        """The server secret; in development generated once into a local git-ignored file."""
        if self.secret_key:
            return self.secret_key.encode("utf-8")
        path = self.secret_file
        try:  # created 0600 from the start (never readable by others, not even for a moment); never replaced
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode("utf-8")

    @property
    def trusted_proxy_list(self) -> list[str]:
        """Trusted proxy addresses, as uvicorn's ``forwarded-allow-ips``."""
        return [p.strip() for p in self.trusted_proxies.split(",") if p.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own ``Settings`` instead)."""
    return Settings()
