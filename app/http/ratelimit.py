"""Rate limits with the ``limits`` library, checked in ASGI middleware before any body or database work.

Keys and default budgets (a 429 is problem+json with ``Retry-After``):

- every request, per client address: ``PER_ADDRESS`` (the address honours ``X-Forwarded-For`` only from
  ``FAIRSLOT_TRUSTED_PROXIES``, applied by uvicorn's own proxy-headers middleware);
- writes (POST, DELETE), per client address: ``WRITES_PER_ADDRESS``;
- intake, per identity (the keyed digest of the document, computed from the body): ``INTAKE_PER_IDENTITY``,
  so a bot replaying one person from many addresses is capped too;
- intake, for everyone together: ``FAIRSLOT_INTAKE_CEILING_PER_SECOND``, a global ceiling that keeps the
  service up for everyone during a flood; only well-formed submissions (a body that names an identity)
  count against it, so a flood of garbage cannot shut the door on real applicants;
- anonymous online intake, per **address block** (the /24 of an IPv4 address, the /56 of an IPv6 one):
  ``FAIRSLOT_UNVERIFIED_PER_BLOCK`` (default 240 an hour and 2,000 a day). These submissions are the ones
  that start unverified; the block budget is checked *before* the global ceiling, and a submission it
  refuses does not count against the ceiling, so a flood of fake entries from a few blocks spends its own
  budget, not the ceiling real applicants share. The block sizes and the numbers are sized so that a mobile
  operator's carrier-grade NAT (thousands of subscribers behind one /24) is not throttled at the busiest
  hour of a national intake (docs/operators/limits-and-timeouts.md, "Budgets per address block"). Within
  any second a block also has a tenth of the ceiling at most (``BLOCKS_TO_FILL_THE_CEILING``): a burst
  from one block, as a flood starts, cannot take the whole second's ceiling from everyone else;
- intake by a staff key (an agent at a counter, a partner organisation), per key: ``STAFF_INTAKE_PER_KEY``
  and ``STAFF_INTAKE_PER_KEY_DAY``, on the API (the bearer key) and on the counter and partner pages (the
  account or key behind the browser's staff session, looked up on the server in a worker thread): a partner
  key is not an unlimited intake channel, and a key filing at a reseller's pace is stopped and shows up in
  the 429 counts;
- staff sign-in (the sign-in form, invitation pages, the identity provider's callback), per client address:
  ``SIGN_IN_PER_ADDRESS``, on top of each account's own lock after five failures: password spraying across
  many accounts from one address is slowed, while a prefecture's agents behind one address still sign in;
- wrong access codes, per request id *and address*, and per address: after ``FAILURES_PER_REQUEST`` wrong
  codes for one request from one address (or ``FAILURES_PER_ADDRESS`` from one address) further attempts
  get 429 until the window ends, so guessing an 80-bit code (480 tries a day per request against 2^80
  codes) is hopeless and even trying is slow. Only a code that does not open its request counts
  (``app.services.requests.code_failures``), never the owner's own 404s, and since the per-request budget is per
  address, nobody elsewhere can lock an owner out of their request.

A body the limiter cannot read (malformed, or JSON nested past Python's recursion limit) still counts
against the per-address budgets, and the route answers its 400 or 422.

Storage is Redis when ``FAIRSLOT_REDIS_URL`` is set (shared by every process), in memory otherwise
(``fairslot serve`` then refuses several workers: their budgets would not add up). All calls are async: a
rejection never blocks the event loop nor touches the database.

When the limiter cannot decide, it says so rather than guess. Redis is asked in **rounds** (one request's
calls, gathered in a task group), at most ``rounds`` of them at once per process, the admission bound
(``FAIRSLOT_MAX_REQUESTS_IN_FLIGHT``), over a connection pool sized to that (``CALLS_PER_ROUND`` connections
a round), so a burst queues for a round instead of exhausting the pool. A request that waits
``ROUND_TIMEOUT`` for a round, or whose round overruns ``ROUND_TIMEOUT`` with no storage error (a saturated
process), is **busy**; a round whose storage fails or hangs (every call bounded by the socket timeouts
``STORAGE_TIMEOUT``) means the storage is **unavailable**, and a circuit breaker stops asking it for
``BREAKER_SECONDS``, logged once per period without a traceback per request. While the breaker is open the
same budgets are counted in each process's memory: N processes then allow up to N times a budget, which
still holds a flood (a Redis slowed down by a saturated machine must not switch the limits off just when a
flood saturates it). Undecided (busy, or even the memory failing), anonymous online intake (the submissions
that start unverified, the ones a flood is made of) **fails closed**: ``503 busy_retry`` or ``503
unavailable`` with ``Retry-After``, nothing done; every other request (reads, an applicant's own request,
staff, whose filings are verified by their channel) fails open, as an outage of the limiter must not become
an outage of the service. A cancellation that is not the request's own (a call of
the round cancelled by a timeout racing another) is a failed round, never an error of the application; the
request's own cancellation (its timeout) goes on to whoever cancelled it.
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qs

import anyio
from limits import RateLimitItem, parse, parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import MaxConnectionsError as RedisMaxConnections
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.domain.access_codes import canonical_entry
from app.domain.errors import BusyRetry, FairslotError, RateLimited, Unavailable
from app.domain.identity import identity_key
from app.http.middleware import send_error
from app.services.requests import code_failures

log = logging.getLogger("fairslot.ratelimit")
T = TypeVar("T")

#: Redis's socket timeouts, and the longest a round of limiter calls to Redis may take before it is given up
#: (fail open): a Redis that accepts connections but never answers costs one request this much, once per
#: breaker period. The in-memory storage cannot hang and is never timed (a busy event loop must not look
#: like a dead storage and switch the limits off in the middle of a flood).
STORAGE_TIMEOUT = 0.25
ROUND_TIMEOUT = 0.5
BREAKER_SECONDS = 30.0
#: Redis calls one round makes at once at most (a request's own budgets; the ceiling comes after them).
CALLS_PER_ROUND = 8
PER_ADDRESS = parse("600/minute")
WRITES_PER_ADDRESS = parse("60/minute")
INTAKE_PER_IDENTITY = parse("10/hour")
#: A counter files a person every few minutes; an association a few dozen a day. Twice that is the budget.
STAFF_INTAKE_PER_KEY = parse("60/hour")
STAFF_INTAKE_PER_KEY_DAY = parse("400/day")
#: Staff sign-in attempts per client address (a prefecture's agents may share one address).
SIGN_IN_PER_ADDRESS = parse("60/15minutes")
FAILURES_PER_REQUEST = parse("5/15minutes")
FAILURES_PER_ADDRESS = parse("30/hour")
_REQUEST_ROUTE = re.compile(r"^/api/v1/requests/([^/]+)(?:/.*)?$")
_INTAKE_PATH = "/api/v1/requests"
#: The web pages' equivalents: the form to apply, and the status forms carrying ``request_id`` and a code.
_WEB_INTAKE_PATH = "/apply"
#: The staff intake forms (counter and partner screens), budgeted per signed-in key as well.
_WEB_STAFF_INTAKE_PATHS = frozenset({"/counter/requests", "/partner/requests"})
_WEB_INTAKE_PATHS = frozenset({_WEB_INTAKE_PATH}) | _WEB_STAFF_INTAKE_PATHS
#: The keys of the global intake ceiling, the budget everyone shares.
_CEILING = ("intake", "all")
_WEB_STATUS_PATHS = frozenset(
    {
        "/status",
        "/status/accept",
        "/status/decline",
        "/status/give-back",
        "/status/booking.ics",
        "/status/cancel",
        "/status/print",
        "/status/receipt",
        "/status/phone-code",
        "/status/phone-verification",
    }
)


@dataclass(frozen=True)
class Verdict:
    """Refused, and for how long."""

    retry_after: int
    scope: str


@dataclass(frozen=True)
class Undecided:
    """The limiter could not decide: ``busy`` (no round free in time) or ``unavailable`` (the storage
    failed, hung, or is skipped by the breaker); ``retry_after`` seconds is when to try again."""

    reason: Literal["busy", "unavailable"]
    retry_after: int


class _StrayCancellation(Exception):
    """A call of the round was cancelled while the request itself was not."""


#: Within a second, one address block may take 1/N of the global intake ceiling: N blocks to fill it.
BLOCKS_TO_FILL_THE_CEILING = 10


class Limiter:
    """The budgets above over one storage."""

    def __init__(
        self, storage_uri: str, intake_ceiling: int, *, unverified_per_block: str, rounds: int = 24
    ) -> None:
        options: dict[str, Any] = {}
        #: Whether the storage is remote (Redis), so bounded in time, in rounds, and behind the breaker.
        self.remote = storage_uri.startswith("async+redis")
        if self.remote:
            options = {"implementation": "redispy", "connection_pool": _pool(storage_uri, rounds)}
        storage = storage_from_string(storage_uri, **options)
        assert isinstance(storage, Storage), "an async+ storage URI is needed"
        self.storage = storage
        self.strategy = FixedWindowRateLimiter(self.storage)
        #: While the remote storage is skipped: the same budgets, counted in this process alone.
        local = storage_from_string("async+memory://")
        assert isinstance(local, Storage)
        self.local_strategy = FixedWindowRateLimiter(local) if self.remote else self.strategy
        self.intake_ceiling: RateLimitItem = parse(f"{intake_ceiling}/second")
        self.per_block: list[RateLimitItem] = [
            parse(f"{max(1, intake_ceiling // BLOCKS_TO_FILL_THE_CEILING)}/second"),
            *parse_many(unverified_per_block),
        ]
        self.rounds = rounds
        self._spent_until: dict[str, float] = {}
        #: Until when the storage is skipped after a failure (monotonic time), the circuit breaker.
        self._open_until = 0.0
        self._logged_at = -math.inf
        self._slots: anyio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def breaker_open(self) -> bool:
        """Whether the storage failed lately and is being skipped (budgets are counted in memory meanwhile)."""
        return time.monotonic() < self._open_until

    def _round_slots(self) -> anyio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._slots is None or self._loop is not loop:  # a test client may start a new loop
            self._slots, self._loop = anyio.Semaphore(self.rounds), loop
        return self._slots

    async def guarded(self, work: Callable[[FixedWindowRateLimiter], Awaitable[T]]) -> T | Undecided:
        """Run one round of storage calls, ``work(strategy)``: its result; :class:`Undecided` ``busy`` when no
        round is free within :data:`ROUND_TIMEOUT` or the round overran with no storage error. When the
        breaker is open, or the round fails (which opens it for :data:`BREAKER_SECONDS`), the round runs on
        this process's memory instead; ``unavailable`` only if even that fails."""
        if not self.remote:
            return await work(self.strategy)
        if self.breaker_open:
            return await self._locally(work)
        slots = self._round_slots()
        acquired = False
        with anyio.move_on_after(ROUND_TIMEOUT):
            await slots.acquire()
            acquired = True
        if not acquired:
            return Undecided("busy", 1)
        try:
            return await self._round(work)
        finally:
            slots.release()

    async def _round(self, work: Callable[[FixedWindowRateLimiter], Awaitable[T]]) -> T | Undecided:
        try:
            with anyio.fail_after(ROUND_TIMEOUT):
                return await work(self.strategy)
        except (Exception, asyncio.CancelledError, BaseExceptionGroup) as exc:
            failure: Exception
            if isinstance(exc, Exception):
                failure = exc
            else:  # a cancellation, alone or among the round's calls
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the request's own (its timeout): it goes on to the scope that asked for it
                failure = _StrayCancellation("a call of the round was cancelled, not the request")
            if _pool_exhausted(failure) or type(failure) is TimeoutError:
                # A burst (no pooled connection free in time, or the round overran with no storage error:
                # every call is bounded by Redis's own socket timeout), not a failing storage: no breaker.
                return Undecided("busy", 1)
            self._trip(failure)
            return await self._locally(work)

    async def _locally(self, work: Callable[[FixedWindowRateLimiter], Awaitable[T]]) -> T | Undecided:
        """The round on this process's memory (the storage is skipped)."""
        try:
            return await work(self.local_strategy)
        except Exception:
            return Undecided("unavailable", max(1, math.ceil(self._open_until - time.monotonic())))

    def _trip(self, exc: Exception) -> None:
        """Open the breaker after a failed round, logging once per period (no traceback per request)."""
        now = time.monotonic()
        self._open_until = now + BREAKER_SECONDS
        if now - self._logged_at >= BREAKER_SECONDS:
            self._logged_at = now
            log.warning(
                "rate limiter storage unavailable (%s: %s); budgets counted in this process for %g s",
                type(exc).__name__,
                exc,
                BREAKER_SECONDS,
            )

    def _known_spent(self, item: RateLimitItem, keys: tuple[str, ...]) -> Verdict | None:
        # A budget seen spent stays spent until its window resets: answer from memory, with no storage call,
        # so a flood costs this process almost nothing. (Other processes learn it from the storage once.)
        until = self._spent_until.get(item.key_for(*keys))
        if until is None:
            return None
        left = until - time.time()
        if left <= 0:
            self._spent_until.pop(item.key_for(*keys), None)
            return None
        return Verdict(max(1, math.ceil(left)), keys[0])

    async def _spent(
        self, strategy: FixedWindowRateLimiter, item: RateLimitItem, keys: tuple[str, ...]
    ) -> Verdict:
        stats = await strategy.get_window_stats(item, *keys)
        if len(self._spent_until) > 100_000:
            self._spent_until.clear()
        self._spent_until[item.key_for(*keys)] = stats.reset_time
        return Verdict(max(1, math.ceil(stats.reset_time - time.time())), keys[0])

    async def _hit(self, strategy: FixedWindowRateLimiter, item: RateLimitItem, *keys: str) -> Verdict | None:
        known = self._known_spent(item, keys)
        if known is not None:
            return known
        if await strategy.hit(item, *keys):
            return None
        return await self._spent(strategy, item, keys)

    async def _exhausted(
        self, strategy: FixedWindowRateLimiter, item: RateLimitItem, *keys: str
    ) -> Verdict | None:
        known = self._known_spent(item, keys)
        if known is not None:
            return known
        if await strategy.test(item, *keys):
            return None
        return await self._spent(strategy, item, keys)

    def _budgets(
        self,
        method: str,
        path: str,
        address: str,
        request_id: str | None,
        identity: str | None,
        filer: str | None = None,
    ) -> list[tuple[RateLimitItem, tuple[str, ...], bool]]:
        """The budgets this request counts against: (limit, keys, counts) where ``counts`` is False for the
        wrong-code budgets, which a request only tests (a wrong code is counted after the answer)."""
        budgets: list[tuple[RateLimitItem, tuple[str, ...], bool]] = [
            (PER_ADDRESS, ("address", address), True)
        ]
        if method in ("POST", "DELETE", "PUT", "PATCH"):
            budgets.append((WRITES_PER_ADDRESS, ("writes", address), True))
        if _is_intake(method, path):
            if filer is None:
                # Anonymous online intake: its address block's own budget (spent before the ceiling).
                block = address_block(address)
                for item in self.per_block:
                    budgets.append((item, ("unverified-block", block), identity is not None))
            # Tested by every submission, counted by well-formed ones only (those naming an identity).
            budgets.append((self.intake_ceiling, _CEILING, identity is not None))
        if _is_sign_in(method, path):
            budgets.append((SIGN_IN_PER_ADDRESS, ("sign-in", address), True))
        if filer is not None:
            budgets.append((STAFF_INTAKE_PER_KEY, ("staff-intake", filer), True))
            budgets.append((STAFF_INTAKE_PER_KEY_DAY, ("staff-intake-day", filer), True))
        if identity is not None:
            budgets.append((INTAKE_PER_IDENTITY, ("identity", identity), True))
        if request_id is not None:
            budgets.append((FAILURES_PER_REQUEST, ("code-failures", request_id, address), False))
            budgets.append((FAILURES_PER_ADDRESS, ("code-failures-from", address), False))
        return budgets

    def known(
        self, method: str, path: str, address: str, request_id: str | None, filer: str | None = None
    ) -> Verdict | None:
        """A verdict from this process's memory alone (no storage call, no body read): floods stop here."""
        for item, keys, _counts in self._budgets(method, path, address, request_id, None, filer):
            verdict = self._known_spent(item, keys)
            if verdict is not None:
                return verdict
        return None

    async def before(
        self,
        method: str,
        path: str,
        address: str,
        request_id: str | None,
        identity: str | None = None,
        filer: str | None = None,
        strategy: FixedWindowRateLimiter | None = None,
    ) -> Verdict | None:
        """Count this request against its budgets, all in one round of storage calls; a verdict if one is spent."""
        strategy = strategy or self.strategy
        budgets = self._budgets(method, path, address, request_id, identity, filer)
        for item, keys, _counts in budgets:
            known = self._known_spent(item, keys)
            if known is not None:
                return known
        # The global ceiling last: a submission its own budgets refuse (its address, its block, its
        # identity) never spends the ceiling everyone shares.
        ceiling = [b for b in budgets if b[1] == _CEILING]
        own = [b for b in budgets if b[1] != _CEILING]
        for group in (own, ceiling):
            verdicts = await _together(
                [
                    partial(self._hit, strategy, item, *keys)
                    if counts
                    else partial(self._exhausted, strategy, item, *keys)
                    for item, keys, counts in group
                ]
            )
            verdict = next((v for v in verdicts if v is not None), None)
            if verdict is not None:
                return verdict
        return None

    async def failed_code(
        self, request_id: str, address: str, strategy: FixedWindowRateLimiter | None = None
    ) -> None:
        """Record a wrong access code."""
        strategy = strategy or self.strategy
        await strategy.hit(FAILURES_PER_REQUEST, "code-failures", request_id, address)
        await strategy.hit(FAILURES_PER_ADDRESS, "code-failures-from", address)


async def _together(calls: list[Callable[[], Awaitable[T]]]) -> list[T | None]:
    """Run the calls at once in a task group (a failure cancels the others and is raised; nothing is left
    running behind the round, as ``asyncio.gather`` would leave it)."""
    results: list[T | None] = [None] * len(calls)

    async def run(index: int) -> None:
        results[index] = await calls[index]()

    async with anyio.create_task_group() as group:
        for index in range(len(calls)):
            group.start_soon(run, index)
    return results


def _pool_exhausted(exc: BaseException) -> bool:
    """Whether a round failed for want of a pooled connection (a burst), not because Redis failed."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_pool_exhausted(inner) for inner in exc.exceptions)
    return isinstance(exc, RedisMaxConnections) or (
        isinstance(exc, RedisConnectionError) and "No connection available" in str(exc)
    )


def _pool(storage_uri: str, rounds: int) -> Any:
    """Redis's connection pool, sized to the rounds a process runs at once; a call that finds no connection
    waits for one within the round's time instead of failing at once."""
    from redis.asyncio import BlockingConnectionPool

    url = storage_uri.removeprefix("async+").replace("redis+unix", "unix")
    return BlockingConnectionPool.from_url(
        url,
        max_connections=rounds * CALLS_PER_ROUND,
        timeout=ROUND_TIMEOUT,
        socket_timeout=STORAGE_TIMEOUT,
        socket_connect_timeout=STORAGE_TIMEOUT,
    )


class RateLimitMiddleware:
    """Applies :class:`Limiter` to every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        pepper: bytes,
        staff_of_cookies: Callable[[dict[str, str]], str | None] | None = None,
        too_many_page: Callable[[Scope, int], bytes] | None = None,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.pepper = pepper
        #: Who files through a page request's staff session (``account-N``, ``key-N``), if anyone; blocking.
        self.staff_of_cookies = staff_of_cookies
        #: The page a person's browser gets instead of a 429 problem (in their language), given the wait.
        self.too_many_page = too_many_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = scope["client"][0] if scope.get("client") else "unknown"
        method, path = scope["method"], scope["path"]
        match = _REQUEST_ROUTE.match(path)
        request_id = _bucket(match.group(1)) if match else None
        filer = await self._filer(scope, path) if _is_intake(method, path) else None
        verdict = self.limiter.known(method, path, address, request_id, filer)
        if verdict is None:
            identity: str | None = None
            if _is_intake(method, path) or (method == "POST" and path in _WEB_STATUS_PATHS):
                receive, body = await _buffered(receive)
                if path == _INTAKE_PATH:
                    identity = _identity_digest(_json_identity(body), self.pepper)
                else:
                    form = _form_fields(body)
                    if path in _WEB_INTAKE_PATHS:
                        identity = _identity_digest(form, self.pepper)
                    else:
                        request_id = _bucket(form.get("request_id") or "") or None
            decided = await self.limiter.guarded(
                lambda strategy: self.limiter.before(
                    method, path, address, request_id, identity, filer, strategy
                )
            )
            if isinstance(decided, Undecided):
                if _is_intake(method, path) and filer is None:
                    # Anonymous online intake is what floods are made of: undecided, it waits.
                    await _undecided(send, decided, page=not path.startswith("/api/"))
                    return
                decided = None  # everything else passes: the limiter's outage is not the service's
            verdict = decided
        if verdict is not None:
            page = None
            if not path.startswith("/api/") and self.too_many_page is not None:
                page = self.too_many_page(scope, verdict.retry_after)
            await _too_many(send, verdict, page=not path.startswith("/api/"), body=page)
            return
        if request_id is None:
            await self.app(scope, receive, send)
            return
        with code_failures.watching() as failures:
            await self.app(scope, receive, send)
        for failed in dict.fromkeys(_bucket(f) for f in failures):
            await self.limiter.guarded(partial(self.limiter.failed_code, failed, address))

    async def _filer(self, scope: Scope, path: str) -> str | None:
        """Which staff key files this intake, for its budget: the bearer key (API), the signed-in key (pages)."""
        headers = dict(scope.get("headers") or [])
        if path == _INTAKE_PATH:
            scheme, _, key = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and key.strip().startswith("fsk_"):
                return hashlib.sha256(key.strip().encode()).hexdigest()[:32]
            return None
        if path in _WEB_STAFF_INTAKE_PATHS and self.staff_of_cookies is not None:
            cookies = cookie_parser(headers.get(b"cookie", b"").decode("latin-1"))
            return await anyio.to_thread.run_sync(self.staff_of_cookies, cookies)
        return None


async def _too_many(send: Send, verdict: Verdict, *, page: bool = False, body: bytes | None = None) -> None:
    metrics.RATE_LIMITED.labels(scope=verdict.scope).inc()
    retry_after = [(b"retry-after", str(verdict.retry_after).encode())]
    if not page:
        error = RateLimited(f"too many requests ({verdict.scope}); retry after {verdict.retry_after} s")
        await send_error(send, error, retry_after)
        return
    # A person on a web page: the page in their language (``body``), or else a short one in French and
    # English (no user data in either).
    body = (
        body
        or (
            "<!doctype html><html lang=fr><meta charset=utf-8><title>Trop de demandes / Too many requests</title>"
            f"<h1>Trop de demandes</h1><p>Réessayez dans {verdict.retry_after} s.</p>"
            f"<h1 lang=en>Too many requests</h1><p lang=en>Try again in {verdict.retry_after} s.</p>"
        ).encode()
    )
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 429, "headers": headers + retry_after})
    await send({"type": "http.response.body", "body": body})


async def _undecided(send: Send, undecided: Undecided, *, page: bool = False) -> None:
    """``503 busy_retry`` or ``503 unavailable`` with ``Retry-After``: nothing was done, try again then."""
    retry_after = [(b"retry-after", str(undecided.retry_after).encode())]
    if not page:
        detail = "nothing was done; retry after " + str(undecided.retry_after) + " s"
        error: FairslotError = (
            BusyRetry("the service is taking as many new requests as it can; " + detail)
            if undecided.reason == "busy"
            else Unavailable("new requests cannot be checked against their limits right now; " + detail)
        )
        await send_error(send, error, retry_after)
        return
    body = (
        "<!doctype html><html lang=fr><meta charset=utf-8><title>Service occupé / Service busy</title>"
        f"<h1>Service occupé</h1><p>Votre demande n'a pas été envoyée. Renvoyez-la dans "
        f"{undecided.retry_after} s.</p><h1 lang=en>Service busy</h1><p lang=en>Your request was not sent. "
        f"Send it again in {undecided.retry_after} s.</p>"
    ).encode()
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 503, "headers": headers + retry_after})
    await send({"type": "http.response.body", "body": body})


async def _buffered(receive: Receive) -> tuple[Receive, bytes]:
    """Read the body once and hand it on unchanged."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay, body


def _json_identity(body: bytes) -> dict[str, str]:
    try:
        identity = json.loads(body)["identity"]
        return {
            "document_number": str(identity["document_number"]),
            "birth_date": str(identity["birth_date"]),
        }
    except (ValueError, KeyError, TypeError, RecursionError):  # nested past the recursion limit: malformed
        return {}


def _form_fields(body: bytes) -> dict[str, str]:
    try:
        return {k: v[0] for k, v in parse_qs(body.decode("utf-8"), max_num_fields=200).items()}
    except (ValueError, UnicodeDecodeError):
        return {}


def _identity_digest(fields: dict[str, str], pepper: bytes) -> str | None:
    """The identity digest of a submission, or None when it is not well formed (validation refuses it)."""
    try:
        return identity_key(pepper, fields["document_number"], date.fromisoformat(fields["birth_date"]))
    except (ValueError, KeyError, TypeError):
        return None


def _bucket(reference: str) -> str:
    """One wrong-code budget per request however its reference is typed (an entry reference in any case,
    with or without dashes, counts as one)."""
    return canonical_entry(reference) or reference.strip().lower()


#: The prefix lengths of an address block: one household, office or NAT pool, not one device.
IPV4_BLOCK = 24
IPV6_BLOCK = 56


def _is_sign_in(method: str, path: str) -> bool:
    """Whether a request tries to sign a member of staff in (a form, an invitation, a provider's callback)."""
    if path == "/staff/oidc/callback":
        return True
    return method == "POST" and (
        path in ("/staff/sign-in", "/staff/oidc/start") or path.startswith("/staff/invitations/")
    )


def _is_intake(method: str, path: str) -> bool:
    """Whether a request submits a request for an appointment (API or page, online or by staff)."""
    return method == "POST" and (path == _INTAKE_PATH or path in _WEB_INTAKE_PATHS)


def address_block(address: str) -> str:
    """The address block a client address belongs to (``203.0.113.0/24``, ``2001:db8:0:100::/56``); a
    value that is not an IP address (a test client, a Unix socket) is its own block."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_BLOCK if ip.version == 4 else IPV6_BLOCK
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def storage_uri(redis_url: str | None) -> str:
    """The ``limits`` storage for the settings: Redis when configured, memory otherwise."""
    return f"async+{redis_url}" if redis_url else "async+memory://"
