"""The production edge: the nginx configuration Fairslot recommends, filled in for given addresses.

Every request the application refuses still costs it a parse in Python, so a flood takes the CPU real
applicants need. nginx refuses floods in C before they reach the application: per connecting address,
``limit_req`` budgets on intake, on one-time codes and recoveries, and on everything else, answered as the
application answers (problem+json with ``Retry-After``; pages get a short page). It also terminates TLS,
serves the static files, compresses, reads bodies whole within the application's own limits and tells the
application who connected (``X-Forwarded-For``, which the application believes only from
``FAIRSLOT_TRUSTED_PROXIES``).

The template is ``edge_nginx.conf.j2`` beside this module; ``deploy/nginx/fairslot.conf`` is its rendering
for the addresses named in its header (a test keeps the two equal). The limits are the application's: the
body limits come from the settings and :data:`app.http.middleware.LARGER_BODIES`, the intake paths from the
rate limiter, so the edge never refuses what the application would accept.
"""

from __future__ import annotations

import ipaddress
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import jinja2

from app.http.middleware import LARGER_BODIES
from app.http.ratelimit import _INTAKE_PATH, _WEB_INTAKE_PATH

#: Addresses nginx remembers per zone: 10 MB hold some 80,000 addresses (nginx's own figure: 16,000 per MB
#: of 64-byte states; IPv6 states are larger).
ZONE_SIZE = "10m"
#: The application's own header timeout (``FAIRSLOT_HEADER_TIMEOUT_SECONDS``) is 10 s: the edge gives no more.
HEADER_TIMEOUT = 10
BODY_TIMEOUT = 10
#: Longer than the application's request timeout (30 s), which answers its own 503 first.
READ_TIMEOUT = 40
_TOKEN = re.compile(r"^[^\s;{}'\"#$\\]+$")


@dataclass(frozen=True)
class Budget:
    """A per-address ``limit_req`` budget: a steady rate, a burst served at once, and beyond the burst up to
    ``held`` requests held and let through at the rate (a tarpit: a flooding connection waits instead of
    coming straight back), beyond which requests are refused."""

    per_minute: int
    burst: int
    held: int = 0

    @property
    def options(self) -> str:
        """The ``limit_req`` options: ``burst=… nodelay``, or ``burst=… delay=…`` when requests are held."""
        if not self.held:
            return f"burst={self.burst} nodelay"
        return f"burst={self.burst + self.held} delay={self.burst}"

    @property
    def rate(self) -> str:
        """nginx's spelling of the rate."""
        if self.per_minute % 60 == 0:
            return f"{self.per_minute // 60}r/s"
        return f"{self.per_minute}r/m"

    @property
    def retry_after(self) -> int:
        """Seconds until the budget has room again for one request."""
        return max(1, math.ceil(60 / self.per_minute))


#: Submissions (API and form) per address: a person files once; a household or a counter's shared
#: connection a few. Looser than the application's block budget, which still applies behind the edge.
#: A flood's connections are held and paced rather than answered at once, so they stop costing CPU.
INTAKE = Budget(per_minute=30, burst=5, held=20)
#: One-time codes (each sends an SMS or checks a 6-digit code) and access-code recoveries, per address.
CODES = Budget(per_minute=10, burst=10, held=10)
#: Everything else per address: twice the application's own per-address budget (600 a minute).
GENERAL = Budget(per_minute=1200, burst=100)


class EdgeConfigError(ValueError):
    """An address or a path the configuration cannot hold."""


@dataclass(frozen=True)
class EdgeSettings:
    """What an operator fills in."""

    listen: str
    upstreams: tuple[str, ...]
    static_root: Path
    tls_cert: Path | None = None
    tls_key: Path | None = None
    max_body_bytes: int = 64 * 1024

    @property
    def tls(self) -> bool:
        """Whether nginx terminates TLS."""
        return self.tls_cert is not None


def host_port(value: str, *, what: str) -> str:
    """``HOST:PORT`` checked (an IPv6 host in brackets), in nginx's spelling."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EdgeConfigError(f"{what} must be HOST:PORT (an IPv6 host in brackets), not {value!r}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        if bare != host or not re.fullmatch(r"[A-Za-z0-9.-]+|\*", host):
            raise EdgeConfigError(f"{what}: {host!r} is neither an IP address nor a host name") from None
        return f"{host}:{int(port)}"
    return f"[{address}]:{int(port)}" if address.version == 6 else f"{address}:{int(port)}"


def _path(value: Path, what: str) -> Path:
    absolute = value.expanduser().absolute()
    if not _TOKEN.fullmatch(str(absolute)):
        raise EdgeConfigError(f"{what}: {value} holds characters nginx would read as syntax")
    return absolute


def edge_settings(
    *,
    listen: str,
    upstreams: str,
    static_root: Path,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
    max_body_bytes: int = 64 * 1024,
) -> EdgeSettings:
    """The operator's options, checked: refused with the reason rather than written into nginx syntax."""
    listed = [u for u in (part.strip() for part in upstreams.split(",")) if u]
    if not listed:
        raise EdgeConfigError("--upstream needs at least one HOST:PORT")
    if (tls_cert is None) != (tls_key is None):
        raise EdgeConfigError("--tls-cert and --tls-key go together")
    return EdgeSettings(
        listen=host_port(listen, what="--listen"),
        upstreams=tuple(dict.fromkeys(host_port(u, what="--upstream") for u in listed)),
        static_root=_path(static_root, "--static-root"),
        tls_cert=None if tls_cert is None else _path(tls_cert, "--tls-cert"),
        tls_key=None if tls_key is None else _path(tls_key, "--tls-key"),
        max_body_bytes=max_body_bytes,
    )


def command_line(edge: EdgeSettings) -> str:
    """The ``fairslot edge-config`` options that render ``edge`` (written into the file's header)."""
    words = ["--listen", edge.listen, "--upstream", ",".join(edge.upstreams)]
    if edge.tls_cert is not None and edge.tls_key is not None:
        words += ["--tls-cert", str(edge.tls_cert), "--tls-key", str(edge.tls_key)]
    words += ["--static-root", str(edge.static_root)]
    return " ".join(words)


def _kib(size: int) -> str:
    return f"{size / 1024:g}"


def render(edge: EdgeSettings) -> str:
    """The complete nginx configuration (runnable as ``nginx -p DIR -c FILE``)."""
    source = resources.files("app.http").joinpath("edge_nginx.conf.j2").read_text(encoding="utf-8")
    template = jinja2.Environment(  # noqa: S701 (a configuration file, not HTML)
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True
    ).from_string(source)
    release_bytes = LARGER_BODIES["/api/v1/releases"]
    return template.render(
        command=command_line(edge),
        listen=edge.listen,
        upstreams=edge.upstreams,
        tls=edge.tls,
        tls_cert=edge.tls_cert,
        tls_key=edge.tls_key,
        static_root=edge.static_root,
        body_kib=_kib(edge.max_body_bytes),
        body_bytes=edge.max_body_bytes,
        release_body_kib=_kib(release_bytes),
        release_body_bytes=release_bytes,
        intake=INTAKE,
        codes=CODES,
        general=GENERAL,
        zone_size=ZONE_SIZE,
        header_timeout=HEADER_TIMEOUT,
        body_timeout=BODY_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        intake_api=_INTAKE_PATH,
        intake_page=_WEB_INTAKE_PATH,
    )
