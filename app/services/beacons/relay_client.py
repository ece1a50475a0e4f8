"""Asking one drand relay for a round, within one deadline for the whole answer.

An HTTP client's timeouts bound each network operation: a relay that trickles its answer a byte at a time,
each byte inside the read timeout, would hold the caller for as long as it likes (the scheduler's pass, a
planner's "draw now" and the request slot it holds). Here every operation of the exchange (connecting, the
TLS handshake, sending, every read of the status line, the headers and the body) is given only what is left
of one deadline, through httpcore's network backend interface, so a relay costs at most
``FAIRSLOT_BEACON_TIMEOUT_SECONDS`` however it answers; and an answer larger than a round ever is refused.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpcore

#: A round is a few hundred bytes of JSON; anything much larger is not a relay's answer.
MAX_ANSWER_BYTES = 64 * 1024

#: What a failed exchange raises (its type's name is what the release shows).
FAILURES: tuple[type[BaseException], ...] = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.UnsupportedProtocol,
    ssl.SSLError,
    OSError,
)


class DeadlinePassed(httpcore.TimeoutException):
    """The relay did not answer whole within the deadline."""


class TooLarge(httpcore.ProtocolError):
    """The relay's answer is larger than any round."""


@dataclass
class Answer:
    """A relay's whole answer."""

    status: int
    body: bytes


class _Clock:
    def __init__(self, seconds: float) -> None:
        self.until = time.monotonic() + seconds

    def left(self, timeout: float | None) -> float:
        remaining = self.until - time.monotonic()
        if remaining <= 0:
            raise DeadlinePassed("the relay did not answer within the deadline")
        return remaining if timeout is None else min(timeout, remaining)


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream, clock: _Clock) -> None:
        self._inner = inner
        self._clock = clock

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._clock.left(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._clock.left(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        upgraded = self._inner.start_tls(ssl_context, server_hostname, self._clock.left(timeout))
        return _Stream(upgraded, self._clock)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, clock: _Clock) -> None:
        self._inner = httpcore.SyncBackend()
        self._clock = clock

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, self._clock.left(timeout), local_address, socket_options)
        return _Stream(stream, self._clock)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.connect_unix_socket(path, self._clock.left(timeout), socket_options), self._clock
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(min(seconds, self._clock.left(None)))


def get(url: str, *, deadline: float) -> Answer:
    """``GET url`` (JSON asked), the whole answer within ``deadline`` seconds; raises one of
    :data:`FAILURES` otherwise (no redirect is followed)."""
    clock = _Clock(deadline)
    with (
        httpcore.ConnectionPool(network_backend=_Backend(clock), retries=0) as pool,
        pool.stream("GET", url, headers={"Accept": "application/json"}) as response,
    ):
        body = bytearray()
        for chunk in response.iter_stream():
            body.extend(chunk)
            if len(body) > MAX_ANSWER_BYTES:
                raise TooLarge(f"the answer is over {MAX_ANSWER_BYTES} bytes")
        return Answer(response.status, bytes(body))
